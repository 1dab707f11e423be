import { describe, expect, it } from 'vitest';
import { applySpecDefaults } from '../api/defaults.ts';
import { initialScalerState } from '../scaling/index.ts';
import { signalProfile } from '../signals/signal-profile.ts';
import { burstyTrace } from './arrival-trace.ts';
import { enginePolicy, type EnginePoll } from './engine-policy.ts';
import { generateJobs } from './jobs.ts';
import { POLL_LOG_COLUMNS, pollLogCsv } from './poll-log.ts';
import { simulate } from './simulation.ts';

const scaling = applySpecDefaults({
  queue: { format: 'sidekiq', names: ['default'], redis: { url: 'redis://r:6379' } },
  scaling: {
    minReplicas: 0,
    maxReplicas: 40,
    concurrency: 10,
    targetLatencySeconds: 20,
    podStartupSeconds: 10,
    scaleToZeroAfterSeconds: 30,
  },
}).scaling;

function rows(csv: string): Record<string, string>[] {
  const [header, ...lines] = csv.trimEnd().split('\n');
  const columns = (header ?? '').split(',');
  return lines.map((line) => {
    const row: Record<string, string> = {};
    line.split(',').forEach((value, i) => {
      row[columns[i] ?? `column ${i}`] = value;
    });
    return row;
  });
}

describe('the poll log of an engine run', () => {
  it('puts each job under the first poll at or after its arrival, and counts it late past the target', () => {
    const poll = (seconds: number, desired: number): EnginePoll => ({
      nowMs: 1_000_000 + seconds * 1000,
      currentReplicas: 1,
      readyReplicas: 1,
      reading: { observedAtMs: 1_000_000 + seconds * 1000, depth: 3, oldestJobAgeSeconds: 1.5, dueScheduled: 0 },
      decision: {
        desiredReplicas: desired,
        recommendedReplicas: desired,
        reasonCode: 'Backlog',
        reason: '',
        signals: undefined,
        state: initialScalerState(),
      },
    });
    const csv = pollLogCsv({
      polls: [poll(2, 1), poll(4, 3)],
      arrivals: Float64Array.from([0.5, 2, 2.5, 3.9, 4.5]),
      waits: Float64Array.from([25, 1, 30, 2, 40]),
      targetSeconds: 20,
      epochMs: 1_000_000,
    });
    const [first, second] = rows(csv);
    // Jobs at 0.5 s and 2 s arrive by the poll at 2 s (one of them late); 2.5 and 3.9 by 4 s;
    // the job at 4.5 s comes after the last poll and is in no row.
    expect(first).toMatchObject({ seconds: '2', desired: '1', arrived: '2', arrived_late: '1', oldest_age_s: '1.5' });
    expect(second).toMatchObject({ seconds: '4', desired: '3', arrived: '2', arrived_late: '1', service_s: '' });
    expect(csv.split('\n')[0]).toBe(POLL_LOG_COLUMNS.join(','));
  });

  it('records every decision of a sidekiq-profile run, the replicas it asked for and every late job', () => {
    const trace = burstyTrace('bursts', {
      durationSeconds: 900,
      onRate: 40,
      offRate: 0,
      onSeconds: 45,
      offSeconds: 255,
    });
    const jobs = generateJobs({ trace, service: { kind: 'exponential', meanSeconds: 1 }, seed: 5 });
    const polls: EnginePoll[] = [];
    const result = simulate({
      ...jobs,
      concurrency: 10,
      podStartupSeconds: 10,
      initialReplicas: 0,
      endSeconds: 900,
      completionHeartbeatSeconds: 10,
      policy: enginePolicy(scaling, { profile: signalProfile('sidekiq'), onPoll: (poll) => polls.push(poll) }),
    });
    const logged = rows(pollLogCsv({ polls, arrivals: jobs.arrivals, waits: result.waits, targetSeconds: 20 }));

    expect(logged).toHaveLength(Math.floor(900 / scaling.pollIntervalSeconds) + 1);
    // Every change of replicas the run made is a poll whose decision asked for it.
    for (const change of result.scaleChanges) {
      const at = logged.find((row) => Number(row.seconds) === change.atSeconds);
      expect(at?.desired, `change at ${change.atSeconds} s`).toBe(String(change.to));
    }
    expect(result.scaleChanges.length).toBeGreaterThan(2);
    const lastPoll = Number(logged.at(-1)?.seconds);
    const arrivedByLastPoll = jobs.arrivals.filter((at) => at <= lastPoll).length;
    const lateByLastPoll = jobs.arrivals.filter((at, job) => at <= lastPoll && (result.waits[job] ?? 0) > 20).length;
    expect(logged.reduce((sum, row) => sum + Number(row.arrived), 0)).toBe(arrivedByLastPoll);
    expect(logged.reduce((sum, row) => sum + Number(row.arrived_late), 0)).toBe(lateByLastPoll);
  });
});
