import { replyArray, replyNumber } from './reply.ts';

// Sidekiq's execution metrics, from 7.0: each process adds what it ran to a hash per minute at
// every heartbeat and as it stops (Sidekiq::Metrics::ExecutionTracker, metrics/tracking.rb:
// flush on :beat and :exit, v7.3.9 l. 145-150, v8.1.7 l. 147-152). For each job class the hash
// holds "<class>|p" jobs processed, "<class>|f" of them failed, and "<class>|ms" the milliseconds
// the others ran (track_time, which failed jobs skip). The reader keeps a running sum of the
// jobs that did not fail and the seconds they ran; their ratio over any two readings is the
// service time, whenever the heartbeats fall (ADR 0004, "Sidekiq's own run time").

/**
 * Minutes on either side of the previous read whose hashes are read: a poll a minute later still
 * finds its own. Three minutes of both names are the six keys of sidekiq-metrics-6.lua.
 */
export const METRICS_MINUTES_AROUND = 1;

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * The minute hash of `epochMs` as Sidekiq 7.x and 8.x name it, in UTC: "j|%Y%m%d|%-H:%-M"
 * (v7.3.9 tracking.rb l. 66) and "j|%y%m%d|%-H:%M" (v8.0.10 and v8.1.7 l. 68; 8.x's ten-minute
 * hash beside it, "%-H:%M" less its last digit, is not read).
 */
export function metricsMinuteKeys(epochMs: number, prefix = ''): string[] {
  const at = new Date(epochMs);
  const year = at.getUTCFullYear();
  const date = `${pad2(at.getUTCMonth() + 1)}${pad2(at.getUTCDate())}`;
  const hour = at.getUTCHours();
  const minute = at.getUTCMinutes();
  return [
    `${prefix}j|${year}${date}|${hour}:${minute}`,
    `${prefix}j|${String(year).slice(-2)}${date}|${hour}:${pad2(minute)}`,
  ];
}

/** One minute hash: its key, and the minute it counts (epoch minutes, UTC). */
export interface MinuteKey {
  readonly key: string;
  readonly minute: number;
}

/** The minute hashes around `epochMs` (METRICS_MINUTES_AROUND), both versions' names. */
export function metricsKeysAround(epochMs: number, prefix = ''): MinuteKey[] {
  const keys: MinuteKey[] = [];
  const minute = Math.floor(epochMs / 60_000);
  for (let m = minute - METRICS_MINUTES_AROUND; m <= minute + METRICS_MINUTES_AROUND; m += 1)
    for (const key of metricsMinuteKeys(m * 60_000, prefix)) keys.push({ key, minute: m });
  return keys;
}

/** Processed, failed and milliseconds of one minute hash. */
export type MinuteTotals = readonly [processed: number, failed: number, ms: number];

/** What the reader keeps between polls of the run time Sidekiq recorded. */
export interface RunTimeMemory {
  /** When the previous read was taken (Redis clock): the next reads the minutes around it. */
  readonly atMs: number;
  /** Each minute hash read then, by key, with its totals (zeros for one that did not exist). */
  readonly minutes: Readonly<Record<string, MinuteTotals>>;
  /** Jobs that did not fail, and the seconds they ran, summed since the reader began counting. */
  readonly jobs: number;
  readonly seconds: number;
  /** A previous read was there to count from: the sums are whole from this read on. */
  readonly counting: boolean;
  /**
   * The next poll reads the minute hashes: only while the engine can use what they hold, where
   * every live process records them (7.0+) and the Redis is the pool's own (the counter's
   * condition). On a Redis that several pools share, each pool's reader would otherwise sum
   * every job class's fields in three minutes, every poll, for nothing (about 3 ms a poll at
   * 1,000 job classes). Absent in a memory kept before it was recorded: read.
   */
  readonly readNext?: boolean;
}

export function runTimeMemory(memory: unknown): RunTimeMemory | undefined {
  if (typeof memory !== 'object' || memory === null) return undefined;
  const { atMs, minutes, jobs, seconds, counting, readNext } = memory as Partial<RunTimeMemory>;
  if (typeof atMs !== 'number' || typeof minutes !== 'object' || minutes === null) return undefined;
  if (typeof jobs !== 'number' || typeof seconds !== 'number') return undefined;
  return { atMs, minutes, jobs, seconds, counting: counting === true, readNext: readNext !== false };
}

/** One minute hash as read: its key and minute, and its totals. */
export interface MinuteRead extends MinuteKey {
  readonly totals: MinuteTotals;
}

/** The script's reply: three integers per key, in the order of `keys`. */
export function decodeMinuteTotals(reply: unknown, keys: readonly MinuteKey[]): MinuteRead[] {
  const flat = replyArray(reply, 'sidekiq metrics');
  return keys.map(({ key, minute }, i) => ({
    key,
    minute,
    totals: [
      replyNumber(flat[3 * i], `${key} processed`),
      replyNumber(flat[3 * i + 1], `${key} failed`),
      replyNumber(flat[3 * i + 2], `${key} ms`),
    ],
  }));
}

/**
 * The memory after a read. What each minute hash gained since the previous read is added to the
 * sums. A hash not read then counts whole if its minute began after that read (all of it was
 * added since), and not at all otherwise (its start is unknown): with polls more than a minute
 * apart some minutes go uncounted, jobs and seconds alike, so the ratio stays true. A hash that
 * shrank (it expired: Sidekiq keeps them 8 hours) adds nothing. `read` is undefined where this
 * poll read no metrics (the first one, before the reader knew the time, or one after a read that
 * found them of no use); `readNext` says whether the next poll reads them (RunTimeMemory.readNext).
 */
export function nextRunTime(
  previous: RunTimeMemory | undefined,
  nowMs: number,
  read: readonly MinuteRead[] | undefined,
  readNext = true,
): RunTimeMemory {
  let jobs = previous?.jobs ?? 0;
  let seconds = previous?.seconds ?? 0;
  if (previous !== undefined && read !== undefined) {
    const previousMinute = Math.floor(previous.atMs / 60_000);
    for (const { key, minute, totals } of read) {
      const before = previous.minutes[key] ?? (minute > previousMinute ? ([0, 0, 0] as const) : undefined);
      if (before === undefined) continue;
      const [processed, failed, ms] = totals;
      const gained = Math.max(0, processed - before[0]) - Math.max(0, failed - before[1]);
      jobs += Math.max(0, gained);
      seconds += Math.max(0, ms - before[2]) / 1000;
    }
  }
  const minutes: Record<string, MinuteTotals> = {};
  for (const { key, totals } of read ?? []) minutes[key] = totals;
  return { atMs: nowMs, minutes, jobs, seconds, counting: previous !== undefined && read !== undefined, readNext };
}
