import { describe, expect, it } from 'vitest';
import { addToRate, EMPTY_RATE, rateOf } from './decayed-rate.ts';
import { signalProfile } from '../signals/signal-profile.ts';
import {
  arrivalsCounted,
  arrivalsDropping,
  arrivalsBetween,
  lumpyCounterSpan,
  observeReading,
  plannedArrivalRate,
  serviceTimeSeconds,
  startsFromHeadAdvance,
  sustainedRate,
  type ObservationContext,
} from './signal-estimates.ts';
import { reading } from './test-helpers.ts';
import { initialScalerState, type SampleMemo } from './types.ts';

const memo = (fields: Partial<SampleMemo> & { atMs: number }): SampleMemo => ({
  depth: 0,
  busy: 0,
  completedTotal: 0,
  oldestAgeSeconds: 0,
  ...fields,
});
const native: ObservationContext = { profile: signalProfile('native'), servingSlots: 40 };

describe('arrivalsBetween', () => {
  it('counts every arrival as waiting, running or done: Δdepth + Δbusy + Δcompleted', () => {
    const arrived = arrivalsBetween(
      memo({ atMs: 0, depth: 10, busy: 5, completedTotal: 100 }),
      memo({ atMs: 2000, depth: 4, busy: 8, completedTotal: 130 }),
    );
    expect(arrived).toBe(-6 + 3 + 30);
  });

  it('is unknown when the format does not count completions', () => {
    expect(
      arrivalsBetween(memo({ atMs: 0, completedTotal: undefined }), memo({ atMs: 2000, completedTotal: undefined })),
    ).toBeUndefined();
  });

  it('is unknown when the completion counter went backwards (Redis restarted)', () => {
    expect(
      arrivalsBetween(memo({ atMs: 0, completedTotal: 500 }), memo({ atMs: 2000, completedTotal: 3 })),
    ).toBeUndefined();
  });
});

describe('observeReading', () => {
  it("learns the service time from busy slots and completions (Little's law)", () => {
    let state = initialScalerState();
    // 20 jobs always running, 10 completing per second: each runs 2 s.
    for (let second = 0; second <= 60; second += 2) {
      const observed = observeReading(
        state,
        reading({ observedAtMs: second * 1000, busy: 20, completedTotal: second * 10 }),
        native,
      );
      state = { ...state, ...observed, lastSample: observed.lastSample };
    }
    expect(serviceTimeSeconds(state.service)).toBeCloseTo(2, 6);
  });

  it('measures the arrival rate from counters', () => {
    let state = initialScalerState();
    for (let second = 0; second <= 60; second += 2) {
      // 7 jobs/s arrive and complete at once; the queue stays empty.
      const observed = observeReading(
        state,
        reading({ observedAtMs: second * 1000, busy: 0, completedTotal: second * 7 }),
        native,
      );
      state = { ...state, ...observed, lastSample: observed.lastSample };
    }
    expect(state.arrivalsFast.events / state.arrivalsFast.seconds).toBeCloseTo(7, 6);
  });

  it('ignores a reading that is not newer than the last one', () => {
    const first = observeReading(initialScalerState(), reading({ observedAtMs: 5000, completedTotal: 10 }), native);
    const state = { ...initialScalerState(), ...first };
    const again = observeReading(state, reading({ observedAtMs: 5000, completedTotal: 50 }), native);
    expect(again.arrivedSinceLast).toBeUndefined();
    expect(again.arrivalsFast).toEqual(state.arrivalsFast);
  });
});

describe('startsFromHeadAdvance', () => {
  it('counts the share of the backlog the head moved past', () => {
    // 100 jobs that arrived over the last 50 s; 2 s later the oldest is 38 s old: the head passed
    // the jobs of 14 of those 50 seconds.
    expect(
      startsFromHeadAdvance(
        memo({ atMs: 0, depth: 100, oldestAgeSeconds: 50 }),
        memo({ atMs: 2000, depth: 80, oldestAgeSeconds: 38 }),
      ),
    ).toBeCloseTo(28, 9);
  });

  it('counts the whole backlog and the newer jobs the head moved past', () => {
    // 10 jobs waited at 0 s; at 4 s the oldest waiting job arrived at 3 s and 5 jobs arrived
    // since then (5 per second): the 10 and the 15 that arrived in the first 3 s started.
    expect(
      startsFromHeadAdvance(
        memo({ atMs: 0, depth: 10, oldestAgeSeconds: 6 }),
        memo({ atMs: 4000, depth: 5, oldestAgeSeconds: 1 }),
      ),
    ).toBeCloseTo(25, 9);
  });

  it('counts at least what the backlog lost when its jobs all arrived at one instant', () => {
    // 500 jobs enqueued at once: while they drain the head keeps the burst's age, so the head's
    // advance alone counted nothing and made the service time look many times too long.
    expect(
      startsFromHeadAdvance(
        memo({ atMs: 0, depth: 500, oldestAgeSeconds: 4 }),
        memo({ atMs: 2000, depth: 400, oldestAgeSeconds: 6 }),
      ),
    ).toBe(100);
  });

  it('cannot tell how many started once the queue is empty, nor without an age', () => {
    expect(
      startsFromHeadAdvance(memo({ atMs: 0, depth: 10, oldestAgeSeconds: 6 }), memo({ atMs: 2000, depth: 0 })),
    ).toBeUndefined();
    expect(
      startsFromHeadAdvance(
        memo({ atMs: 0, depth: 10, oldestAgeSeconds: undefined }),
        memo({ atMs: 2000, depth: 5, oldestAgeSeconds: undefined }),
      ),
    ).toBeUndefined();
  });
});

describe('observeReading without a completion counter', () => {
  it('learns the service time from the queue head and busy (BullMQ without metrics)', () => {
    const bullmq: ObservationContext = { profile: signalProfile('bullmq'), servingSlots: 40 };
    let state = initialScalerState();
    // 40 slots busy with 4 s jobs drain a backlog at 10 jobs/s while 4 jobs/s arrive: the
    // backlog arrived over its oldest age, evenly.
    for (let second = 0; second <= 40; second += 2) {
      const depth = 600 - 6 * second;
      const oldest = depth / 4;
      const observed = observeReading(
        state,
        reading({
          observedAtMs: second * 1000,
          depth,
          oldestJobAgeSeconds: oldest,
          busy: 40,
          completedTotal: undefined,
        }),
        bullmq,
      );
      state = { ...state, ...observed, lastSample: observed.lastSample };
    }
    expect(serviceTimeSeconds(state.service)).toBeCloseTo(4, 1);
    expect(state.serviceEstimate).toBe('queue drain');
    expect(state.arrivalsSlow.events / state.arrivalsSlow.seconds).toBeCloseTo(4, 1);
  });

  it("ignores Sidekiq's stat:processed while another pool's process serves on the same Redis", () => {
    const sidekiq: ObservationContext = { profile: signalProfile('sidekiq'), servingSlots: 40 };
    let state = initialScalerState();
    for (let second = 0; second <= 20; second += 2) {
      const observed = observeReading(
        state,
        reading({
          observedAtMs: second * 1000,
          depth: 0,
          busy: 0,
          completedTotal: second * 500,
          completedGranularitySeconds: 10,
          completedSharedWith: 'host-b:7:ab12 serves mailers',
        }),
        sidekiq,
      );
      state = { ...state, ...observed, lastSample: observed.lastSample };
    }
    expect(serviceTimeSeconds(state.service)).toBeUndefined();
    expect(state.arrivalsFast.events).toBe(0);
  });
});

describe('observeReading with a counter that moves only at heartbeats (Sidekiq stat:processed)', () => {
  const sidekiq: ObservationContext = { profile: signalProfile('sidekiq'), servingSlots: 40 };
  // 5 jobs/s of 2 s each: 10 busy, the queue empty. Both processes beat every 10 s, in step, and
  // add their 50 jobs then (launcher.rb v7.3.9 l. 86, 117-128): the counter stands still for four
  // polls of 2 s, then jumps by 50.
  const lumpyReading = (second: number, granularity: number | undefined) =>
    reading({
      observedAtMs: second * 1000,
      depth: 0,
      busy: 10,
      completedTotal: Math.floor(second / 10) * 50,
      ...(granularity === undefined ? {} : { completedGranularitySeconds: granularity }),
    });

  function arrivalRates(granularity: number | undefined) {
    let state = initialScalerState();
    const rates: number[] = [];
    for (let second = 1; second <= 181; second += 2) {
      const observed = observeReading(state, lumpyReading(second, granularity), sidekiq);
      state = { ...state, ...observed, lastSample: observed.lastSample, completionSpan: observed.completionSpan };
      if (second > 60) rates.push(rateOf(state.arrivalsFast) ?? 0);
    }
    return { rates, state };
  }

  it('reads no lump as a burst of arrivals, and measures the service time over whole heartbeats', () => {
    const { rates, state } = arrivalRates(10);
    expect(Math.max(...rates)).toBeLessThan(5 * 1.3);
    expect(Math.min(...rates)).toBeGreaterThan(5 / 1.3);
    expect(serviceTimeSeconds(state.service)).toBeCloseTo(2, 1);
    expect(state.serviceEstimate).toBe('completions');
  });

  it('counts arrivals, rather than estimating them, only from the poll after a span with no backlog at either end closed', () => {
    let state = initialScalerState();
    const counted: [number, boolean][] = [];
    for (let second = 1; second <= 41; second += 2) {
      // A backlog until second 13, then the queue stays empty.
      const depth = second <= 13 ? 50 : 0;
      const observed = observeReading(state, { ...lumpyReading(second, 10), depth }, sidekiq);
      state = { ...state, ...observed, lastSample: observed.lastSample, completionSpan: observed.completionSpan };
      counted.push([second, arrivalsCounted(false, observed.completionSpan, second * 1000)]);
    }
    // Spans close at 11, 21, 31, 41: 11-21 began with a backlog, 21-31 is the first without one.
    expect(counted.filter(([, yes]) => yes).map(([second]) => second)).toEqual([33, 35, 37, 39]);
    // A counter that counts each completion as it happens counts arrivals every poll.
    expect(arrivalsCounted(true, undefined, 0)).toBe(true);
  });

  it('never counts scheduled jobs that came due in one span as arrivals of the next, where their completions show', () => {
    const at = (second: number, completedTotal: number) =>
      memo({ atMs: second * 1000, depth: 0, busy: 0, completedTotal, completedGranularitySeconds: 10 });
    const opened = { fromMs: 0, completedTotal: 0, busySeconds: 0, depth: 0, busy: 0, cameDue: 0 };
    const first = lumpyCounterSpan(opened, at(0, 0), at(10, 0), 5, 100);
    // 100 jobs came due and ran; no heartbeat has added them yet: nothing arrived, 100 owed.
    expect(first?.measured?.arrived).toBe(0);
    expect(first?.open?.owed).toBe(100);
    const second = lumpyCounterSpan(first?.open, at(10, 0), at(20, 100), 0, 0);
    expect(second?.measured).toMatchObject({ completed: 100, arrived: 0 });
  });

  it('would see phantom bursts if the same lumps were taken as an exact counter, poll by poll', () => {
    const { rates } = arrivalRates(undefined);
    expect(Math.max(...rates)).toBeGreaterThan(5 * 1.5);
  });
});

describe('serviceTimeSeconds', () => {
  it('is unknown before a job completed', () => {
    expect(serviceTimeSeconds(EMPTY_RATE)).toBeUndefined();
    expect(serviceTimeSeconds({ events: 0, seconds: 40 })).toBeUndefined();
  });
});

/** A decayed rate after `seconds` of a steady `perSecond`. */
function steady(perSecond: number, halfLife: number, seconds = 600) {
  let rate = EMPTY_RATE;
  for (let second = 0; second < seconds; second += 1) rate = addToRate(rate, perSecond, 1, halfLife);
  return rate;
}

describe('plannedArrivalRate', () => {
  it('plans for the current rate when it is flat', () => {
    const rates = plannedArrivalRate(steady(20, 6, 600), steady(20, 45, 600), 10);
    expect(rates.planned).toBeCloseTo(20, 6);
    expect(rates.sustained).toBeCloseTo(20, 6);
  });

  it('extrapolates a rising rate over the lead time', () => {
    const rates = plannedArrivalRate(steady(40, 6, 600), steady(20, 45, 600), 10);
    expect(rates.current).toBeCloseTo(40, 6);
    expect(rates.planned).toBeGreaterThan(40);
  });

  it('does not extrapolate a falling rate', () => {
    const rates = plannedArrivalRate(steady(10, 6, 600), steady(20, 45, 600), 10);
    expect(rates.planned).toBeCloseTo(10, 6);
  });
});

describe('sustainedRate', () => {
  it('keeps the slow rate through noise', () => {
    expect(sustainedRate(48, 50)).toBe(50);
  });

  it('follows the fast rate after a real drop', () => {
    expect(sustainedRate(15, 50)).toBe(15);
  });

  it('keeps the slow rate when the fast one is higher (the deadlines handle a rise)', () => {
    expect(sustainedRate(80, 50)).toBe(50);
  });
});

describe('arrivalsDropping', () => {
  it('is a drop when the fast rate falls beyond its noise below the slow one', () => {
    expect(arrivalsDropping(steady(15, 6), steady(50, 45))).toBe(true);
  });

  it('is not a drop within the noise, nor a rise', () => {
    expect(arrivalsDropping(steady(48, 6), steady(50, 45))).toBe(false);
    expect(arrivalsDropping(steady(80, 6), steady(50, 45))).toBe(false);
  });

  it('is not a drop before anything was measured', () => {
    expect(arrivalsDropping(EMPTY_RATE, EMPTY_RATE)).toBe(false);
  });
});
