import { arrivalTimes, type ArrivalTrace } from './arrival-trace.ts';
import { seededRandom } from './prng.ts';
import { drawServiceSeconds, type ServiceTimeSpec } from './service-time.ts';

// The jobs of one run, drawn once from a seed: every policy replays exactly the same arrivals
// and the same service time for each job, so differences come from the policies alone.

export interface Jobs {
  /** Arrival second of each job, sorted. */
  arrivals: Float64Array;
  /** Seconds each job runs once started. */
  services: Float64Array;
  /** When each job was scheduled to come due at its arrival, for traces that schedule work ahead. */
  scheduledSince?: Float64Array;
}

export interface Workload {
  trace: ArrivalTrace;
  service: ServiceTimeSpec;
  seed: number;
}

export function generateJobs(workload: Workload): Jobs {
  // Separate streams: changing the service model must not move the arrivals.
  const arrivals = arrivalTimes(workload.trace, seededRandom(workload.seed));
  const serviceRandom = seededRandom(workload.seed ^ 0x5bd1e995);
  const services = new Float64Array(arrivals.length);
  for (let job = 0; job < services.length; job += 1)
    services[job] = drawServiceSeconds(workload.service, serviceRandom);
  const ahead = workload.trace.scheduledAheadSeconds;
  if (ahead === undefined) return { arrivals, services };
  const scheduledSince = arrivals.map((arrival) => {
    const bucket = Math.floor(arrival / workload.trace.bucketSeconds);
    return arrival - (ahead[bucket] ?? 0);
  });
  return { arrivals, services, scheduledSince };
}

/** The work bound: no policy can use fewer replica-seconds than the total service time spread over every slot. */
export function workBoundReplicaSeconds(jobs: Jobs, concurrency: number): number {
  let total = 0;
  for (const seconds of jobs.services) total += seconds;
  return total / concurrency;
}
