import type { QueueFormat } from '../api/workerpool-schema.ts';
import { poolCompletions, profileOfReading, type QueueReading } from '../signals/index.ts';

// The pool's jobs/s as status and the queue-throughput gauge show it, from its completion counter.

/** The last rate, and the counter reading it is counted from. */
export interface Throughput {
  perSecond: number | undefined;
  last: { atMs: number; total: number } | undefined;
}

export function countThroughput(previous: Throughput, reading: QueueReading, format: QueueFormat): Throughput {
  // Only this pool's own counter (a Sidekiq Redis shared with other pools counts theirs too).
  const total = poolCompletions(profileOfReading(format, reading), reading);
  if (total === undefined) return previous;
  const last = previous.last;
  // A counter that moves at heartbeats is read over spans of at least one, or each lump shows
  // as a spike between polls that read no change.
  const spanMs = (reading.completedGranularitySeconds ?? 0) * 1000;
  if (last && total >= last.total && reading.observedAtMs - last.atMs < spanMs) return previous;
  // A counter that went down was reset (a Redis flush): start counting again.
  const perSecond =
    last && reading.observedAtMs > last.atMs && total >= last.total
      ? ((total - last.total) * 1000) / (reading.observedAtMs - last.atMs)
      : previous.perSecond;
  return { perSecond, last: { atMs: reading.observedAtMs, total } };
}
