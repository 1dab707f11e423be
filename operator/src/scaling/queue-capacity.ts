import type { QueueCapacity } from '../signals/queue-reading.ts';
import { formatNumber } from './reason.ts';
import type { SignalEstimate } from './types.ts';

// The replicas worth running when the queue system itself caps the work: BullMQ's global
// concurrency lets only so many jobs run at once across every worker, its global rate limit
// lets only so many start per second. A replica beyond either would only wait; no peer reads
// them, so without this a backlog behind a rate limit would send a pool to maxReplicas.

export interface CapacityCeiling {
  replicas: number;
  /** Which bound, for lastScaleReason: "BullMQ global concurrency 20". */
  bound: string;
}

export function capacityCeiling(
  capacity: QueueCapacity | undefined,
  concurrencyPerReplica: number,
  signals: Pick<SignalEstimate, 'perReplicaJobsPerSecond' | 'serviceEstimate'>,
): CapacityCeiling | undefined {
  if (capacity === undefined) return undefined;
  const ceilings: CapacityCeiling[] = [];
  if (capacity.maxActiveJobs !== undefined)
    ceilings.push({
      replicas: Math.max(1, Math.ceil(capacity.maxActiveJobs / Math.max(1, concurrencyPerReplica))),
      bound: `queue global concurrency ${formatNumber(capacity.maxActiveJobs)}`,
    });
  // A rate becomes replicas only through a measured throughput per replica.
  if (
    capacity.maxJobsPerSecond !== undefined &&
    signals.serviceEstimate !== 'assumed' &&
    signals.perReplicaJobsPerSecond > 0
  )
    ceilings.push({
      replicas: Math.max(1, Math.ceil(capacity.maxJobsPerSecond / signals.perReplicaJobsPerSecond)),
      bound: `queue rate limit ${formatNumber(capacity.maxJobsPerSecond)} jobs/s`,
    });
  return ceilings.reduce<CapacityCeiling | undefined>(
    (lowest, ceiling) => (lowest === undefined || ceiling.replicas < lowest.replicas ? ceiling : lowest),
    undefined,
  );
}
