import type { QueueReading } from './queue-reading.ts';
import type { SignalReadError } from './read-error.ts';

/** The outcome of reading one pool: a fresh reading, or a typed error with the last good reading. */
export type PoolReadResult =
  | { readonly ok: true; readonly reading: QueueReading }
  | { readonly ok: false; readonly error: SignalReadError; readonly lastGood: QueueReading | undefined };

/** What to show in status: the freshest reading there is, and whether it is stale. */
export interface ReportedReading {
  readonly reading: QueueReading;
  /** True when the latest read failed and `reading` is the last good one. */
  readonly stale: boolean;
  /** How old the reading is, by the clock passed in (operator clock; readings carry Redis time). */
  readonly ageSeconds: number;
  /** The failure that made it stale. */
  readonly error?: SignalReadError;
}

const MS_PER_SECOND = 1000;

/**
 * The reading to report for a read result: the fresh one, or the last good one marked stale.
 * Undefined when the pool was never read successfully: the caller must then hold, never scale
 * down on missing data.
 */
export function reportedReading(result: PoolReadResult, nowMs: number = Date.now()): ReportedReading | undefined {
  const reading = result.ok ? result.reading : result.lastGood;
  if (reading === undefined) return undefined;
  const ageSeconds = Math.max(0, nowMs - reading.observedAtMs) / MS_PER_SECOND;
  return result.ok ? { reading, stale: false, ageSeconds } : { reading, stale: true, ageSeconds, error: result.error };
}
