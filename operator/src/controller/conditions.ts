import type { Condition } from '../api/workerpool-schema.ts';

// Condition types and reasons are constants, so that tests, Argo CD's health script and the
// code agree on their spelling. Ready / Reconciling / Stalled follow kstatus, which Flux uses.

export const ConditionType = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
  SignalsAvailable: 'SignalsAvailable',
  /**
   * How scale-down spares running jobs: drain before delete (quiet the chosen pods, wait for busy
   * 0, then remove exactly those), or idle-first (pod-deletion-cost from per-pod busy counts).
   */
  IdleFirstScaleDown: 'IdleFirstScaleDown',
  /** Whether the pod's terminationGracePeriodSeconds covers the drain deadline and the worker's own shutdown. */
  GracePeriod: 'GracePeriod',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const Reason = {
  Available: 'Available',
  ScaledToZero: 'ScaledToZero',
  Paused: 'Paused',
  /** spec.replicas holds the size: autoscaling is off until it is removed. */
  Pinned: 'Pinned',
  RollingOut: 'RollingOut',
  Scaling: 'Scaling',
  Reconciled: 'Reconciled',
  ScaleTargetNotFound: 'ScaleTargetNotFound',
  /** Another WorkerPool or a HorizontalPodAutoscaler already drives the scaleTargetRef Deployment. */
  ScaleTargetClaimed: 'ScaleTargetClaimed',
  ProgressDeadlineExceeded: 'ProgressDeadlineExceeded',
  ApplyRejected: 'ApplyRejected',
  /** spec.template is larger than the operator keeps (packed-template.ts MAX_TEMPLATE_BYTES). */
  TemplateTooLarge: 'TemplateTooLarge',
  CredentialsUnavailable: 'CredentialsUnavailable',
  /** spec.queue.redis names a host the operator's --allowed-redis-endpoints does not allow. */
  EndpointNotAllowed: 'EndpointNotAllowed',
  SignalsRead: 'SignalsRead',
  SignalsReadFailed: 'SignalsReadFailed',
  SignalsPending: 'SignalsPending',
  BusyCountsReported: 'BusyCountsReported',
  BusyCountsUnavailable: 'BusyCountsUnavailable',
  IdleFirstDisabled: 'IdleFirstDisabled',
  /** Pods to remove are quieted through the queue system and removed once they run no job. */
  DrainBeforeDelete: 'DrainBeforeDelete',
  /**
   * Drained pods wait to be removed: lowering replicas now would let the ReplicaSet take another
   * pod first (one that is not scheduled, running and ready), which may be running jobs.
   */
  DrainedScaleDownHeld: 'DrainedScaleDownHeld',
  GracePeriodSufficient: 'GracePeriodSufficient',
  GracePeriodTooShort: 'GracePeriodTooShort',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export interface ConditionInput {
  type: ConditionType;
  status: Condition['status'];
  reason: Reason;
  message: string;
}

/**
 * Sets conditions for the given generation. lastTransitionTime moves only when the status flips,
 * as metav1 conditions require; reason and message may change without a transition.
 */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  next: readonly ConditionInput[],
  generation: number,
  now: Date,
): Condition[] {
  const byType = new Map((previous ?? []).map((condition) => [condition.type, condition]));
  return next.map((input) => {
    const before = byType.get(input.type);
    const lastTransitionTime =
      before && before.status === input.status
        ? before.lastTransitionTime
        : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      type: input.type,
      status: input.status,
      observedGeneration: generation,
      lastTransitionTime,
      reason: input.reason,
      message: input.message,
    };
  });
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: ConditionType,
): Condition | undefined {
  return conditions?.find((condition) => condition.type === type);
}
