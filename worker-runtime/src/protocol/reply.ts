/** Narrowing helpers for script replies: a layout mismatch fails loudly instead of yielding NaN. */

export function replyArray(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected an array reply, got ${typeof value}`);
  return value as unknown[];
}

export function replyInt(value: unknown, what: string): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n))
    throw new Error(`${what}: expected an integer reply, got ${String(value)}`);
  return n;
}

export function replyString(value: unknown, what: string): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  throw new Error(`${what}: expected a string reply, got ${typeof value}`);
}

/** `null` for a Redis nil, otherwise the string. */
export function replyOptionalString(value: unknown, what: string): string | null {
  return value === null || value === undefined ? null : replyString(value, what);
}
