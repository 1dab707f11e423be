import { loadSignalScript } from './lua-script.ts';
import { scriptCommand, type ScriptCommand } from './read-command.ts';
import { SignalReadError } from './read-error.ts';
import { replyArray, replyNumber } from './reply.ts';

// The head of a list queue (Sidekiq's queue:<q>, a plain list with timestamps): its length and
// the enqueue time of its oldest item, taken inside Redis by queue-head-1.lua. Only numbers come
// back, so a job of any size costs the operator a few bytes per poll.

const QUEUE_HEAD_SCRIPT = loadSignalScript('queue-head-1.lua');
/**
 * Items up to this size are decoded whole in Redis; a larger one is searched for its field (see
 * the script), since decoding 20 MB holds Redis for seconds on a busy machine.
 */
export const DECODE_WHOLE_MAX_BYTES = 256 * 1024;

export interface QueueHeadOptions {
  /** Where the oldest item is: -1 (the right end, for LPUSH producers) or 0. */
  readonly index: -1 | 0;
  /** The JSON field holding the enqueue time. */
  readonly field: string;
  /** Milliseconds per unit of the field. */
  readonly msPerUnit: number;
  /** Above this the field is already milliseconds (Sidekiq 8 after 6.x/7.x float seconds). */
  readonly alreadyMsAbove?: number;
}

export function queueHeadCommand(key: string, options: QueueHeadOptions): ScriptCommand {
  return scriptCommand(
    QUEUE_HEAD_SCRIPT,
    [key],
    [options.index, options.field, options.msPerUnit, options.alreadyMsAbove ?? '', DECODE_WHOLE_MAX_BYTES],
  );
}

/** What the script found at the head: nothing, a time, or an item without a usable one. */
export type QueueHead =
  | { readonly depth: number; readonly head: 'empty' }
  | { readonly depth: number; readonly head: 'timed'; readonly enqueuedAtMs: number }
  | { readonly depth: number; readonly head: 'no-time'; readonly itemBytes: number };

const EMPTY = 0;
const READ = 1;
const NOT_JSON = 2;
const NO_TIME = 3;

/**
 * The script's reply. An oldest item that is not JSON is a `malformed-job` error naming the key
 * and the item's size, never its text: a pool may name any key.
 */
export function decodeQueueHead(reply: unknown, key: string): QueueHead {
  const [depth, status, enqueuedAtMs, itemBytes] = replyArray(reply, `head of ${key}`).map((v, i) =>
    replyNumber(v, `head of ${key} reply[${i + 1}]`),
  );
  const length = depth ?? 0;
  if (status === EMPTY) return { depth: length, head: 'empty' };
  if (status === READ) return { depth: length, head: 'timed', enqueuedAtMs: enqueuedAtMs ?? 0 };
  if (status === NOT_JSON)
    throw new SignalReadError(
      'malformed-job',
      `key "${key}" holds a job that is not valid JSON (${itemBytes ?? 0} bytes)`,
      { key },
    );
  if (status === NO_TIME) return { depth: length, head: 'no-time', itemBytes: itemBytes ?? 0 };
  throw new SignalReadError('redis-error', `head of ${key}: unexpected status ${String(status)}`);
}
