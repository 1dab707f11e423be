import { describe, expect, it } from 'vitest';
import { addToRate, EMPTY_RATE } from './decayed-rate.ts';
import { arrivalsBetween, observeReading, plannedArrivalRate, serviceTimeSeconds, sustainedRate } from './signal-estimates.ts';
import { reading } from './test-helpers.ts';
import { initialScalerState, type SampleMemo } from './types.ts';

const memo = (fields: Partial<SampleMemo> & { atMs: number }): SampleMemo => ({ depth: 0, busy: 0, completedTotal: 0, ...fields });

describe('arrivalsBetween', () => {
  it('counts every arrival as waiting, running or done: Δdepth + Δbusy + Δcompleted', () => {
    const arrived = arrivalsBetween(memo({ atMs: 0, depth: 10, busy: 5, completedTotal: 100 }), memo({ atMs: 2000, depth: 4, busy: 8, completedTotal: 130 }));
    expect(arrived).toBe(-6 + 3 + 30);
  });

  it('is unknown when the format does not count completions', () => {
    expect(arrivalsBetween(memo({ atMs: 0, completedTotal: undefined }), memo({ atMs: 2000, completedTotal: undefined }))).toBeUndefined();
  });

  it('is unknown when the completion counter went backwards (Redis restarted)', () => {
    expect(arrivalsBetween(memo({ atMs: 0, completedTotal: 500 }), memo({ atMs: 2000, completedTotal: 3 }))).toBeUndefined();
  });
});

describe('observeReading', () => {
  it('learns the service time from busy slots and completions (Little\'s law)', () => {
    let state = initialScalerState();
    // 20 jobs always running, 10 completing per second: each runs 2 s.
    for (let second = 0; second <= 60; second += 2) {
      const observed = observeReading(state, reading({ observedAtMs: second * 1000, busy: 20, completedTotal: second * 10 }));
      state = { ...state, ...observed, lastSample: observed.lastSample };
    }
    expect(serviceTimeSeconds(state.service)).toBeCloseTo(2, 6);
  });

  it('measures the arrival rate from counters', () => {
    let state = initialScalerState();
    for (let second = 0; second <= 60; second += 2) {
      // 7 jobs/s arrive and complete at once; the queue stays empty.
      const observed = observeReading(state, reading({ observedAtMs: second * 1000, busy: 0, completedTotal: second * 7 }));
      state = { ...state, ...observed, lastSample: observed.lastSample };
    }
    expect(state.arrivalsFast.events / state.arrivalsFast.seconds).toBeCloseTo(7, 6);
  });

  it('ignores a reading that is not newer than the last one', () => {
    const first = observeReading(initialScalerState(), reading({ observedAtMs: 5000, completedTotal: 10 }));
    const state = { ...initialScalerState(), ...first };
    const again = observeReading(state, reading({ observedAtMs: 5000, completedTotal: 50 }));
    expect(again.arrivedSinceLast).toBeUndefined();
    expect(again.arrivalsFast).toEqual(state.arrivalsFast);
  });
});

describe('serviceTimeSeconds', () => {
  it('is unknown before a job completed', () => {
    expect(serviceTimeSeconds(EMPTY_RATE)).toBeUndefined();
    expect(serviceTimeSeconds({ events: 0, seconds: 40 })).toBeUndefined();
  });
});

describe('plannedArrivalRate', () => {
  const steady = (perSecond: number, halfLife: number, seconds: number) => {
    let rate = EMPTY_RATE;
    for (let second = 0; second < seconds; second += 1) rate = addToRate(rate, perSecond, 1, halfLife);
    return rate;
  };

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
