import type { QueueStatus, WorkerPool } from '../api/workerpool-schema.ts';
import type { ConditionInput } from './conditions.ts';

/** How many replicas a pool should run now, and why. */
export interface ReplicaDecision {
  replicas: number;
  /** Set when the decision changes the replicas: "oldest job 45s > target 30s: 3 -> 8". */
  reason?: string;
}

/**
 * Where the reconciler gets its replica count and queue readings. The autoscaler implements it
 * from queue signals; without signals, the static advisor below keeps the pinned or minimum count.
 */
export interface ReplicaAdvisor {
  decide(pool: WorkerPool, currentReplicas: number | undefined): ReplicaDecision | Promise<ReplicaDecision>;
  /** Latest queue readings and the SignalsAvailable condition, if the advisor reads signals. */
  observe(pool: WorkerPool): { queue?: QueueStatus; signals?: ConditionInput };
  forget(key: string): void;
}

/** Replicas from spec.replicas (a manual pin), else the current count while paused, else minReplicas. */
export function staticReplicas(pool: WorkerPool, currentReplicas: number | undefined): number {
  if (pool.spec.replicas !== undefined) return pool.spec.replicas;
  if (pool.spec.paused && currentReplicas !== undefined) return currentReplicas;
  return pool.spec.scaling.minReplicas;
}

export const staticAdvisor: ReplicaAdvisor = {
  decide: (pool, current) => ({ replicas: staticReplicas(pool, current) }),
  observe: () => ({}),
  forget: () => undefined,
};
