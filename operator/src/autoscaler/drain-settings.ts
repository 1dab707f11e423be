import type { V1Container, V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { QueueFormat, WorkerPool } from '../api/workerpool-schema.ts';
import { ConditionType, Reason, type ConditionInput } from '../controller/conditions.ts';
import { SETTINGS } from '@workerpool/worker-runtime/config';
import { hasRemoteQuiet } from '../signals/index.ts';
import { drainTimeoutSeconds } from './worker-env.ts';

// How a pool's pods leave, from its spec and pod template: whether they are drained before
// delete and for how long at most, and whether the pod's grace period leaves its worker the time
// its own shutdown takes. Pure functions of what the informers hold.

/** Kubernetes' terminationGracePeriodSeconds when the pod spec leaves it out. */
export const DEFAULT_GRACE_PERIOD_SECONDS = 30;
/** Sidekiq's -t (shutdown timeout) default in 6.x to 8.x, and the worker runtime's drain timeout default. */
const DEFAULT_WORKER_SHUTDOWN_SECONDS = { sidekiq: 25, native: 25 } as const;
/** The runtime's drain timeout setting, as its own settings table names it. */
const NATIVE_DRAIN_ENV = SETTINGS.drainTimeout.env[0] ?? 'WORKERPOOL_DRAIN_TIMEOUT_SECONDS';
const NATIVE_DRAIN_FLAG = `--${SETTINGS.drainTimeout.flag ?? 'drain-timeout-seconds'}`;

export interface DrainSettings {
  /** Drain before delete applies: on in the spec, and the format has a remote quiet. */
  enabled: boolean;
  /** On in the spec (spec.drain.enabled, default true), whatever the format. */
  requested: boolean;
  deadlineSeconds: number;
}

/** The pod template the pool's pods run: its own, or the scaleTargetRef Deployment's. */
function templateOf(pool: WorkerPool, deployment: V1Deployment | undefined): V1PodTemplateSpec | undefined {
  return pool.spec.template ?? deployment?.spec?.template;
}

export function gracePeriodSeconds(pool: WorkerPool, deployment: V1Deployment | undefined): number {
  return templateOf(pool, deployment)?.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_SECONDS;
}

/**
 * `podAccess` false is the operator's --idle-first-scale-down=false, for clusters that grant it no
 * access to pods: drain before delete sets pod-deletion-cost too, so it is off as well.
 */
export function drainSettingsOf(
  pool: WorkerPool,
  deployment: V1Deployment | undefined,
  podAccess = true,
): DrainSettings {
  const requested = pool.spec.drain?.enabled !== false && podAccess;
  return {
    requested,
    enabled: requested && hasRemoteQuiet(pool.spec.queue.format),
    deadlineSeconds: pool.spec.drain?.deadlineSeconds ?? gracePeriodSeconds(pool, deployment),
  };
}

/** The value after `flag` in args (`-t 25`, `--timeout 25`, `--timeout=25`), when it is a number. */
function flagValue(args: readonly string[], flags: readonly string[]): number | undefined {
  for (const [i, arg] of args.entries()) {
    for (const flag of flags) {
      const value = arg === flag ? args[i + 1] : arg.startsWith(`${flag}=`) ? arg.slice(flag.length + 1) : undefined;
      if (value !== undefined && value !== '' && Number.isFinite(Number(value))) return Number(value);
    }
  }
  return undefined;
}

/**
 * How long the worker itself takes to shut down on SIGTERM at most, read from the first
 * container as the worker would read it: Sidekiq's -t / --timeout, the runtime's
 * --drain-timeout-seconds or WORKERPOOL_DRAIN_TIMEOUT_SECONDS; the default when not set. Undefined
 * for formats whose workers are not ours to read.
 */
export function workerShutdownSeconds(
  format: QueueFormat,
  container: V1Container | undefined,
  /** What the operator sets when the container does not (template-mode native pools: worker-env.ts). */
  operatorDrainSeconds?: number,
): { seconds: number; setting: string } | undefined {
  const args = [...(container?.command ?? []), ...(container?.args ?? [])];
  if (format === 'sidekiq') {
    const seconds = flagValue(args, ['-t', '--timeout']);
    return seconds === undefined
      ? { seconds: DEFAULT_WORKER_SHUTDOWN_SECONDS.sidekiq, setting: "Sidekiq's default -t" }
      : { seconds, setting: 'Sidekiq -t' };
  }
  if (format === 'native') {
    const flag = flagValue(args, [NATIVE_DRAIN_FLAG]);
    if (flag !== undefined) return { seconds: flag, setting: NATIVE_DRAIN_FLAG };
    const env = container?.env?.find((e) => e.name === NATIVE_DRAIN_ENV)?.value;
    if (env !== undefined && env !== '' && Number.isFinite(Number(env)))
      return { seconds: Number(env), setting: NATIVE_DRAIN_ENV };
    if (operatorDrainSeconds !== undefined)
      return { seconds: operatorDrainSeconds, setting: `${NATIVE_DRAIN_ENV}, set by the operator` };
    return { seconds: DEFAULT_WORKER_SHUTDOWN_SECONDS.native, setting: "the runtime's default drain timeout" };
  }
  return undefined;
}

/**
 * GracePeriod: a Warning (False) when the pod's terminationGracePeriodSeconds is shorter than the
 * drain deadline or than the worker's own shutdown timeout, naming both numbers: Kubernetes kills
 * the worker before it has finished what it was given time for.
 */
export function gracePeriodCondition(
  pool: WorkerPool,
  deployment: V1Deployment | undefined,
  podAccess = true,
): ConditionInput {
  const grace = gracePeriodSeconds(pool, deployment);
  const drain = drainSettingsOf(pool, deployment, podAccess);
  const shutdown = workerShutdownSeconds(
    pool.spec.queue.format,
    templateOf(pool, deployment)?.spec?.containers[0],
    pool.spec.template ? drainTimeoutSeconds(pool) : undefined,
  );
  const problems: string[] = [];
  if (drain.enabled && grace < drain.deadlineSeconds)
    problems.push(`shorter than the drain deadline of ${drain.deadlineSeconds}s (spec.drain.deadlineSeconds)`);
  if (shutdown !== undefined && grace < shutdown.seconds)
    problems.push(`shorter than the worker's shutdown timeout of ${shutdown.seconds}s (${shutdown.setting})`);
  if (problems.length > 0)
    return {
      type: ConditionType.GracePeriod,
      status: 'False',
      reason: Reason.GracePeriodTooShort,
      message: `terminationGracePeriodSeconds ${grace}s is ${problems.join(' and ')}: a job still running then is killed`,
    };
  return {
    type: ConditionType.GracePeriod,
    status: 'True',
    reason: Reason.GracePeriodSufficient,
    message: `terminationGracePeriodSeconds ${grace}s covers the worker's shutdown${drain.enabled ? ' and the drain deadline' : ''}`,
  };
}
