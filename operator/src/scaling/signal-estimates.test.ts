import { describe, expect, it } from 'vitest';
import { addToRate, EMPTY_RATE, rateOf } from './decayed-rate.ts';
import { signalProfile } from '../signals/signal-profile.ts';
import {
  arrivalsCounted,
  arrivalsCountedOverSeconds,
  arrivalsDropping,
  FAST_RATE_COUNTED_SECONDS,
  arrivalsBetween,
  beatsAboutToLand,
  lumpLanded,
  lumpyCounterSpan,
  memoOf,
  observeReading,
  plannedArrivalRate,
  serviceTimeSeconds,
  startsFromHeadAdvance,
  startsNotYetSeen,
  sustainedRate,
  unflushedCompletions,
  type ObservationContext,
} from './signal-estimates.ts';
import { reading } from './test-helpers.ts';
import { initialScalerState, type CompletionSpan, type SampleMemo } from './types.ts';

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

  it('counts arrivals, rather than estimating them, from the poll where a span that ended with no backlog closed', () => {
    let state = initialScalerState();
    const counted: [number, boolean][] = [];
    for (let second = 1; second <= 41; second += 2) {
      // A backlog until second 13, then the queue stays empty.
      const depth = second <= 13 ? 50 : 0;
      const observed = observeReading(state, { ...lumpyReading(second, 10), depth }, sidekiq);
      state = { ...state, ...observed, lastSample: observed.lastSample, completionSpan: observed.completionSpan };
      counted.push([second, arrivalsCounted(false, observed.completionSpan)]);
    }
    // Spans close at 11, 21, 31, 41: 1-11 ended on the backlog, 11-21 drained it and is the first
    // to end without one. Its count is the load: the drained jobs are in its Δdepth and its
    // Δcompleted alike.
    expect(counted.filter(([, yes]) => yes).map(([second]) => second)).toEqual([
      21, 23, 25, 27, 29, 31, 33, 35, 37, 39, 41,
    ]);
    // A counter that counts each completion as it happens counts arrivals every poll.
    expect(arrivalsCounted(true, undefined)).toBe(true);
  });

  it('never counts scheduled jobs that came due in one span as arrivals of the next, where their completions show', () => {
    const at = (second: number, completedTotal: number) =>
      memo({ atMs: second * 1000, depth: 0, busy: 0, completedTotal, completedGranularitySeconds: 10 });
    const opened = { fromMs: 0, completedTotal: 0, busySeconds: 0, depth: 0, busy: 0, cameDue: 0 };
    const first = lumpyCounterSpan(opened, at(0, 0), at(10, 0), 5, 100, undefined);
    // 100 jobs came due and ran; no heartbeat has added them yet: nothing arrived, 100 owed.
    expect(first?.measured?.arrived).toBe(0);
    expect(first?.open?.owed).toBe(100);
    const second = lumpyCounterSpan(first?.open, at(10, 0), at(20, 100), 0, 0, undefined);
    expect(second?.measured).toMatchObject({ completed: 100, arrived: 0 });
  });

  // Ten processes beat every 10 s at phases spread over the period (process i at i s past each
  // ten), each adding what it finished since its last beat. A burst of 100 jobs/s of 0.5 s jobs
  // (50 busy) ends at second 60; 5 jobs/s (2.5 busy) go on. The queue stays empty.
  const PROCESSES = 10;
  const perSecond = (second: number) => (second < 60 ? 100 : 5);
  const arrivedBy = (second: number) => (second < 60 ? 100 * second : 6000 + 5 * (second - 60));
  // Every job that arrived is running or done.
  const finishedBy = (second: number) => Math.max(0, arrivedBy(second) - perSecond(second) * 0.5);
  const counterAt = (second: number, alive = PROCESSES) => {
    let total = 0;
    for (let process = 0; process < PROCESSES; process += 1) {
      // A process that stopped added its count as it did: it is never behind.
      const lastBeat = process >= alive ? second : process + 10 * Math.floor((second - process) / 10);
      total += finishedBy(Math.max(0, lastBeat)) / PROCESSES;
    }
    return total;
  };
  function spanArrivals(serviceSeconds: number | undefined, alive: (second: number) => number, seesProcesses = true) {
    const sample = (second: number) =>
      memo({
        atMs: second * 1000,
        busy: perSecond(second) * 0.5,
        completedTotal: counterAt(second, alive(second)),
        completedGranularitySeconds: 10,
        ...(seesProcesses ? { processes: alive(second) } : {}),
      });
    let open: CompletionSpan | undefined = {
      fromMs: 1000,
      completedTotal: counterAt(1),
      busySeconds: 0,
      depth: 0,
      busy: 50,
      cameDue: 0,
      ...(seesProcesses ? { processes: PROCESSES } : {}),
    };
    const measured: Record<number, number> = {};
    for (let second = 3; second <= 91; second += 2) {
      const previous = sample(second - 2);
      const current = sample(second);
      const inService = ((previous.busy ?? 0) + (current.busy ?? 0)) / 2;
      const span = lumpyCounterSpan(open, previous, current, inService, 0, serviceSeconds);
      if (span?.measured !== undefined) measured[second] = span.measured.arrived;
      open = span?.open;
    }
    return measured;
  }

  it("does not count the burst's last completions, added at the next heartbeats, as the arrivals of the span after it", () => {
    const always = () => PROCESSES;
    const corrected = spanArrivals(0.5, always);
    const uncorrected = spanArrivals(undefined, always);
    // 61-71 is the first span after the burst: 50 jobs arrived in it. Read raw, it also counts
    // the burst's completions the processes added only at their beats after second 61.
    expect(uncorrected[71]).toBeGreaterThan(6 * 50);
    expect(Math.abs((corrected[71] ?? 0) - 50)).toBeLessThan(0.25 * 50);
    // The errors do not carry on: from the next span on, both read the load exactly.
    expect([corrected[81], corrected[91], uncorrected[81], uncorrected[91]]).toEqual([50, 50, 50, 50]);
  });

  it('expects no lag from processes that stopped, which added their count as they did', () => {
    // Nine of the ten stop as the burst ends: only the one left is behind.
    const alive = (second: number) => (second < 61 ? PROCESSES : 1);
    expect(Math.abs((spanArrivals(0.5, alive)[71] ?? 0) - 50)).toBeLessThan(0.5 * 50);
    // Taken as still behind, the nine would cancel the next span's arrivals entirely.
    expect(spanArrivals(0.5, alive, false)[71]).toBe(0);
  });

  it('would see phantom bursts if the same lumps were taken as an exact counter, poll by poll', () => {
    const { rates } = arrivalRates(undefined);
    expect(Math.max(...rates)).toBeGreaterThan(5 * 1.5);
  });
});

describe('a counter and busy both written only at each heartbeat (Sidekiq: launcher.rb `❤`)', () => {
  // Ten processes beat every 10 s at phases of their own; each writes its busy and adds the jobs
  // it finished at its beat, and nothing in between. The queue stays empty: 20 jobs/s of 0.5 s
  // (10 busy), 2 per process, until second 60, then 5 jobs/s. Polls every 2 s on odd seconds.
  const PROCESSES = 10;
  const perSecond = (second: number) => (second < 60 ? 20 : 5);
  const arrivedBy = (second: number) => (second < 60 ? 20 * second : 1200 + 5 * (second - 60));
  const finishedBy = (second: number) => arrivedBy(second) - perSecond(second) * 0.5;

  function spans(
    phases: readonly number[],
    knowsBeats = true,
    listsAges = false,
  ): { from: number; to: number; arrived: number; agesAtEnd: number[] }[] {
    const lastBeat = (process: number, second: number) => {
      const phase = phases[process] ?? 0;
      return phase + 10 * Math.floor((second - phase) / 10);
    };
    const sample = (second: number): SampleMemo => {
      let busy = 0;
      let completedTotal = 0;
      let beatAgeSeconds = 0;
      const secondsSinceBeats: number[] = [];
      for (let process = 0; process < PROCESSES; process += 1) {
        const beat = lastBeat(process, second);
        busy += (perSecond(beat) * 0.5) / PROCESSES;
        completedTotal += finishedBy(beat) / PROCESSES;
        beatAgeSeconds += second - beat;
        secondsSinceBeats.push(second - beat);
      }
      return memo({
        atMs: second * 1000,
        busy,
        completedTotal,
        completedGranularitySeconds: 10,
        processes: PROCESSES,
        ...(knowsBeats ? { beatAgeSeconds } : {}),
        ...(knowsBeats && listsAges ? { secondsSinceBeats } : {}),
      });
    };
    let open: CompletionSpan | undefined = {
      fromMs: -19_000,
      completedTotal: 0,
      busySeconds: 0,
      depth: 0,
      busy: 0,
      cameDue: 0,
    };
    const closed: { from: number; to: number; arrived: number; agesAtEnd: number[] }[] = [];
    let from = -19;
    for (let second = -17; second <= 101; second += 2) {
      const previous = sample(second - 2);
      const current = sample(second);
      const span = lumpyCounterSpan(open, previous, current, ((previous.busy ?? 0) + (current.busy ?? 0)) / 2, 0, 0.5);
      // The span that closes first starts with no correction: it only sets the next one up.
      if (span?.measured !== undefined && from >= 0)
        closed.push({
          from,
          to: second,
          arrived: span.measured.arrived,
          agesAtEnd: Array.from({ length: PROCESSES }, (_, process) => second - lastBeat(process, second)),
        });
      if (span?.measured !== undefined) {
        from = second;
      }
      open = span?.open;
    }
    return closed;
  }
  const spread = Array.from({ length: PROCESSES }, (_, process) => process + 0.5);
  const inStepJustBeforePolls = Array.from({ length: PROCESSES }, () => 0.5);
  const inStepJustAfterPolls = Array.from({ length: PROCESSES }, () => 1.5);

  it('counts a steady load exactly from the seconds since each beat, whether the beats spread or fall in step', () => {
    for (const phases of [spread, inStepJustBeforePolls, inStepJustAfterPolls]) {
      const before = spans(phases).filter((span) => span.to <= 51);
      expect(before.map((span) => span.arrived)).toEqual(before.map(() => 200));
    }
  });

  it('lets the error at a change of load telescope: the spans after it add up to what arrived', () => {
    for (const phases of [spread, inStepJustBeforePolls, inStepJustAfterPolls]) {
      const all = spans(phases);
      const last = all[all.length - 1];
      // Once the load is steady again every span reads it exactly, and over the spans from the
      // drop on, the count is what arrived: the span over the drop reads more (the rate of the
      // beats it covered, taken over the seconds since the last ones), the next ones less.
      expect(last?.arrived).toBeCloseTo(50, 6);
      const fromDrop = all.filter((span) => span.from >= 51);
      const counted = fromDrop.reduce((sum, span) => sum + span.arrived, 0);
      expect(counted).toBeCloseTo(arrivedBy(last?.to ?? 0) - arrivedBy(fromDrop[0]?.from ?? 0), 6);
      expect(Math.max(...fromDrop.slice(1).map((span) => span.arrived))).toBeLessThanOrEqual(50);
    }
  });

  it('reads the load again a span sooner than the assumed lag where the beats fall in step just after the polls', () => {
    const afterDrop = (knowsBeats: boolean) =>
      spans(inStepJustAfterPolls, knowsBeats)
        .filter((span) => span.from >= 61)
        .map((span) => span.arrived);
    // 50 jobs arrive in each span after the drop. The assumed lag (ages uniform over a beat,
    // busy read live) takes off what was behind at a steady 20 jobs/s, and counts a span of nothing.
    expect(afterDrop(false)[0]).toBe(0);
    expect(afterDrop(false)[1]).toBeLessThan(45);
    expect(afterDrop(true)[0]).toBeGreaterThan(25);
    expect(afterDrop(true)[1]).toBeCloseTo(50, 6);
  });

  it('closes a span a poll later where beats in step are about to land, and keeps it exact; spread beats close on time', () => {
    // Spans here close every 10 s at polls 3, 13, 23, ... s. Beats at 3.5, 13.5, ... s land just
    // after them: a span closed there would be corrected by 9.5 s of every process's starts.
    const justAfterClosingPolls = Array.from({ length: PROCESSES }, () => 3.5);
    const inStep = spans(justAfterClosingPolls, true, true).filter((span) => span.to <= 51);
    expect(inStep.length).toBeGreaterThan(2);
    for (const span of inStep) {
      expect(Math.max(...span.agesAtEnd)).toBeLessThanOrEqual(2);
      expect(span.to - span.from).toBeLessThan(20);
      expect(span.arrived).toBeCloseTo(20 * (span.to - span.from), 6);
    }
    const spreadSpans = spans(spread, true, true).filter((span) => span.to <= 51);
    expect(spreadSpans.map((span) => span.to - span.from)).toEqual(spreadSpans.map(() => 10));
    expect(spreadSpans.map((span) => span.arrived)).toEqual(spreadSpans.map(() => 200));
  });

  it('falls back to the lag a busy read live would give where a process does not say when it beat', () => {
    const steady = spans(spread, false).filter((span) => span.to <= 51);
    expect(steady.length).toBeGreaterThan(3);
    expect(steady.every((span) => span.arrived === 200)).toBe(true);
  });
});

describe('startsNotYetSeen', () => {
  it('is the jobs started per process-second the beats covered, over the seconds since the last beats', () => {
    // 10 processes over a 10 s span, 45 s since their beats at either end: the beats covered
    // 100 process-seconds, in which 50 jobs started; 45 process-seconds are not seen yet.
    expect(startsNotYetSeen({ seen: 50, processSeconds: 100, beatAgeAtStart: 45, beatAgeAtEnd: 45 })).toBeCloseTo(
      22.5,
      9,
    );
    // Every process just beat: nothing is behind.
    expect(startsNotYetSeen({ seen: 50, processSeconds: 100, beatAgeAtStart: 45, beatAgeAtEnd: 0 })).toBe(0);
  });

  it('is unknown without every age, or when the beats covered nothing', () => {
    expect(
      startsNotYetSeen({ seen: 50, processSeconds: 100, beatAgeAtStart: undefined, beatAgeAtEnd: 45 }),
    ).toBeUndefined();
    expect(startsNotYetSeen({ seen: 0, processSeconds: 10, beatAgeAtStart: 0, beatAgeAtEnd: 10 })).toBeUndefined();
  });
});

describe('beatsAboutToLand', () => {
  const at = (secondsSinceBeats: number[]) =>
    memo({
      atMs: 0,
      busy: 0,
      completedTotal: 0,
      completedGranularitySeconds: 10,
      beatAgeSeconds: secondsSinceBeats.reduce((sum, age) => sum + age, 0),
      secondsSinceBeats,
    });

  it('says the next poll finds the processes much nearer their beats: in step and about to beat', () => {
    expect(beatsAboutToLand(at([9.5, 9.5, 9.3]), 2, 10)).toBe(true);
    // Two cohorts, the larger about to beat.
    expect(beatsAboutToLand(at([9, 9, 9, 9, 4]), 2, 10)).toBe(true);
  });

  it('says no where beats spread over the period, just landed, or are unknown', () => {
    expect(beatsAboutToLand(at([0.5, 2.5, 4.5, 6.5, 8.5]), 2, 10)).toBe(false);
    expect(beatsAboutToLand(at([0.5, 0.7]), 2, 10)).toBe(false);
    expect(beatsAboutToLand(memo({ atMs: 0, busy: 0, completedTotal: 0, beatAgeSeconds: 19 }), 2, 10)).toBe(false);
  });
});

describe("a process's beat age, from its host's clock", () => {
  it('is kept within one heartbeat, so a host clock ahead or behind Redis skews the correction by at most that', () => {
    const sidekiq = signalProfile('sidekiq');
    const beatAgo = (seconds: number) => ({
      pod: 'p',
      busy: 0,
      concurrency: 5,
      draining: false,
      beatAtMs: 100_000 - seconds * 1000,
    });
    const sample = memoOf(
      reading({
        observedAtMs: 100_000,
        completedGranularitySeconds: 10,
        // In step with Redis (4 s ago); 3 s ahead of it (a beat "from the future"); 25 s behind it.
        workers: [beatAgo(4), beatAgo(-3), beatAgo(25)],
      }),
      sidekiq,
    );
    expect(sample.beatAgeSeconds).toBe(4 + 0 + 10);
  });
});

describe('lumpLanded', () => {
  it('says a heartbeat counter moved: jobs finished since some process beat before, however short', () => {
    const at = (second: number, completedTotal: number) =>
      memo({ atMs: second * 1000, busy: 0, completedTotal, completedGranularitySeconds: 10 });
    expect(lumpLanded(at(0, 10), at(2, 12))).toBe(true);
    expect(lumpLanded(at(0, 10), at(2, 10))).toBe(false);
    // A counter that moves with each completion is read poll by poll, not as lumps.
    expect(lumpLanded(memo({ atMs: 0, completedTotal: 10 }), memo({ atMs: 2000, completedTotal: 12 }))).toBe(false);
    expect(lumpLanded(undefined, at(2, 12))).toBe(false);
  });
});

describe('unflushedCompletions', () => {
  const steadySpan = { busySeconds: 10 * 10, busyMoment: 10 * 10 * 5, spanSeconds: 10, heartbeatSeconds: 10 };

  it('is half a heartbeat of throughput at a steady load, processes beating at spread phases', () => {
    // 10 busy on 2 s jobs: 5 jobs/s, so 25 jobs finished and not yet added on average.
    expect(unflushedCompletions({ ...steadySpan, serviceSeconds: 2, processesShare: 1 })).toBeCloseTo(25, 6);
  });

  it('weighs the newest seconds most: a load that just stopped is still nearly a half heartbeat behind', () => {
    // Busy only in the span's first half: the older completions were added at most beats since.
    const firstHalf = { busySeconds: 10 * 5, busyMoment: 10 * 5 * 2.5, spanSeconds: 10, heartbeatSeconds: 10 };
    const lastHalf = { busySeconds: 10 * 5, busyMoment: 10 * 5 * 7.5, spanSeconds: 10, heartbeatSeconds: 10 };
    const behind = (span: typeof firstHalf) => unflushedCompletions({ ...span, serviceSeconds: 2, processesShare: 1 });
    expect(behind(firstHalf)).toBeCloseTo(6.25, 6);
    expect(behind(lastHalf)).toBeCloseTo(18.75, 6);
  });

  it('counts only the processes still live, and nothing before a service time is known', () => {
    expect(unflushedCompletions({ ...steadySpan, serviceSeconds: 2, processesShare: 0.5 })).toBeCloseTo(12.5, 6);
    expect(unflushedCompletions({ ...steadySpan, serviceSeconds: undefined, processesShare: 1 })).toBe(0);
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

  // 45 jobs/s against 50 is 2.9 deviations of a count over 17 s (a rate counted every poll) but
  // only 1.6 of one over 5 s (one of a 10 s heartbeat's spans, with its estimated ends).
  it('takes a drop the size of its noise for noise where the arrivals are counted over spans', () => {
    const fast = steady(45, 6);
    const slow = steady(50, 45);
    expect(arrivalsDropping(fast, slow, FAST_RATE_COUNTED_SECONDS)).toBe(true);
    expect(arrivalsDropping(fast, slow, 5)).toBe(false);
    expect(plannedArrivalRate(fast, slow, 10, FAST_RATE_COUNTED_SECONDS).sustained).toBeCloseTo(45, 6);
    expect(plannedArrivalRate(fast, slow, 10, 5).sustained).toBeCloseTo(50, 6);
  });
});

describe('arrivalsCountedOverSeconds', () => {
  const lastSample = memo({ atMs: 0 });
  const span: CompletionSpan = { fromMs: 0, completedTotal: 0, busySeconds: 0, depth: 0, busy: 0, cameDue: 0 };

  it('is twice the fast mean age where every poll counts the arrivals', () => {
    expect(arrivalsCountedOverSeconds({ lastSample, completionSpan: undefined })).toBeCloseTo((2 * 6) / Math.LN2, 6);
  });

  it("is half a heartbeat where the arrivals come from a lumpy counter's spans", () => {
    const lumpy = memo({ atMs: 0, completedGranularitySeconds: 10 });
    expect(arrivalsCountedOverSeconds({ lastSample: lumpy, completionSpan: span })).toBe(5);
    // Sidekiq 6's 5 s beat halves with it; a counter that is not the pool's (no span) leaves the
    // rates to the queue's estimate, poll by poll.
    expect(
      arrivalsCountedOverSeconds({
        lastSample: memo({ atMs: 0, completedGranularitySeconds: 5 }),
        completionSpan: span,
      }),
    ).toBe(2.5);
    expect(arrivalsCountedOverSeconds({ lastSample: lumpy, completionSpan: undefined })).toBe(
      FAST_RATE_COUNTED_SECONDS,
    );
  });
});

describe("Sidekiq's own run time of its jobs (7.0+ execution metrics)", () => {
  const sidekiq: ObservationContext = { profile: signalProfile('sidekiq'), servingSlots: 80 };
  // Eight pods beat every 10 s, in step (at 1 s, 11 s, 21 s...). Between their beats at 31 s and
  // 41 s they clear 128 waiting jobs of 1 s, so both beats write busy 0; the beat at 41 s adds the
  // 128 to the counter, and the run time they recorded in the same beat says those jobs ran 128 s.
  function serviceAfterBootBurst(recorded: boolean, sharedWith?: string) {
    let state = initialScalerState();
    for (let second = 0; second <= 60; second += 2) {
      const flushed = second >= 42;
      const observed = observeReading(
        state,
        reading({
          observedAtMs: second * 1000,
          depth: second === 32 ? 118 : 0,
          busy: 0,
          completedTotal: flushed ? 128 : 0,
          completedGranularitySeconds: 10,
          workers: Array.from({ length: 8 }, (_, i) => ({
            pod: `pod-${i}`,
            busy: 0,
            concurrency: 10,
            draining: false,
            beatAtMs: (Math.floor((second - 1) / 10) * 10 + 1) * 1000,
          })),
          ...(recorded ? { recordedRunTime: { jobs: flushed ? 128 : 0, seconds: flushed ? 128 : 0 } } : {}),
          ...(sharedWith === undefined ? {} : { completedSharedWith: sharedWith }),
        }),
        sidekiq,
      );
      state = { ...state, ...observed, lastSample: observed.lastSample, completionSpan: observed.completionSpan };
    }
    return state;
  }

  it('is the service time where busy, written only at the beats, saw none of the work', () => {
    const withRunTime = serviceAfterBootBurst(true);
    expect(serviceTimeSeconds(withRunTime.service)).toBeCloseTo(1, 5);
    expect(withRunTime.serviceEstimate).toBe('recorded run time');
    // From the counter and busy alone the same burst reads as 128 jobs that ran no time at all.
    const fromBusy = serviceAfterBootBurst(false).service;
    expect(fromBusy.events).toBeGreaterThan(100);
    expect(fromBusy.seconds).toBe(0);
  });

  it("is not the pool's while another pool's process runs on the same Redis, like the counter", () => {
    const shared = serviceAfterBootBurst(true, 'host-b:7:ab12 serves mailers');
    expect(shared.serviceEstimate).not.toBe('recorded run time');
    expect(serviceTimeSeconds(shared.service)).toBeUndefined();
  });
});
