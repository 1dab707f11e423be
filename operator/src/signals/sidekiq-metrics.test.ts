import { describe, expect, it } from 'vitest';
import {
  metricsKeysAround,
  metricsMinuteKeys,
  nextRunTime,
  runTimeMemory,
  type MinuteRead,
} from './sidekiq-metrics.ts';

const at = (iso: string) => Date.parse(iso);

describe("the minute hashes of Sidekiq's execution metrics", () => {
  it('are named as 7.x and 8.x strftime them, in UTC', () => {
    // "%Y%m%d|%-H:%-M" (v7.3.9 tracking.rb l. 66) and "%y%m%d|%-H:%M" (v8.1.7 l. 68).
    expect(metricsMinuteKeys(at('2026-12-07T09:05:30Z'))).toEqual(['j|20261207|9:5', 'j|261207|9:05']);
    expect(metricsMinuteKeys(at('2026-01-31T23:59:59Z'), 'ns:')).toEqual(['ns:j|20260131|23:59', 'ns:j|260131|23:59']);
  });

  it('are read for the minute of the previous read and one on either side, across midnight', () => {
    const keys = metricsKeysAround(at('2026-12-07T00:00:10Z')).map((minute) => minute.key);
    expect(keys).toEqual([
      'j|20261206|23:59',
      'j|261206|23:59',
      'j|20261207|0:0',
      'j|261207|0:00',
      'j|20261207|0:1',
      'j|261207|0:01',
    ]);
  });
});

describe('the run time summed between reads', () => {
  const minute = (iso: string) => Math.floor(at(iso) / 60_000);
  const read = (iso: string, totals: readonly [number, number, number]): MinuteRead => ({
    key: `j|${iso}`,
    minute: minute(iso),
    totals,
  });
  /** A memory that counts from a baseline read at `atIso` of the 10:00 minute, after a first read at 10:00:05. */
  const baselineAt = (atIso: string, totals: readonly [number, number, number]) =>
    nextRunTime(nextRunTime(undefined, at('2026-12-07T10:00:05Z'), undefined), at(atIso), [
      read('2026-12-07T10:00:00Z', totals),
    ]);

  it('adds what each minute gained, leaving failed jobs out: they record no milliseconds', () => {
    const first = nextRunTime(undefined, at('2026-12-07T10:00:05Z'), undefined);
    expect(first.counting).toBe(false);
    const second = nextRunTime(first, at('2026-12-07T10:00:07Z'), [read('2026-12-07T10:00:00Z', [10, 1, 9_000])]);
    // The first read with metrics is the baseline: its minute began before the read that came first.
    expect(second).toMatchObject({ counting: true, jobs: 0, seconds: 0 });
    const third = nextRunTime(second, at('2026-12-07T10:00:09Z'), [read('2026-12-07T10:00:00Z', [14, 2, 12_000])]);
    expect(third).toMatchObject({ jobs: 3, seconds: 3 });
  });

  it('counts a minute that began after the previous read whole, and one it cannot know the start of not at all', () => {
    const before = baselineAt('2026-12-07T10:00:58Z', [5, 0, 5_000]);
    const after = nextRunTime(before, at('2026-12-07T10:03:02Z'), [
      read('2026-12-07T10:00:00Z', [6, 0, 6_000]), // +1 job, 1 s
      read('2026-12-07T10:01:00Z', [4, 0, 8_000]), // began after the read at 10:00:58: whole
      read('2026-12-06T23:00:00Z', [100, 0, 100_000]), // not read before and older: unknown start
    ]);
    expect(after).toMatchObject({ jobs: 5, seconds: 9 });
  });

  it('adds nothing for a minute hash that shrank (it expired and began again)', () => {
    const base = baselineAt('2026-12-07T10:00:07Z', [50, 0, 50_000]);
    expect(nextRunTime(base, at('2026-12-07T10:00:09Z'), [read('2026-12-07T10:00:00Z', [2, 0, 1_000])])).toMatchObject({
      jobs: 0,
      seconds: 0,
    });
  });

  it('keeps its sums through polls that read no metrics, and counts again from the first that does', () => {
    const counting = baselineAt('2026-12-07T10:00:07Z', [10, 0, 10_000]);
    const withThem = nextRunTime(counting, at('2026-12-07T10:00:09Z'), [read('2026-12-07T10:00:00Z', [12, 0, 13_000])]);
    expect(withThem).toMatchObject({ jobs: 2, seconds: 3, readNext: true });
    // Another pool's process came up on the Redis: this read finds the metrics of no use.
    const skipped = nextRunTime(
      withThem,
      at('2026-12-07T10:00:11Z'),
      [read('2026-12-07T10:00:00Z', [20, 0, 21_000])],
      false,
    );
    expect(skipped).toMatchObject({ readNext: false, counting: true });
    const unread = nextRunTime(skipped, at('2026-12-07T10:00:13Z'), undefined);
    expect(unread).toMatchObject({ jobs: skipped.jobs, seconds: skipped.seconds, counting: false });
    // Read again: the minute it began before the unread poll is a new baseline, counted from here.
    const again = nextRunTime(unread, at('2026-12-07T10:00:15Z'), [read('2026-12-07T10:00:00Z', [30, 0, 40_000])]);
    expect(again).toMatchObject({ jobs: unread.jobs, seconds: unread.seconds, counting: true });
    const next = nextRunTime(again, at('2026-12-07T10:00:17Z'), [read('2026-12-07T10:00:00Z', [31, 0, 42_000])]);
    expect(next).toMatchObject({ jobs: again.jobs + 1, seconds: again.seconds + 2 });
  });

  it('reads the metrics next where a memory kept before readNext was recorded says nothing', () => {
    expect(runTimeMemory({ atMs: 1, minutes: {}, jobs: 0, seconds: 0, counting: true })?.readNext).toBe(true);
    expect(runTimeMemory({ atMs: 1, minutes: {}, jobs: 0, seconds: 0, readNext: false })?.readNext).toBe(false);
  });
});
