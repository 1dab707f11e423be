import { describe, expect, it } from 'vitest';
import { parseTraceCsv } from '../simulator/arrival-trace.ts';
import type { ArrivalPoll, ArrivalSource } from './arrival-sources.ts';
import { addPoll, emptyTrace, parseDurationSeconds, recordedTraceCsv, recordTrace } from './record-trace.ts';

const START_MS = 1_764_000_000_000;

describe('recordTrace', () => {
  it('buckets timed arrivals at their time and counted ones mid-interval, on an injected clock', async () => {
    let clock = START_MS;
    const polls: ArrivalPoll[] = [
      { timedMs: [START_MS - 5_000], counted: 0, estimated: 0, trimmed: 0 }, // the bearings: ignored
      { timedMs: [START_MS + 100, START_MS + 900], counted: 0, estimated: 0, trimmed: 0 },
      { timedMs: [], counted: 3, estimated: 0, trimmed: 0 },
      { timedMs: [START_MS + 2_500], counted: 0, estimated: 4, trimmed: 0 },
    ];
    const source: ArrivalSource = { method: 'test', poll: () => Promise.resolve(polls.shift() as ArrivalPoll) };
    const trace = await recordTrace({
      source,
      durationMs: 3_000,
      intervalMs: 1_000,
      bucketSeconds: 1,
      now: () => clock,
      sleep: (ms) => {
        clock += ms;
        return Promise.resolve();
      },
    });
    expect(trace.counts).toEqual([2, 3, 5]);
    expect(trace).toMatchObject({ timed: 3, counted: 3, estimated: 4, trimmed: 0 });
    const csv = recordedTraceCsv(trace, 'redis://r:6379 native queue q');
    expect(csv.split('\n').slice(1, 3)).toEqual([
      '# arrivals ESTIMATED: 10 arrivals: 3 with their enqueue time, 3 counted exactly per poll, 4 estimated (test)',
      'timestamp,count',
    ]);
    // simulate --trace reads it back as it was recorded, at the time of day it was recorded.
    expect(parseTraceCsv('t', csv)).toEqual({
      name: 't',
      bucketSeconds: 1,
      counts: [2, 3, 5],
      poisson: false,
      startEpochSeconds: START_MS / 1000,
    });
  });

  it('keeps arrivals a clock skew puts outside the recording in its first or last bucket', () => {
    const trace = emptyTrace('test', START_MS, 2_000, 1);
    addPoll(
      trace,
      { timedMs: [START_MS - 50, START_MS + 2_050], counted: 0, estimated: 0, trimmed: 0 },
      START_MS,
      START_MS + 2_000,
    );
    expect(trace.counts).toEqual([1, 1]);
  });
});

describe('parseDurationSeconds', () => {
  it('reads seconds, minutes, hours and days, and names the flag when it cannot', () => {
    expect(parseDurationSeconds('90', '--duration')).toBe(90);
    expect(parseDurationSeconds('15m', '--duration')).toBe(900);
    expect(parseDurationSeconds('2h', '--duration')).toBe(7200);
    expect(parseDurationSeconds('500ms', '--interval')).toBe(0.5);
    expect(() => parseDurationSeconds('soon', '--duration')).toThrow(
      '--duration: expected a duration such as 90s, 15m or 2h, got "soon"',
    );
    expect(() => parseDurationSeconds('0s', '--bucket')).toThrow(/^--bucket: /);
  });
});
