import type { ForecastStatus, QueueStatus } from '../api/workerpool-schema.ts';
import type { ScaleReasonCode } from '../scaling/index.ts';
import type { ConditionInput } from './conditions.ts';

// What the reconciler reads of a pool's scale. The autoscaler writes it (after each poll, after a
// spec change, after a registration settles) and wakes the reconciler; the reconciler only reads,
// so data flows one way: Redis -> engine -> this store -> the API.

/** A pool's latest decision and what status shows of its signals. */
export interface PoolScaleView {
  /** metadata.generation of the spec the decision was made under. */
  generation: number | undefined;
  /**
   * The Deployment's replicas: the engine's latest decision, plus the pods still draining when
   * drain before delete is on (autoscaler/drain-coordinator.ts).
   */
  replicas: number;
  /** Which rule decided (the engine's vocabulary): a pin or a pause is reported as such in Ready. */
  reasonCode: ScaleReasonCode;
  /** Why, for Events and status.lastScaleReason when it changes the replicas. */
  reason: string;
  /** The queue readings status shows (refreshed at a bounded rate, see QUEUE_STATUS_REFRESH_SECONDS). */
  queue?: QueueStatus;
  /** The learned arrival pattern (scaling.predictive), refreshed at a bounded rate (FORECAST_STATUS_REFRESH_SECONDS). */
  forecast?: ForecastStatus;
  /** SignalsAvailable and IdleFirstScaleDown. */
  conditions: ConditionInput[];
  /** Jobs running in each pod, by pod name, when the format's heartbeats report it and idle-first is on. */
  busyByPod?: ReadonlyMap<string, number>;
  /** Drain before delete: the pods that finished draining, which the ReplicaSet must remove and no other. */
  drain?: DrainView;
}

export interface DrainView {
  /** Pods drained (no job running, or past the deadline): the lowest pod-deletion-cost, removed first. */
  drained: readonly string[];
  /** Of those, the ones let go with jobs still running because the drain deadline passed. */
  timedOut: readonly string[];
  /** Of those, the ones let go idle-first without a request: a worker of theirs cannot be asked. */
  unasked?: readonly string[];
  /** Pods asked to drain that still run jobs: never removed by this scale-down. */
  draining: readonly string[];
  /** Pods whose workers report heartbeats; a pod not named here runs no job we know of. */
  reported: readonly string[];
}

/** Reading costs no I/O and changes nothing. */
export interface ScaleDecisions {
  read(key: string): PoolScaleView | undefined;
}
