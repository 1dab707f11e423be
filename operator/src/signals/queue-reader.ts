import type { QueueFormat, QueueSpec } from '../api/workerpool-schema.ts';
import type { QueueReading } from './queue-reading.ts';
import type { ReadCommand } from './read-command.ts';

/** What every read shares: the Redis server's clock, read once per round trip with TIME. */
export interface ReadContext {
  /** Epoch milliseconds by the Redis server's clock, so that ages do not depend on the operator's clock. */
  readonly nowMs: number;
  /**
   * What a reader that counts events between polls (`remember`) kept of the pool after its
   * previous successful read; undefined on the first read after the pool was registered.
   */
  readonly memory?: unknown;
}

/**
 * A reader for one queue format. Reading is split in two pure halves so that the poller can put
 * the commands of every pool sharing a Redis endpoint into ONE pipeline:
 *
 * - `plan` says which commands read one pool (no I/O; computed once when a pool is registered);
 * - `decode` turns their replies, in plan order, into a QueueReading.
 *
 * A reader never returns a zero reading for data it cannot understand: it throws a
 * SignalReadError naming the key (kind `malformed-job`, `wrong-type`, `invalid-spec`, ...).
 * Errors of Redis itself (a WRONGTYPE reply, a dead connection) are handled by the poller before
 * `decode` is called.
 */
export interface QueueFormatReader {
  readonly format: QueueFormat;
  /**
   * Why the format cannot tell which pod runs how many jobs, when it cannot. Readers that fill
   * `QueueReading.workers` with pod names leave it out; idle-first scale-down needs them.
   */
  readonly perPodBusyUnavailable?: string;
  /**
   * The commands that read the pool's queues, in the order `decode` expects their replies.
   * Computed once at registration, or before every poll for a reader that remembers (`memory`
   * is then what `remember` returned after the previous read, e.g. where to resume a stream).
   */
  plan(queue: QueueSpec, memory?: unknown): ReadCommand[];
  /** The reading built from the replies of `plan`'s commands. */
  decode(queue: QueueSpec, replies: readonly unknown[], context: ReadContext): QueueReading;
  /**
   * For a format whose completions are events (BullMQ's events stream) rather than a counter:
   * what to keep of this read for the next one, so that each poll reads only what is new and the
   * reading's completedTotal counts on from the previous one. Called after `decode` succeeded.
   */
  remember?(queue: QueueSpec, replies: readonly unknown[], context: ReadContext): unknown;
}
