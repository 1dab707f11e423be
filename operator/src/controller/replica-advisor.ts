import type { V1Deployment } from '@kubernetes/client-node';
import type { QueueStatus, WorkerPool } from '../api/workerpool-schema.ts';
import type { ConditionInput } from './conditions.ts';

/** What the reconciler needs to know about a pool's scale, as of the latest poll. */
export interface PoolScaleView {
  /** The engine's latest decision. */
  replicas: number;
  /** Why, for Events and status.lastScaleReason when it changes the replicas. */
  reason: string | undefined;
  /** The queue readings status shows (refreshed at a bounded rate, see QUEUE_STATUS_REFRESH_SECONDS). */
  queue?: QueueStatus;
  /** SignalsAvailable and IdleFirstScaleDown. */
  conditions: ConditionInput[];
  /** Jobs running in each pod, by pod name, when the format's heartbeats report it. */
  busyByPod?: ReadonlyMap<string, number>;
}

/**
 * Where the reconciler reads a pool's decision. The autoscaler implements it: the decision is
 * made in the poll loop (or, before the first poll and on a spec change, at once by the same
 * engine), and reading it costs no I/O.
 */
export interface ReplicaAdvisor {
  view(pool: WorkerPool, deployment: V1Deployment | undefined): PoolScaleView;
  forget(key: string): void;
}
