import type { EnginePoll } from './engine-policy.ts';

// The engine's run, poll by poll, as CSV (bench:scaling's BENCH_SCALING_POLLS): what it was
// shown, what it estimated and decided, and how many of the jobs that arrived since the poll
// before waited past the target. A profile row that misses a trace says how much; this says at
// which polls and on which estimate.

export const POLL_LOG_COLUMNS = [
  'seconds',
  'replicas',
  'ready',
  'depth',
  'oldest_age_s',
  'busy',
  'arrival_rate',
  'planned_rate',
  'service_s',
  'service_from',
  'recommended',
  'desired',
  'reason',
  'arrived',
  'arrived_late',
] as const;

/**
 * One CSV line per poll. `arrived` and `arrived_late` count the jobs that arrived after the poll
 * before and up to this one, and those of them that waited longer than `targetSeconds` (a job
 * never started waited to the end of the run): the polls a miss comes from are those just
 * before its late arrivals.
 */
export function pollLogCsv(run: {
  polls: readonly EnginePoll[];
  /** Each job's arrival, in seconds from the run's start, in order. */
  arrivals: Float64Array;
  waits: Float64Array;
  targetSeconds: number;
  /** The run's clock at its start (SimulationConfig.epochMs): the polls' nowMs count from it. */
  epochMs?: number;
}): string {
  const { arrivals, waits, targetSeconds } = run;
  const lines: string[] = [POLL_LOG_COLUMNS.join(',')];
  let job = 0;
  for (const poll of run.polls) {
    const seconds = (poll.nowMs - (run.epochMs ?? 0)) / 1000;
    let arrived = 0;
    let late = 0;
    while (job < arrivals.length && (arrivals[job] ?? Infinity) <= seconds) {
      arrived += 1;
      if ((waits[job] ?? 0) > targetSeconds) late += 1;
      job += 1;
    }
    const signals = poll.decision.signals;
    lines.push(
      [
        round(seconds),
        poll.currentReplicas,
        poll.readyReplicas,
        poll.reading.depth,
        optional(poll.reading.oldestJobAgeSeconds),
        optional(poll.reading.busy),
        optional(signals?.arrivalRatePerSecond),
        optional(signals?.plannedArrivalRatePerSecond),
        optional(signals?.serviceTimeSeconds),
        signals?.serviceEstimate ?? '',
        poll.decision.recommendedReplicas,
        poll.decision.desiredReplicas,
        poll.decision.reasonCode,
        arrived,
        late,
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

function round(value: number): string {
  return String(Math.round(value * 1000) / 1000);
}

function optional(value: number | undefined): string {
  return value === undefined ? '' : round(value);
}
