import type { SimulationResult } from './simulation.ts';

// What a run is judged on: the cost (replica-seconds) and the service level (jobs that waited
// longer than the target, the p99 wait), plus how often the policy changed the replicas and the
// work its scale-downs interrupted.

export interface RunSummary {
  policy: string;
  jobs: number;
  replicaSeconds: number;
  overTargetPercent: number;
  p50WaitSeconds: number;
  p99WaitSeconds: number;
  maxWaitSeconds: number;
  scaleEvents: number;
  /** Jobs a scale-down cut off and ran again, and the seconds of work redone. */
  interruptedJobs: number;
  rerunSeconds: number;
}

/** The q-quantile (0..1) of sorted values, nearest-rank. */
export function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export function summarize(result: SimulationResult, targetSeconds: number): RunSummary {
  const sorted = Float64Array.from(result.waits).sort();
  let over = 0;
  for (const wait of sorted) if (wait > targetSeconds) over += 1;
  return {
    policy: result.policy,
    jobs: sorted.length,
    replicaSeconds: result.replicaSeconds,
    overTargetPercent: sorted.length === 0 ? 0 : (100 * over) / sorted.length,
    p50WaitSeconds: quantile(sorted, 0.5),
    p99WaitSeconds: quantile(sorted, 0.99),
    maxWaitSeconds: sorted.length === 0 ? 0 : (sorted[sorted.length - 1] as number),
    scaleEvents: result.scaleChanges.length,
    interruptedJobs: result.interruptedJobs,
    rerunSeconds: result.rerunSeconds,
  };
}
