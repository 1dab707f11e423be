import type { V1EnvVar } from '@kubernetes/client-node';
import { SETTINGS, MAX_DRAIN_TIMEOUT_SECONDS, type SettingSource } from '@workerpool/worker-runtime/config';
import type { WorkerPool } from '../api/workerpool-schema.ts';

// What the operator tells worker-runtime pods about their queue (native format only: Sidekiq
// and BullMQ workers are configured by their own teams). Variable names come from the runtime's
// own settings table, so a rename there cannot leave pods silently unconfigured. A password
// goes in as a reference to its Secret, never as a value.

const DRAIN_MARGIN_SECONDS = 5;
const DEFAULT_GRACE_SECONDS = 30;

/** The variable the runtime reads first for a setting. */
const envName = (setting: SettingSource): string => {
  const [name] = setting.env;
  if (name === undefined)
    throw new Error(`worker-runtime setting --${setting.flag ?? '?'} has no environment variable`);
  return name;
};

/** Drain finishes before the kubelet's SIGKILL, within what the runtime accepts. */
export function drainTimeoutSeconds(pool: WorkerPool): number {
  const grace = pool.spec.template?.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
  return Math.min(MAX_DRAIN_TIMEOUT_SECONDS, Math.max(1, grace - DRAIN_MARGIN_SECONDS));
}

export function nativeWorkerEnv(pool: WorkerPool): V1EnvVar[] {
  const queue = pool.spec.queue;
  if (queue.format !== 'native' || !queue.redis.url) return [];
  const env: V1EnvVar[] = [
    { name: envName(SETTINGS.redisUrl), value: queue.redis.url },
    { name: envName(SETTINGS.queues), value: queue.names.join(',') },
    { name: envName(SETTINGS.concurrency), value: String(pool.spec.scaling.concurrency) },
    { name: envName(SETTINGS.drainTimeout), value: String(drainTimeoutSeconds(pool)) },
    // Heartbeats carry the pod name, which idle-first scale-down matches to pods.
    { name: envName(SETTINGS.podName), valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  ];
  if (queue.keyPrefix) env.push({ name: envName(SETTINGS.keyPrefix), value: queue.keyPrefix });
  const password = queue.redis.passwordSecretRef;
  if (password)
    env.push({
      name: envName(SETTINGS.redisPassword),
      valueFrom: { secretKeyRef: { name: password.name, key: password.key } },
    });
  return env;
}
