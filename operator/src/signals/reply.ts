import { SignalReadError } from './read-error.ts';

// Redis replies arrive as `unknown`; these narrow them and fail with a message naming what was
// expected, instead of letting a surprising reply become a silent NaN or zero.

export function replyArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value))
    throw new SignalReadError('redis-error', `${what}: expected an array reply, got ${typeof value}`);
  return value as unknown[];
}

export function replyNumber(value: unknown, what: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : Number.NaN;
  if (!Number.isFinite(n))
    throw new SignalReadError('redis-error', `${what}: expected a number, got ${describeReply(value)}`);
  return n;
}

/** A bulk string, or undefined for a nil reply (missing key or field). */
export function replyOptionalString(value: unknown, what: string): string | undefined {
  if (value === null || value === undefined || value === false) return undefined;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  throw new SignalReadError('redis-error', `${what}: expected a string, got ${typeof value}`);
}

export function replyString(value: unknown, what: string): string {
  const s = replyOptionalString(value, what);
  if (s === undefined) throw new SignalReadError('redis-error', `${what}: expected a string, got nil`);
  return s;
}

/** Redis TIME → epoch milliseconds. */
export function timeReplyToMs(value: unknown): number {
  const [seconds, micros] = replyArray(value, 'TIME');
  return replyNumber(seconds, 'TIME seconds') * 1000 + Math.floor(replyNumber(micros, 'TIME microseconds') / 1000);
}

/** What a surprising reply was, by type and size only: never its text. */
export function describeReply(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (Buffer.isBuffer(value)) return `${value.length} bytes`;
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'number') return 'a number out of range';
  return Array.isArray(value) ? `an array of ${value.length}` : `a value of type ${typeof value}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
