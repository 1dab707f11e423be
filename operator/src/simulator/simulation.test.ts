import { describe, expect, it } from 'vitest';
import {
  BOOT_JITTER_SECONDS,
  simulate,
  type PolicyObservation,
  type ScalingPolicy,
  type SimulationConfig,
} from './simulation.ts';

/** A policy that asks for replicas by a schedule and records what it observed. */
function scripted(
  replicasAt: (seconds: number) => number,
  intervalSeconds = 1,
): ScalingPolicy & { seen: PolicyObservation[] } {
  const seen: PolicyObservation[] = [];
  return {
    name: 'scripted',
    intervalSeconds,
    seen,
    decide(observation) {
      seen.push(observation);
      return { replicas: replicasAt(observation.nowMs / 1000) };
    },
  };
}

function config(
  fields: Partial<SimulationConfig> & Pick<SimulationConfig, 'arrivals' | 'services' | 'policy'>,
): SimulationConfig {
  return { concurrency: 1, podStartupSeconds: 0, initialReplicas: 0, endSeconds: 100, ...fields };
}

const jobs = (arrivals: number[], service: number) => ({
  arrivals: Float64Array.from(arrivals),
  services: Float64Array.from(arrivals.map(() => service)),
});

describe('simulate', () => {
  it('starts jobs at once while slots are free, in arrival order once they are not', () => {
    const result = simulate(
      config({
        ...jobs([0.1, 0.2, 0.3], 10),
        concurrency: 2,
        initialReplicas: 1,
        endSeconds: 50,
        policy: scripted(() => 1),
      }),
    );
    expect([...result.waits]).toEqual([0, 0, expect.closeTo(9.8, 9)]);
  });

  it('a new replica takes jobs only after the pod start-up delay', () => {
    const result = simulate(config({ ...jobs([0.5], 1), podStartupSeconds: 12, policy: scripted(() => 1) }));
    // Asked for at second 0, ready at 12: the job waits 11.5 s.
    expect(result.waits[0]).toBeCloseTo(11.5, 9);
    expect(result.scaleChanges).toEqual([{ atSeconds: 0, from: 0, to: 1, reason: undefined }]);
  });

  it('a replica removed by a scale-down drains: it finishes its job and takes no new one', () => {
    // Two replicas; at second 5 the pool shrinks to 1 while both run 20 s jobs.
    const result = simulate(
      config({
        ...jobs([0, 0, 6], 20),
        initialReplicas: 2,
        endSeconds: 100,
        policy: scripted((at) => (at < 5 ? 2 : 1)),
      }),
    );
    // The third job waits for the kept replica (free at 20), not for the draining one (free at 20, gone).
    expect(result.waits[2]).toBeCloseTo(14, 9);
    // Kept replica: 0..100; drained replica: 0..20.
    expect(result.replicaSeconds).toBeCloseTo(120, 6);
  });

  it('removes starting pods first, then the most recently ready ones, as the ReplicaSet does', () => {
    const policy = scripted((at) => (at < 2 ? 3 : at < 4 ? 4 : 1));
    const result = simulate(
      config({
        ...jobs([0.5], 30),
        initialReplicas: 3,
        podStartupSeconds: 10,
        endSeconds: 40,
        gracePeriodSeconds: 60,
        policy,
      }),
    );
    // Replicas 0-2 were ready at 0 (a tie: the newest id goes first); replica 0 runs the job.
    // At 2 a fourth starts; at 4 the pool shrinks to 1: the starting one goes (2 s), then
    // replicas 2 and 1 (idle, 4 s each); replica 0, the oldest, stays.
    expect(result.replicaSeconds).toBeCloseTo(40 + 2 + 4 + 4, 6);
    expect(result.interruptedJobs).toBe(0);
  });

  it('drains within the grace period, then interrupts what still runs and re-runs it at the head of the queue', () => {
    // Two replicas each run a 100 s job; at 5 the pool shrinks to 1. The newest pod (1) goes:
    // its job is cut at 35 (30 s grace), re-queued ahead of the job that arrived at 6, and run
    // again on replica 0 once it is free at 100.
    const result = simulate(
      config({
        ...jobs([0, 0, 6], 100),
        initialReplicas: 2,
        endSeconds: 400,
        gracePeriodSeconds: 30,
        policy: scripted((at) => (at < 5 ? 2 : 1)),
      }),
    );
    expect(result.interruptedJobs).toBe(1);
    expect(result.rerunSeconds).toBeCloseTo(35, 9);
    // Job 2 waits for the re-run to finish: 100 + 100 = 200, so it starts at 200.
    expect(result.waits[2]).toBeCloseTo(194, 9);
    // Kept replica 0..400; the removed one 0..35.
    expect(result.replicaSeconds).toBeCloseTo(400 + 35, 6);
  });

  it('with pod-deletion-cost removes idle pods first: nothing is interrupted', () => {
    const policy: ScalingPolicy = { ...scripted((at) => (at < 5 ? 2 : 1)), scaleDownOrder: 'idle-first' };
    // Only the first replica runs a job; the idle one goes.
    const result = simulate(
      config({ ...jobs([0], 100), initialReplicas: 2, endSeconds: 200, gracePeriodSeconds: 30, policy }),
    );
    expect(result.interruptedJobs).toBe(0);
    expect(result.replicaSeconds).toBeCloseTo(200 + 5, 6);
  });

  it('reports what a reader would: depth, oldest age, busy, completions and workers', () => {
    const policy = scripted(() => 1);
    simulate(config({ ...jobs([0, 0, 0, 2.5], 3), initialReplicas: 1, endSeconds: 4, policy }));
    const atThree = policy.seen.find((observation) => observation.nowMs === 3000);
    expect(atThree?.reading).toMatchObject({ depth: 2, busy: 1, completedTotal: 1, dueScheduled: 0, concurrency: 1 });
    expect(atThree?.reading.oldestJobAgeSeconds).toBeCloseTo(3, 9);
    expect(atThree?.reading.workers).toEqual([{ pod: 'pod-0', busy: 1, concurrency: 1, draining: false }]);
    expect(atThree?.arrivedTotal).toBe(4);
    expect(atThree).toMatchObject({ currentReplicas: 1, readyReplicas: 1 });
  });

  it("moves a heartbeat counter as Sidekiq's stat:processed moves, and the run time its metrics record with it: at each pod's beat, and once more as it stops", () => {
    // One job a second of 0.5 s on one pod ready at 0, beating every 10 s; the pod goes at 25 s.
    const policy = scripted((seconds) => (seconds < 25 ? 1 : 0));
    const arrivals = Array.from({ length: 24 }, (_, i) => i);
    simulate(
      config({
        ...jobs(arrivals, 0.5),
        initialReplicas: 1,
        endSeconds: 30,
        completionHeartbeatSeconds: 10,
        heartbeatPhases: 'spread',
        policy,
      }),
    );
    const counted = (second: number) => policy.seen.find((o) => o.nowMs === second * 1000)?.reading;
    expect(counted(9)).toMatchObject({ completedTotal: 0, completedGranularitySeconds: 10 });
    // The beat at 10 s adds the 10 jobs done by then (0.5 to 9.5 s); the next adds 10 more at 20 s.
    expect(counted(11)?.completedTotal).toBe(10);
    expect(counted(19)?.completedTotal).toBe(10);
    expect(counted(21)?.completedTotal).toBe(20);
    // Removed at 25 s, the pod flushes what it finished since (20.5 to 23.5 s) as it stops.
    expect(counted(26)?.completedTotal).toBe(24);
    // The run time of those jobs lands in the same beats (ExecutionTracker#flush on :beat, :exit).
    expect([9, 11, 19, 21, 26].map((second) => counted(second)?.recordedRunTime)).toEqual([
      { jobs: 0, seconds: 0 },
      { jobs: 10, seconds: 5 },
      { jobs: 10, seconds: 5 },
      { jobs: 20, seconds: 10 },
      { jobs: 24, seconds: 12 },
    ]);
  });

  it("shows each pod's busy as of its last heartbeat, as Sidekiq writes it, while the queue stays live", () => {
    // One pod of two slots, ready at 0 and beating at 0, 10 and 20 s. Jobs at 1, 1.5 and 2 s run
    // 5 s each (the third waits for a slot until 6 s); one at 12 s runs 20 s.
    const policy = scripted(() => 1);
    const arrivals = [1, 1.5, 2, 12];
    simulate(
      config({
        arrivals: Float64Array.from(arrivals),
        services: Float64Array.from([5, 5, 5, 20]),
        concurrency: 2,
        initialReplicas: 1,
        endSeconds: 25,
        completionHeartbeatSeconds: 10,
        heartbeatPhases: 'spread',
        policy,
      }),
    );
    const at = (second: number) => policy.seen.find((o) => o.nowMs === second * 1000)?.reading;
    // Two jobs run at 5 s, but the last beat (0 s) wrote busy 0; the job waiting is seen at once.
    expect(at(5)).toMatchObject({ busy: 0, depth: 1 });
    expect(at(5)?.oldestJobAgeSeconds).toBeCloseTo(3, 9);
    expect(at(5)?.workers).toEqual([{ pod: 'pod-0', busy: 0, concurrency: 2, draining: false, beatAtMs: 0 }]);
    // The beat at 10 s saw the third job still running (6 to 11 s).
    expect(at(11)).toMatchObject({ busy: 1, depth: 0 });
    // The job that started at 12 s shows only from the beat at 20 s.
    expect(at(15)?.busy).toBe(1);
    expect(at(15)?.workers?.[0]?.beatAtMs).toBe(10_000);
    expect(at(21)?.busy).toBe(1);
  });

  it("beats the pods ready at one moment together, as one scale-up's Sidekiq pods do, and each such cohort at its own phase", () => {
    // Two pods ready at 0 s; two more asked for at 0 s with a 1 s start-up, ready at 1 s.
    const policy = scripted(() => 4);
    simulate(
      config({
        ...jobs([], 1),
        initialReplicas: 2,
        podStartupSeconds: 1,
        endSeconds: 30,
        completionHeartbeatSeconds: 10,
        policy,
      }),
    );
    const beats = policy.seen.find((o) => o.nowMs === 29_000)?.reading.workers?.map((worker) => worker.beatAtMs);
    expect(beats).toHaveLength(4);
    const phases = (beats ?? []).map((ms) => ((ms ?? 0) / 1000) % 10);
    // Within a cohort the beats fall within the boot jitter of each other...
    expect(Math.abs((phases[0] ?? 0) - (phases[1] ?? 0))).toBeLessThanOrEqual(BOOT_JITTER_SECONDS);
    expect(Math.abs((phases[2] ?? 0) - (phases[3] ?? 0))).toBeLessThanOrEqual(BOOT_JITTER_SECONDS);
    // ...and the two cohorts' beats are seconds apart, not in step.
    expect(Math.abs((phases[0] ?? 0) - (phases[2] ?? 0))).toBeGreaterThan(1);
  });

  it('beats every pod in step on a shared phase when asked, pods ready at different times included', () => {
    // Pods ready at 0 s (initial) and at 3 s (asked for at 0, 3 s start-up); beats at 5, 15, ... s.
    const policy = scripted(() => 2);
    simulate(
      config({
        ...jobs([], 1),
        initialReplicas: 1,
        podStartupSeconds: 3,
        endSeconds: 20,
        completionHeartbeatSeconds: 10,
        heartbeatPhases: 0.5,
        policy,
      }),
    );
    const beats = (second: number) =>
      policy.seen.find((o) => o.nowMs === second * 1000)?.reading.workers?.map((worker) => worker.beatAtMs);
    // Until its first beat a pod shows the moment it became ready, when it beat as it booted.
    expect(beats(4)).toEqual([0, 3000]);
    expect(beats(6)).toEqual([5000, 5000]);
    expect(beats(16)).toEqual([15_000, 15_000]);
  });

  it('charges work left undone at the end, so leaving jobs waiting is not cheaper', () => {
    const idle = simulate(config({ ...jobs([1, 2], 10), endSeconds: 20, policy: scripted(() => 0) }));
    expect(idle.replicaSeconds).toBeCloseTo(20, 9);
    expect([...idle.waits]).toEqual([19, 18]);
  });

  it('records the replicas over time at every change', () => {
    const result = simulate(
      config({ ...jobs([], 1), endSeconds: 10, policy: scripted((at) => (at < 3 ? 2 : 1)), initialReplicas: 2 }),
    );
    expect(result.replicas).toEqual([
      { atSeconds: 0, replicas: 2 },
      { atSeconds: 3, replicas: 1 },
    ]);
  });
});

describe('simulate: scheduled jobs', () => {
  it('shows jobs scheduled ahead in the reading, by how soon they come due, from when they were scheduled', () => {
    const policy = scripted(() => 0, 10);
    simulate(
      config({
        ...jobs([50.5, 50.5, 58], 1),
        // Two jobs scheduled at 0 for 50.5 s; one scheduled only at 45 s for 58 s.
        scheduledSince: Float64Array.from([0, 0, 45]),
        endSeconds: 60,
        policy,
      }),
    );
    const at = (seconds: number) => {
      const upcoming = policy.seen.find((seen) => seen.nowMs === seconds * 1000)?.reading.upcoming;
      if (upcoming === undefined) throw new Error(`no upcoming jobs in the reading at ${seconds} s`);
      return (horizon: number) => upcoming.dueWithin[upcoming.horizonsSeconds.indexOf(horizon)];
    };
    expect(at(0)(60)).toBe(2);
    expect(at(40)(10)).toBe(0);
    expect(at(40)(15)).toBe(2);
    expect(at(50)(10)).toBe(3);
    expect(at(50)(1)).toBe(2);
  });
});
