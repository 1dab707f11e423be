import { describe, expect, it } from 'vitest';
import { UPCOMING_HORIZONS_SECONDS, type QueueReading } from '../signals/queue-reading.ts';
import { decideScale } from './decide-scale.ts';
import { concurrencyPerReplica } from './observe.ts';
import { reading, scalingSpec } from './test-helpers.ts';
import { initialScalerState, SCALE_REASONS, type Decision, type ScaleInput, type ScalerState } from './types.ts';

// A steady pool: 10-slot replicas running 2 s jobs (5 jobs/s per replica), 20 jobs/s arriving,
// read every 2 s. warmUp() feeds the engine 2 minutes of that so it has measured everything.
const POLL_MS = 2000;

function steadyReading(atMs: number, overrides: Partial<QueueReading> = {}): QueueReading {
  return reading({
    observedAtMs: atMs,
    depth: 0,
    oldestJobAgeSeconds: 0,
    busy: 40,
    completedTotal: (atMs / 1000) * 20,
    ...overrides,
  });
}

function warmUp(
  input: Omit<ScaleInput, 'nowMs' | 'reading' | 'state'>,
  untilMs = 120_000,
): { state: ScalerState; last: Decision } {
  let state = initialScalerState();
  let last: Decision | undefined;
  for (let atMs = 0; atMs <= untilMs; atMs += POLL_MS) {
    last = decideScale({ ...input, nowMs: atMs, reading: steadyReading(atMs), state });
    state = last.state;
  }
  return { state, last: last as Decision };
}

const pool = {
  format: 'native' as const,
  scaling: scalingSpec({ maxReplicas: 50, scaleDown: { stabilizationWindowSeconds: 0 } }),
  currentReplicas: 4,
  readyReplicas: 4,
};

describe('decideScale: steady load', () => {
  it('keeps a pool that matches its load', () => {
    const { last } = warmUp(pool);
    expect(last.desiredReplicas).toBe(4);
    expect(last.signals?.serviceTimeSeconds).toBeCloseTo(2, 6);
    expect(last.signals?.arrivalRatePerSecond).toBeCloseTo(20, 6);
    expect(last.reason).toBe(
      'oldest job 0s <= target 30s, backlog 0, 20 jobs/s arriving, 5 jobs/s per replica (from completions): holding 4',
    );
  });

  it('shrinks an oversized pool to what the load needs, keeping the scale-down headroom', () => {
    const { last } = warmUp({ ...pool, currentReplicas: 12, readyReplicas: 12 });
    // 4 replicas carry the load; a scale-down keeps 10 % over the need (4.4 -> 5).
    expect(last.desiredReplicas).toBe(5);
    expect(last.recommendedReplicas).toBe(4);
  });

  it('produces a state that survives JSON and gives the same decision', () => {
    const { state } = warmUp(pool);
    const next = { ...pool, nowMs: 122_000, reading: steadyReading(122_000, { depth: 400, oldestJobAgeSeconds: 12 }) };
    const direct = decideScale({ ...next, state });
    const revived = decideScale({ ...next, state: JSON.parse(JSON.stringify(state)) as ScalerState });
    expect(revived).toEqual(direct);
  });
});

describe('decideScale: bursts', () => {
  it('scales up when the oldest job passes the target, and says why', () => {
    const { state } = warmUp({ ...pool, currentReplicas: 3, readyReplicas: 3 });
    const decision = decideScale({
      ...pool,
      currentReplicas: 3,
      readyReplicas: 3,
      nowMs: 122_000,
      reading: steadyReading(122_000, { depth: 900, oldestJobAgeSeconds: 45, busy: 30 }),
      state,
    });
    expect(decision.desiredReplicas).toBeGreaterThan(8);
    expect(decision.reasonCode).toBe(SCALE_REASONS.latency);
    expect(decision.reason).toMatch(
      /^oldest job 45s > target 30s, backlog 900, \d+ jobs\/s arriving, 5 jobs\/s per replica \(from completions\): 3 -> \d+$/,
    );
  });

  it('never goes above maxReplicas', () => {
    const capped = { ...pool, scaling: scalingSpec({ maxReplicas: 6 }) };
    const { state } = warmUp(capped);
    const decision = decideScale({
      ...capped,
      nowMs: 122_000,
      reading: steadyReading(122_000, { depth: 50_000, oldestJobAgeSeconds: 200 }),
      state,
    });
    expect(decision.desiredReplicas).toBe(6);
  });

  it('respects scale-up rate limits and says so', () => {
    const limited = {
      ...pool,
      scaling: scalingSpec({ maxReplicas: 50, scaleUp: { policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }] } }),
    };
    const { state } = warmUp(limited);
    const decision = decideScale({
      ...limited,
      nowMs: 122_000,
      reading: steadyReading(122_000, { depth: 5000, oldestJobAgeSeconds: 40 }),
      state,
    });
    expect(decision.desiredReplicas).toBe(6);
    expect(decision.reasonCode).toBe(SCALE_REASONS.rateLimited);
    expect(decision.reason).toContain('rate limited');
  });

  it('holds a scale-down within the down stabilization window', () => {
    const windowed = {
      ...pool,
      scaling: scalingSpec({ maxReplicas: 50, scaleDown: { stabilizationWindowSeconds: 60 } }),
    };
    let state = warmUp(windowed).state;
    const burst = decideScale({
      ...windowed,
      nowMs: 122_000,
      reading: steadyReading(122_000, { depth: 3000, oldestJobAgeSeconds: 40 }),
      state,
    });
    state = burst.state;
    const after = decideScale({
      ...windowed,
      currentReplicas: burst.desiredReplicas,
      readyReplicas: burst.desiredReplicas,
      nowMs: 124_000,
      reading: steadyReading(124_000),
      state,
    });
    expect(after.desiredReplicas).toBe(burst.desiredReplicas);
    expect(after.reasonCode).toBe(SCALE_REASONS.stabilized);
  });
});

describe("decideScale: the queue's own arrival rate", () => {
  // After two minutes at 20 jobs/s a queue forms and grows over two polls. Depth / oldest age is
  // the rate of the jobs waiting; it counts only when it stands out of its own count noise.
  function queueGrowsTo(depth: number, ageSeconds: number): Decision {
    let { state } = warmUp(pool);
    state = decideScale({
      ...pool,
      nowMs: 122_000,
      reading: steadyReading(122_000, { depth: Math.round(depth / 4), oldestJobAgeSeconds: ageSeconds / 2 }),
      state,
    }).state;
    return decideScale({
      ...pool,
      nowMs: 124_000,
      reading: steadyReading(124_000, { depth, oldestJobAgeSeconds: ageSeconds }),
      state,
    });
  }

  it('sizes a lasting burst from the queue at its second poll', () => {
    const decision = queueGrowsTo(400, 2.4);
    expect(decision.signals?.sustainedArrivalRatePerSecond).toBeCloseTo(400 / 2.4, 6);
  });

  it('does not take a short queue of a pool that keeps up for a higher rate', () => {
    // 60 jobs in 2.4 s is 25 jobs/s, within 4 deviations (1 / sqrt(60) each) of the 20 measured.
    const decision = queueGrowsTo(60, 2.4);
    expect(decision.signals?.sustainedArrivalRatePerSecond).toBeLessThan(23);
  });
});

describe('decideScale: a real drop in the arrival rate', () => {
  // 50 jobs/s of 2 s jobs keep 10 replicas busy for two minutes; then 15 jobs/s for 30 s.
  function afterDrop(downWindowSeconds?: number): { atPeak: Decision; after: Decision } {
    const scaleDown =
      downWindowSeconds === undefined ? {} : { scaleDown: { stabilizationWindowSeconds: downWindowSeconds } };
    const dropping = { format: 'native' as const, scaling: scalingSpec({ maxReplicas: 50, ...scaleDown }) };
    let state = initialScalerState();
    let completed = 0;
    let atPeak: Decision | undefined;
    let decision: Decision | undefined;
    for (let atMs = 0; atMs <= 150_000; atMs += POLL_MS) {
      const rate = atMs <= 120_000 ? 50 : 15;
      completed += (rate * POLL_MS) / 1000;
      decision = decideScale({
        ...dropping,
        currentReplicas: 10,
        readyReplicas: 10,
        nowMs: atMs,
        reading: reading({ observedAtMs: atMs, busy: rate * 2, completedTotal: completed }),
        state,
      });
      state = decision.state;
      if (atMs === 120_000) atPeak = decision;
    }
    return { atPeak: atPeak as Decision, after: decision as Decision };
  }

  it('shortens the down window, which is there for noise, to FALLING_DOWN_WINDOW_SECONDS (15 s)', () => {
    // The default 45 s window would hold 10 for 45 s; a drop this clear is not noise.
    const { atPeak, after } = afterDrop();
    expect(atPeak.desiredReplicas).toBe(10);
    expect(after.desiredReplicas).toBeLessThan(10);
  });

  it('holds a window the pool set longer than the default, as set', () => {
    expect(afterDrop(300).after.desiredReplicas).toBe(10);
  });
});

describe('decideScale: a batch that is done', () => {
  // A batch kept 12 replicas busy; then nothing arrives and the queue is empty, with 15 jobs still
  // running. The default 45 s down window remembers the batch's 12.
  const batch = { format: 'native' as const, scaling: scalingSpec({ maxReplicas: 50 }) };
  function afterBatch(quietReadings: (atMs: number) => QueueReading, scaling = batch.scaling): Decision {
    let state = initialScalerState();
    let decision: Decision | undefined;
    for (let atMs = 0; atMs <= 60_000; atMs += POLL_MS) {
      const during = atMs <= 40_000;
      decision = decideScale({
        ...batch,
        scaling,
        currentReplicas: 12,
        readyReplicas: 12,
        nowMs: atMs,
        reading: during
          ? reading({ observedAtMs: atMs, depth: 200, oldestJobAgeSeconds: 4, busy: 120, completedTotal: atMs / 20 })
          : quietReadings(atMs),
        state,
      });
      state = decision.state;
    }
    return decision as Decision;
  }

  it('lets go of the down window once nothing waits or arrives, keeping the replicas its running jobs will still fill at the next poll', () => {
    const decision = afterBatch((atMs) => reading({ observedAtMs: atMs, depth: 0, busy: 15, completedTotal: 2000 }));
    const serviceSeconds = decision.signals?.serviceTimeSeconds;
    if (serviceSeconds === undefined) throw new Error('expected the decision to carry its signals');
    // Of 15 jobs of mean service time S, 15 e^(-poll/S) still run a poll later, on 10 slots a replica.
    const stillRunning = 15 * Math.exp(-(POLL_MS / 1000) / serviceSeconds);
    expect(decision.desiredReplicas).toBe(Math.max(1, Math.ceil(stillRunning / 10)));
    expect(decision.desiredReplicas).toBeLessThanOrEqual(2);
    expect(decision.reasonCode).toBe(SCALE_REASONS.idle);
  });

  it('keeps a window the pool set longer than the default, as set', () => {
    const decision = afterBatch(
      (atMs) => reading({ observedAtMs: atMs, depth: 0, busy: 15, completedTotal: 2000 }),
      scalingSpec({ maxReplicas: 50, scaleDown: { stabilizationWindowSeconds: 300 } }),
    );
    expect(decision.desiredReplicas).toBe(12);
  });

  it('keeps the window where the format cannot see jobs in flight (an empty list may be keeping up)', () => {
    const decision = afterBatch((atMs) =>
      reading({ observedAtMs: atMs, depth: 0, busy: undefined, completedTotal: undefined }),
    );
    expect(decision.desiredReplicas).toBe(12);
  });

  it('once the backlog is drained, keeps what the arrivals still ask for, not the surge that drained it', () => {
    const stillArriving = (atMs: number) =>
      reading({ observedAtMs: atMs, depth: 0, busy: 15, completedTotal: 2000 + (atMs - 40_000) / 20 });
    const decision = afterBatch(stillArriving);
    const signals = decision.signals;
    if (signals === undefined) throw new Error('expected the decision to carry its signals');
    const forArrivals = signals.arrivalRatePerSecond / signals.perReplicaJobsPerSecond;
    expect(signals.arrivalRatePerSecond).toBeGreaterThan(40);
    expect(decision.desiredReplicas).toBeLessThan(12);
    expect(decision.desiredReplicas).toBeGreaterThanOrEqual(Math.ceil(forArrivals));
  });
});

describe('decideScale: manual control', () => {
  it('runs exactly the pinned replicas, whatever the queue says', () => {
    const decision = decideScale({
      ...pool,
      pinnedReplicas: 3,
      currentReplicas: 5,
      nowMs: 0,
      reading: steadyReading(0, { depth: 10_000, oldestJobAgeSeconds: 500 }),
      state: initialScalerState(),
    });
    expect(decision.desiredReplicas).toBe(3);
    expect(decision.reasonCode).toBe(SCALE_REASONS.pinned);
    expect(decision.reason).toBe('pinned to 3 by spec.replicas: 5 -> 3');
  });

  it('holds a paused pool', () => {
    const decision = decideScale({
      ...pool,
      paused: true,
      nowMs: 0,
      reading: steadyReading(0, { depth: 10_000, oldestJobAgeSeconds: 500 }),
      state: initialScalerState(),
    });
    expect(decision.desiredReplicas).toBe(4);
    expect(decision.reasonCode).toBe(SCALE_REASONS.paused);
  });
});

describe('decideScale: missing signals', () => {
  it('holds, never scaling down blind, when a read fails', () => {
    const { state } = warmUp({ ...pool, currentReplicas: 12, readyReplicas: 12 }, 10_000);
    const decision = decideScale({
      ...pool,
      currentReplicas: 12,
      readyReplicas: 12,
      nowMs: 12_000,
      reading: undefined,
      state,
    });
    expect(decision.desiredReplicas).toBe(12);
    expect(decision.reasonCode).toBe(SCALE_REASONS.signalsUnavailable);
    expect(decision.reason).toBe('signals unavailable for 0s: holding 12');
  });

  it('treats a reading older than three polls as missing', () => {
    const decision = decideScale({
      ...pool,
      currentReplicas: 12,
      readyReplicas: 12,
      nowMs: 60_000,
      reading: steadyReading(20_000),
      state: initialScalerState(),
    });
    expect(decision.reasonCode).toBe(SCALE_REASONS.signalsUnavailable);
    expect(decision.desiredReplicas).toBe(12);
  });

  it('raises to fallback.replicas once signals stayed unreadable past the threshold', () => {
    const withFallback = {
      ...pool,
      scaling: scalingSpec({ maxReplicas: 50, fallback: { failureThresholdSeconds: 30, replicas: 8 } }),
    };
    let state = initialScalerState();
    const early = decideScale({ ...withFallback, nowMs: 0, reading: undefined, state });
    state = early.state;
    expect(early.desiredReplicas).toBe(4);
    const late = decideScale({ ...withFallback, nowMs: 31_000, reading: undefined, state });
    expect(late.desiredReplicas).toBe(8);
    expect(late.reasonCode).toBe(SCALE_REASONS.fallback);
    expect(late.reason).toBe('signals unavailable for 31s (threshold 30s), fallback 8 replicas: 4 -> 8');
  });

  it('never lowers a pool to fallback.replicas', () => {
    const withFallback = {
      ...pool,
      currentReplicas: 20,
      readyReplicas: 20,
      scaling: scalingSpec({ maxReplicas: 50, fallback: { failureThresholdSeconds: 30, replicas: 8 } }),
    };
    const state: ScalerState = { ...initialScalerState(), failingSinceMs: 0 };
    expect(decideScale({ ...withFallback, nowMs: 60_000, reading: undefined, state }).desiredReplicas).toBe(20);
  });

  it('resumes sizing once a reading arrives', () => {
    const { state } = warmUp(pool, 10_000);
    const failing = decideScale({ ...pool, nowMs: 12_000, reading: undefined, state });
    const back = decideScale({ ...pool, nowMs: 14_000, reading: steadyReading(14_000), state: failing.state });
    expect(back.state.failingSinceMs).toBeUndefined();
    expect(back.reasonCode).not.toBe(SCALE_REASONS.signalsUnavailable);
  });
});

describe('decideScale: scale to zero', () => {
  const zeroable = {
    format: 'native' as const,
    scaling: scalingSpec({
      minReplicas: 0,
      maxReplicas: 20,
      scaleToZeroAfterSeconds: 60,
      scaleDown: { stabilizationWindowSeconds: 0 },
    }),
  };
  const idleReading = (atMs: number) => reading({ observedAtMs: atMs, depth: 0, busy: 0, completedTotal: 500 });

  it('keeps one replica until the queue has been idle for scaleToZeroAfterSeconds, then goes to zero', () => {
    let state = initialScalerState();
    let decision: Decision | undefined;
    for (let atMs = 0; atMs <= 58_000; atMs += POLL_MS) {
      decision = decideScale({
        ...zeroable,
        currentReplicas: 2,
        readyReplicas: 2,
        nowMs: atMs,
        reading: idleReading(atMs),
        state,
      });
      state = decision.state;
      expect(decision.desiredReplicas).toBeGreaterThanOrEqual(1);
    }
    const zero = decideScale({
      ...zeroable,
      currentReplicas: 1,
      readyReplicas: 1,
      nowMs: 62_000,
      reading: idleReading(62_000),
      state,
    });
    expect(zero.desiredReplicas).toBe(0);
    expect(zero.reasonCode).toBe(SCALE_REASONS.scaleToZero);
  });

  it('stays at zero while nothing waits', () => {
    const decision = decideScale({
      ...zeroable,
      currentReplicas: 0,
      readyReplicas: 0,
      nowMs: 0,
      reading: idleReading(0),
      state: initialScalerState(),
    });
    expect(decision.desiredReplicas).toBe(0);
  });

  it('wakes at once for due scheduled jobs, even with a Percent-only scale-up policy', () => {
    const percentOnly = {
      format: 'native' as const,
      scaling: scalingSpec({
        minReplicas: 0,
        maxReplicas: 20,
        scaleUp: { policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
      }),
    };
    const decision = decideScale({
      ...percentOnly,
      currentReplicas: 0,
      readyReplicas: 0,
      nowMs: 0,
      reading: reading({ observedAtMs: 0, depth: 0, dueScheduled: 3, busy: 0 }),
      state: initialScalerState(),
    });
    expect(decision.desiredReplicas).toBeGreaterThanOrEqual(1);
    expect(decision.reasonCode).toBe(SCALE_REASONS.wakeFromZero);
  });

  it('any job arriving resets the idle clock', () => {
    let state = initialScalerState();
    for (let atMs = 0; atMs <= 40_000; atMs += POLL_MS)
      state = decideScale({
        ...zeroable,
        currentReplicas: 1,
        readyReplicas: 1,
        nowMs: atMs,
        reading: idleReading(atMs),
        state,
      }).state;
    const busy = decideScale({
      ...zeroable,
      currentReplicas: 1,
      readyReplicas: 1,
      nowMs: 42_000,
      reading: reading({ observedAtMs: 42_000, busy: 1, completedTotal: 500 }),
      state,
    });
    expect(busy.state.idleSinceMs).toBeUndefined();
  });

  it('is not idle while a heartbeat counter moves, though busy, written at the beat, never shows jobs shorter than one (Sidekiq)', () => {
    // One job of 0.2 s every 2 s: every beat (10 s) finds the process with nothing running, and
    // adds the 5 jobs it finished since. Nothing waits.
    const run = (jobsPerBeat: number) => {
      let state = initialScalerState();
      let decision: Decision | undefined;
      for (let atMs = 0; atMs <= 120_000; atMs += POLL_MS) {
        decision = decideScale({
          ...zeroable,
          format: 'sidekiq',
          currentReplicas: 1,
          readyReplicas: 1,
          nowMs: atMs,
          reading: reading({
            observedAtMs: atMs,
            depth: 0,
            busy: 0,
            completedTotal: 500 + jobsPerBeat * Math.floor((atMs - 1000) / 10_000),
            completedGranularitySeconds: 10,
          }),
          state,
        });
        state = decision.state;
      }
      return decision;
    };
    expect(run(5)?.desiredReplicas).toBe(1);
    // The same pool with no job for two minutes goes to zero.
    expect(run(0)?.desiredReplicas).toBe(0);
  });
});

describe('concurrencyPerReplica', () => {
  it('takes what live, serving workers report over the spec', () => {
    const workers = [
      { pod: 'a', busy: 3, concurrency: 25, draining: false },
      { pod: 'b', busy: 0, concurrency: 15, draining: false },
      { pod: 'c', busy: 1, concurrency: 99, draining: true },
    ];
    expect(concurrencyPerReplica(reading({ observedAtMs: 0, workers }), 10)).toBe(20);
    expect(concurrencyPerReplica(reading({ observedAtMs: 0 }), 10)).toBe(10);
  });
});

describe('decideScale: scheduled jobs seen before they are due', () => {
  // 500 jobs scheduled to come due at 60 s onto a pool at zero whose pods start in 10 s.
  const scaling = scalingSpec({ minReplicas: 0, maxReplicas: 50, podStartupSeconds: 10 });
  const dueAtMs = 60_000;
  function upcomingAt(atMs: number) {
    const dueIn = (dueAtMs - atMs) / 1000;
    const horizons = UPCOMING_HORIZONS_SECONDS;
    return {
      horizonsSeconds: horizons,
      dueWithin: horizons.map((horizon) => (dueIn <= horizon ? 500 : 0)),
      earliestDueInSeconds: horizons.map((horizon, index) =>
        dueIn <= horizon && dueIn > (horizons[index - 1] ?? 0) ? dueIn : (horizons[index - 1] ?? 0),
      ),
    };
  }

  it('wakes the pool a start-up before they come due, and says why', () => {
    let state = initialScalerState();
    let current = 0;
    let wokeAtMs: number | undefined;
    let reason = '';
    for (let atMs = 0; atMs < dueAtMs; atMs += POLL_MS) {
      const decision = decideScale({
        format: 'native',
        scaling,
        currentReplicas: current,
        readyReplicas: 0,
        nowMs: atMs,
        reading: reading({ observedAtMs: atMs, busy: 0, upcoming: upcomingAt(atMs) }),
        state,
      });
      state = decision.state;
      if (wokeAtMs === undefined && decision.desiredReplicas > 0) {
        wokeAtMs = atMs;
        reason = decision.reason;
      }
      current = decision.desiredReplicas;
    }
    if (wokeAtMs === undefined) throw new Error('the pool never woke for the scheduled jobs');
    // Asked for no earlier than needed to be ready by then, give or take a horizon and a poll.
    expect(wokeAtMs + scaling.podStartupSeconds * 1000).toBeLessThanOrEqual(dueAtMs);
    expect(wokeAtMs).toBeGreaterThanOrEqual(dueAtMs - 30_000);
    expect(reason).toMatch(/^500 jobs due in \d+s; /);
    expect(current).toBeGreaterThan(1);
  });

  it('does not take the jobs that came due for a rise in the arrival rate', () => {
    const before = decideScale({
      format: 'native',
      scaling,
      currentReplicas: 5,
      readyReplicas: 5,
      nowMs: dueAtMs - POLL_MS,
      reading: reading({ observedAtMs: dueAtMs - POLL_MS, busy: 0, upcoming: upcomingAt(dueAtMs - POLL_MS) }),
      state: initialScalerState(),
    });
    const after = decideScale({
      format: 'native',
      scaling,
      currentReplicas: 5,
      readyReplicas: 5,
      nowMs: dueAtMs,
      reading: reading({ observedAtMs: dueAtMs, depth: 450, oldestJobAgeSeconds: 0.5, busy: 50 }),
      state: before.state,
    });
    expect(after.signals?.arrivalRatePerSecond).toBe(0);
  });
});
