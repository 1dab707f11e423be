import { describe, expect, it } from 'vitest';
import type { QueueReading, WorkerHeartbeat } from '../signals/queue-reading.ts';
import {
  restrictToProfile,
  SIGNAL_PROFILE_NAMES,
  signalProfile,
  type SignalProfile,
} from '../signals/signal-profile.ts';
import { decideScale } from './decide-scale.ts';
import { assumedServiceSeconds } from './observe.ts';
import { reading, scalingSpec } from './test-helpers.ts';
import { initialScalerState, SCALE_REASONS, type Decision, type ScalerState } from './types.ts';

// The ratchet of issue 13: a pool whose format keeps no completion counter went 1 -> 20 on a
// backlog and held 20 long after the queue drained. Here every signal profile sees the same
// story — 600 jobs arrive over 20 s onto an idle pool of 10-slot replicas running 4 s jobs,
// then nothing — through only the signals its reader provides, with the schema's defaults.

const POLL_SECONDS = 2;
const SERVICE_SECONDS = 4;
const CONCURRENCY = 10;
const BURST_JOBS = 600;
const BURST_SECONDS = 20;
/** Other pools on the same Redis completing jobs: what Sidekiq's stat:processed counts too. */
const OTHER_POOLS_JOBS_PER_SECOND = 50;

interface Run {
  desired: number[];
  last: Decision;
  maxWaitSeconds: number;
}

/** Steps of the pool's own clock: workers take jobs as soon as a slot frees, not at polls. */
const STEP_SECONDS = 0.25;

/** A pool whose replicas become ready one poll after they are asked for. */
function runBurst(profile: SignalProfile, untilSeconds: number): Run {
  const scaling = scalingSpec({ minReplicas: 1, maxReplicas: 20, concurrency: CONCURRENCY });
  const arrivals = Array.from({ length: BURST_JOBS }, (_, job) => (job * BURST_SECONDS) / BURST_JOBS);
  let running: number[] = [];
  let started = 0;
  let completed = 0;
  let replicas = 1;
  let ready = 1;
  let maxWait = 0;
  let state = initialScalerState();
  const desired: number[] = [];
  let last: Decision | undefined;
  for (let step = 0; step * STEP_SECONDS <= untilSeconds; step += 1) {
    const now = step * STEP_SECONDS;
    completed += running.filter((end) => end <= now).length;
    running = running.filter((end) => end > now);
    const arrived = arrivals.filter((at) => at <= now).length;
    while (started < arrived && running.length < ready * CONCURRENCY) {
      maxWait = Math.max(maxWait, now - (arrivals[started] as number));
      running.push(now + SERVICE_SECONDS);
      started += 1;
    }
    if (step % (POLL_SECONDS / STEP_SECONDS) !== 0) continue;
    const workers: WorkerHeartbeat[] = Array.from({ length: ready }, (_, pod) => ({
      pod: `pod-${pod}`,
      busy: Math.min(CONCURRENCY, Math.max(0, running.length - pod * CONCURRENCY)),
      concurrency: CONCURRENCY,
      draining: false,
    }));
    const full: QueueReading = reading({
      observedAtMs: now * 1000,
      depth: arrived - started,
      oldestJobAgeSeconds: arrived > started ? now - (arrivals[started] as number) : 0,
      busy: running.length,
      concurrency: ready * CONCURRENCY,
      workers,
      completedTotal: completed,
    });
    last = decideScale({
      nowMs: now * 1000,
      scaling,
      format: profile.format,
      currentReplicas: replicas,
      readyReplicas: ready,
      reading: restrictToProfile(profile, full, now * OTHER_POOLS_JOBS_PER_SECOND),
      state,
    });
    state = last.state;
    ready = replicas;
    replicas = last.desiredReplicas;
    desired.push(replicas);
  }
  return { desired, last: last as Decision, maxWaitSeconds: maxWait };
}

describe('decideScale per signal profile: a burst, then an idle queue', () => {
  for (const name of SIGNAL_PROFILE_NAMES) {
    const profile = signalProfile(name);
    it(`${name}: scales up for the burst and back to minReplicas once the queue has drained and stayed idle`, () => {
      // The default down window is 300 s: the pool may hold its peak that long, not longer.
      const run = runBurst(profile, 20 * 60);
      const peak = Math.max(...run.desired);
      expect(peak).toBeGreaterThan(4);
      expect(run.maxWaitSeconds).toBeLessThanOrEqual(30);
      const drainedAt = run.desired.findIndex((_, poll) => poll * POLL_SECONDS > BURST_SECONDS + 60);
      const settled = run.desired.slice(drainedAt + (300 + 60) / POLL_SECONDS);
      expect(settled.every((replicas) => replicas === 1)).toBe(true);
      expect(run.last.reasonCode).not.toBe(SCALE_REASONS.stabilized);
    });
  }

  it('names the estimate it used in the reason', () => {
    // Sidekiq's only completion counter (stat:processed) counts every pool on the Redis.
    expect(runBurst(signalProfile('sidekiq'), 60).last.reason).toContain('(from queue drain)');
    expect(runBurst(signalProfile('native'), 60).last.reason).toContain('(from completions)');
    // BullMQ's finished jobs are counted from its events stream.
    expect(runBurst(signalProfile('bullmq'), 60).last.reason).toContain('(from completions)');
    expect(runBurst(signalProfile('list'), 60).last.reason).toMatch(
      /\(from depth drain\)|service time not measured yet/,
    );
  });
});

describe('decideScale: what the queue system says about its own capacity', () => {
  const pool = {
    format: 'bullmq' as const,
    scaling: scalingSpec({ minReplicas: 1, maxReplicas: 20 }),
    currentReplicas: 2,
    readyReplicas: 2,
  };

  it('does not add replicas for the backlog of a paused BullMQ queue', () => {
    const paused = reading({
      observedAtMs: 0,
      depth: 5000,
      oldestJobAgeSeconds: 600,
      busy: 0,
      completedTotal: undefined,
      paused: true,
    });
    const decision = decideScale({ ...pool, nowMs: 0, reading: paused, state: initialScalerState() });
    expect(decision.desiredReplicas).toBeLessThanOrEqual(2);
    expect(decision.reason).toContain('queue paused: not sized for');
    const running = decideScale({
      ...pool,
      nowMs: 0,
      reading: { ...paused, paused: undefined },
      state: initialScalerState(),
    });
    expect(running.desiredReplicas).toBe(20);
  });

  it('does not wake a pool at zero for a paused queue', () => {
    const zeroable = {
      ...pool,
      scaling: scalingSpec({ minReplicas: 0, maxReplicas: 20 }),
      currentReplicas: 0,
      readyReplicas: 0,
    };
    const decision = decideScale({
      ...zeroable,
      nowMs: 0,
      reading: reading({
        observedAtMs: 0,
        depth: 30,
        oldestJobAgeSeconds: 60,
        busy: 0,
        completedTotal: undefined,
        paused: true,
      }),
      state: initialScalerState(),
    });
    expect(decision.desiredReplicas).toBe(0);
  });

  it('does not count quiet Sidekiq processes as serving capacity', () => {
    const workers = (quiet: number): WorkerHeartbeat[] =>
      Array.from({ length: 4 }, (_, pod) => ({
        pod: `pod-${pod}`,
        busy: pod < quiet ? 3 : 10,
        concurrency: 10,
        draining: pod < quiet,
      }));
    const sidekiq = {
      format: 'sidekiq' as const,
      scaling: scalingSpec({ minReplicas: 1, maxReplicas: 100 }),
      currentReplicas: 4,
      readyReplicas: 4,
    };
    // 1000 jobs waiting that arrived over the last 25 s; every serving slot is busy.
    const at = (quiet: number) =>
      reading({ observedAtMs: 0, depth: 1000, oldestJobAgeSeconds: 25, busy: 40 - 7 * quiet, workers: workers(quiet) });
    // 4 s jobs, measured while the queue drained earlier.
    const state: ScalerState = {
      ...initialScalerState(),
      service: { events: 100, seconds: 400 },
      serviceEstimate: 'queue drain',
    };
    const allServing = decideScale({ ...sidekiq, nowMs: 0, reading: at(0), state });
    const twoQuiet = decideScale({ ...sidekiq, nowMs: 0, reading: at(2), state });
    expect(allServing.desiredReplicas).toBeGreaterThan(4);
    // The two quiet pods stay in the Deployment and serve nothing: two serving pods more.
    expect(twoQuiet.desiredReplicas).toBeGreaterThanOrEqual(allServing.desiredReplicas + 2);
  });
});

describe('decideScale: waking from zero before any service time is known', () => {
  it('sizes 500 jobs from the backlog and the target, not to maxReplicas', () => {
    const scaling = scalingSpec({ minReplicas: 0, maxReplicas: 20, concurrency: 10, targetLatencySeconds: 30 });
    // 500 jobs pushed 2 s ago onto a pool at zero that has never run a job.
    const decision = decideScale({
      nowMs: 2000,
      scaling,
      format: 'native',
      currentReplicas: 0,
      readyReplicas: 0,
      reading: reading({ observedAtMs: 2000, depth: 500, oldestJobAgeSeconds: 2, busy: 0, completedTotal: 0 }),
      state: initialScalerState(),
    });
    expect(decision.reasonCode).toBe(SCALE_REASONS.wakeFromZero);
    expect(decision.desiredReplicas).toBeGreaterThanOrEqual(2);
    expect(decision.desiredReplicas).toBeLessThan(20);
    expect(decision.reason).toContain('service time not measured yet, assumed 2s');
  });

  it('assumes longer jobs the longer work runs without a measurement, up to the target', () => {
    const scaling = scalingSpec({ targetLatencySeconds: 30, pollIntervalSeconds: 2 });
    expect(assumedServiceSeconds(0, scaling)).toBe(2);
    expect(assumedServiceSeconds(12, scaling)).toBe(12);
    expect(assumedServiceSeconds(600, scaling)).toBe(30);
  });
});
