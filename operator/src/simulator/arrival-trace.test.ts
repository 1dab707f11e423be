import { describe, expect, it } from 'vitest';
import {
  arrivalTimes,
  burstyTrace,
  diurnalTrace,
  markovModulatedTrace,
  parseTraceCsv,
  rampTrace,
  spikeTrace,
  stepTrace,
  TraceFormatError,
  traceDurationSeconds,
  traceToCsv,
} from './arrival-trace.ts';
import { seededRandom } from './prng.ts';

describe('trace generators', () => {
  it('step holds the base rate, then the step rate', () => {
    const trace = stepTrace('s', { durationSeconds: 10, baseRate: 2, stepRate: 8, stepAtSeconds: 5 });
    expect(trace.counts).toEqual([2, 2, 2, 2, 2, 8, 8, 8, 8, 8]);
    expect(traceDurationSeconds(trace)).toBe(10);
  });

  it('spike is the base rate with a burst', () => {
    const trace = spikeTrace('s', {
      durationSeconds: 6,
      baseRate: 1,
      spikeRate: 50,
      spikeAtSeconds: 2,
      spikeSeconds: 2,
    });
    expect(trace.counts).toEqual([1, 1, 50, 50, 1, 1]);
  });

  it('ramp interpolates between its ends and is flat outside', () => {
    const trace = rampTrace('r', {
      durationSeconds: 8,
      fromRate: 0,
      toRate: 10,
      rampStartSeconds: 2,
      rampEndSeconds: 6,
    });
    expect(trace.counts).toEqual([0, 0, 0, 2.5, 5, 7.5, 10, 10]);
  });

  it('diurnal runs from the low to the peak and back over a period', () => {
    const trace = diurnalTrace('d', { durationSeconds: 100, minRate: 2, maxRate: 10, periodSeconds: 100 });
    expect(trace.counts[0]).toBeCloseTo(2, 9);
    expect(trace.counts[50]).toBeCloseTo(10, 9);
  });

  it('bursty alternates on and off periods', () => {
    const trace = burstyTrace('b', { durationSeconds: 8, onRate: 9, offRate: 0, onSeconds: 2, offSeconds: 2 });
    expect(trace.counts).toEqual([9, 9, 0, 0, 9, 9, 0, 0]);
  });

  it('markov-modulated switches between its two rates at random, for the mean times asked', () => {
    const shape = {
      durationSeconds: 200_000,
      lowRate: 2,
      highRate: 50,
      meanLowSeconds: 90,
      meanHighSeconds: 30,
      seed: 7,
    };
    const trace = markovModulatedTrace('m', shape);
    const inBurst = trace.counts.filter((count) => count === 50).length;
    const quiet = trace.counts.filter((count) => count === 2).length;
    // A quarter of the time in bursts (30 / (90 + 30)); the rest, bar the switching seconds, quiet.
    expect(inBurst / trace.counts.length).toBeCloseTo(0.25, 1);
    expect((inBurst + quiet) / trace.counts.length).toBeGreaterThan(0.98);
    const switches = trace.counts.filter((count) => count !== 2 && count !== 50).length;
    expect(switches / (shape.durationSeconds / 60)).toBeGreaterThan(0.9);
    expect(markovModulatedTrace('again', shape).counts).toEqual(trace.counts);
    expect(markovModulatedTrace('other', { ...shape, seed: 8 }).counts).not.toEqual(trace.counts);
  });
});

describe('parseTraceCsv', () => {
  it('reads epoch seconds, skips a header and comments, fills gaps with zero', () => {
    const trace = parseTraceCsv('t', 'timestamp,count\n# recorded\n1000,5\n1010,7\n1030,1\n');
    expect(trace.bucketSeconds).toBe(10);
    expect(trace.counts).toEqual([5, 7, 0, 1]);
    expect(trace.poisson).toBe(false);
  });

  it('reads ISO timestamps', () => {
    const trace = parseTraceCsv('t', '2026-01-01T00:00:00Z,3\n2026-01-01T00:00:05Z,4\n');
    expect(trace.bucketSeconds).toBe(5);
    expect(trace.counts).toEqual([3, 4]);
  });

  it('names the line that is wrong', () => {
    expect(() => parseTraceCsv('t', '0,1\n1,x\n')).toThrow(
      new TraceFormatError('trace t line 2: expected a timestamp and a non-negative count, got "1,x"'),
    );
    expect(() => parseTraceCsv('t', '0,1\n0,2\n')).toThrow('line 2: timestamps must increase');
    expect(() => parseTraceCsv('t', '0,1,2\n')).toThrow('expected "timestamp,count"');
    expect(() => parseTraceCsv('t', '\n# nothing\n')).toThrow('no rows');
  });

  it('round-trips through traceToCsv', () => {
    const trace = stepTrace('s', { durationSeconds: 4, baseRate: 1, stepRate: 3, stepAtSeconds: 2 });
    expect(parseTraceCsv('s', traceToCsv(trace)).counts).toEqual([1, 1, 3, 3]);
  });
});

describe('arrivalTimes', () => {
  it('places recorded counts exactly, sorted, within their buckets', () => {
    const times = arrivalTimes(parseTraceCsv('t', '0,3\n10,2\n'), seededRandom(1));
    expect(times).toHaveLength(5);
    expect([...times].filter((at) => at < 10)).toHaveLength(3);
    expect([...times]).toEqual([...times].sort((a, b) => a - b));
  });

  it('draws Poisson counts for generated traces, reproducibly', () => {
    const trace = stepTrace('s', { durationSeconds: 1000, baseRate: 5, stepRate: 5, stepAtSeconds: 0 });
    const first = arrivalTimes(trace, seededRandom(9));
    expect(arrivalTimes(trace, seededRandom(9))).toEqual(first);
    expect(first.length).toBeGreaterThan(4800);
    expect(first.length).toBeLessThan(5200);
  });
});
