import type { QueueFormat, QueueSpec } from '../api/workerpool-schema.ts';
import type { QueueReading } from './queue-reading.ts';
import type { ReadCommand } from './read-command.ts';

/** What every read shares: the Redis server's clock, read once per round trip with TIME. */
export interface ReadContext {
  /** Epoch milliseconds by the Redis server's clock, so that ages do not depend on the operator's clock. */
  readonly nowMs: number;
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
  /** The commands that read the pool's queues, in the order `decode` expects their replies. */
  plan(queue: QueueSpec): ReadCommand[];
  /** The reading built from the replies of `plan`'s commands. */
  decode(queue: QueueSpec, replies: readonly unknown[], context: ReadContext): QueueReading;
}
