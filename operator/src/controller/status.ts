import type { V1Deployment } from '@kubernetes/client-node';
import type { Condition, ForecastStatus, QueueStatus, WorkerPool, WorkerPoolStatus } from '../api/workerpool-schema.ts';
import { ConditionType, Reason, mergeConditions, type ConditionInput } from './conditions.ts';

// The status is rebuilt from the world on every reconcile (the Deployment, the decision, the
// readings) rather than edited from the previous status; only lastTransitionTime, the
// last-scale fields and the learned arrival pattern carry over.

export interface ObservedWorld {
  /** The Deployment the pool scales, or undefined when it does not exist. */
  deployment: V1Deployment | undefined;
  desiredReplicas: number;
  selector: string | undefined;
  /** A problem that stops progress until someone changes something (kstatus Stalled). */
  blocker?: { reason: Reason; message: string };
  queue?: QueueStatus;
  /** The learned arrival pattern to keep; without one, the one status holds is carried over. */
  forecast?: ForecastStatus;
  /** Conditions that come from the queue readings (SignalsAvailable, IdleFirstScaleDown). */
  conditions: ConditionInput[];
  lastScale?: { time: string; reason: string };
  /**
   * The engine holds the size by a rule rather than by load: spec.replicas (a pin, which beats
   * spec.paused) or spec.paused. Ready reports the rule the decision followed, not the spec.
   */
  hold?: 'Pinned' | 'Paused' | undefined;
  /** Why a drained scale-down waits (drained-scale-down.ts), while it does. */
  drainHold?: string | undefined;
}

function rolloutState(
  pool: WorkerPool,
  world: ObservedWorld,
): { ready: ConditionInput; reconciling: ConditionInput | undefined } {
  const deployment = world.deployment;
  const status = deployment?.status;
  const specReplicas = deployment?.spec?.replicas ?? 0;
  const progressing = status?.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    const message =
      `Deployment ${deployment?.metadata?.name} exceeded its progress deadline: ${progressing.message ?? ''}`.trim();
    return {
      ready: { type: ConditionType.Ready, status: 'False', reason: Reason.ProgressDeadlineExceeded, message },
      reconciling: undefined,
    };
  }
  const deploymentGeneration = deployment?.metadata?.generation ?? 0;
  const caughtUp = (status?.observedGeneration ?? 0) >= deploymentGeneration;
  const updated = status?.updatedReplicas ?? 0;
  const available = status?.availableReplicas ?? 0;
  const total = status?.replicas ?? 0;
  if (!caughtUp || updated < specReplicas || total > updated) {
    const message = `rolling out: ${updated} of ${specReplicas} replicas updated`;
    return {
      ready: { type: ConditionType.Ready, status: 'False', reason: Reason.RollingOut, message },
      reconciling: { type: ConditionType.Reconciling, status: 'True', reason: Reason.RollingOut, message },
    };
  }
  if (available < specReplicas || specReplicas !== world.desiredReplicas) {
    const message = `scaling to ${world.desiredReplicas} replicas: ${available} available`;
    return {
      ready: { type: ConditionType.Ready, status: 'False', reason: Reason.Scaling, message },
      reconciling: { type: ConditionType.Reconciling, status: 'True', reason: Reason.Scaling, message },
    };
  }
  if (world.hold === 'Pinned') {
    const ignored = pool.spec.paused ? ' (spec.paused has no effect while spec.replicas is set)' : '';
    return {
      ready: {
        type: ConditionType.Ready,
        status: 'True',
        reason: Reason.Pinned,
        message: `pinned to ${specReplicas} replicas by spec.replicas${ignored}`,
      },
      reconciling: undefined,
    };
  }
  if (world.hold === 'Paused') {
    return {
      ready: {
        type: ConditionType.Ready,
        status: 'True',
        reason: Reason.Paused,
        message: `paused at ${specReplicas} replicas`,
      },
      reconciling: undefined,
    };
  }
  if (specReplicas === 0) {
    return {
      ready: { type: ConditionType.Ready, status: 'True', reason: Reason.ScaledToZero, message: 'no replicas needed' },
      reconciling: undefined,
    };
  }
  return {
    ready: {
      type: ConditionType.Ready,
      status: 'True',
      reason: Reason.Available,
      message: `${available} of ${specReplicas} replicas available`,
    },
    reconciling: undefined,
  };
}

export function buildStatus(pool: WorkerPool, world: ObservedWorld, now: Date): WorkerPoolStatus {
  const generation = pool.metadata.generation ?? 0;
  const inputs: ConditionInput[] = [];
  if (world.blocker) {
    inputs.push({
      type: ConditionType.Ready,
      status: 'False',
      reason: world.blocker.reason,
      message: world.blocker.message,
    });
    inputs.push({
      type: ConditionType.Stalled,
      status: 'True',
      reason: world.blocker.reason,
      message: world.blocker.message,
    });
  } else {
    const { ready, reconciling } = rolloutState(pool, world);
    inputs.push(ready);
    // A held drained scale-down names the pod that holds it, even mid-rollout: a new pod that
    // never becomes ready is exactly what holds it, and what a person must go and look at.
    if (world.drainHold !== undefined && ready.reason !== Reason.ProgressDeadlineExceeded)
      inputs.push({
        type: ConditionType.Reconciling,
        status: 'True',
        reason: Reason.DrainedScaleDownHeld,
        message: `drained pods wait to be removed: ${world.drainHold}`,
      });
    else if (reconciling) inputs.push(reconciling);
    if (ready.reason === Reason.ProgressDeadlineExceeded)
      inputs.push({ ...ready, type: ConditionType.Stalled, status: 'True' });
  }
  inputs.push(...world.conditions);
  const previous = pool.status?.conditions;
  const status: WorkerPoolStatus = {
    observedGeneration: generation,
    replicas: world.deployment?.status?.replicas ?? 0,
    readyReplicas: world.deployment?.status?.readyReplicas ?? 0,
    desiredReplicas: world.desiredReplicas,
    conditions: mergeConditions(previous, inputs, generation, now),
  };
  if (world.selector !== undefined) status.selector = world.selector;
  if (world.deployment?.metadata?.name) status.deploymentName = world.deployment.metadata.name;
  if (world.queue) status.queue = world.queue;
  // The model outlives this operator: it is what the next one restores.
  const forecast = world.forecast ?? pool.status?.forecast;
  if (forecast) status.forecast = forecast;
  const lastScale =
    world.lastScale ??
    (pool.status?.lastScaleTime
      ? { time: pool.status.lastScaleTime, reason: pool.status.lastScaleReason ?? '' }
      : undefined);
  if (lastScale) {
    status.lastScaleTime = lastScale.time;
    status.lastScaleReason = lastScale.reason;
  }
  return status;
}

/** Whether writing `next` would change what the API server holds. */
export function statusChanged(previous: WorkerPoolStatus | undefined, next: WorkerPoolStatus): boolean {
  return JSON.stringify(normalize(previous)) !== JSON.stringify(normalize(next));
}

function normalize(status: WorkerPoolStatus | undefined): unknown {
  if (!status) return undefined;
  const conditions = [...(status.conditions ?? [])].sort((a: Condition, b: Condition) => a.type.localeCompare(b.type));
  const sortKeys = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sortKeys);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>)
          .filter(([, v]) => v !== undefined)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, sortKeys(v)]),
      );
    }
    return value;
  };
  return sortKeys({ ...status, conditions });
}
