/** Throw this from a handler when retrying cannot help (bad input, a 4xx): the job goes straight to the dead letters. */
export class UnrecoverableError extends Error {
  override readonly name = 'UnrecoverableError';
}

/** A run took longer than the job's timeout; it counts as a failed attempt and is retried. */
export class JobTimeoutError extends Error {
  override readonly name = 'JobTimeoutError';
  constructor(timeoutMs: number) {
    super(`job timed out after ${timeoutMs} ms`);
  }
}

/** The text kept as a job's last error: the stack when there is one, bounded so a huge error cannot bloat Redis. */
export function describeError(err: unknown): string {
  const text = err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  return text.length > 4_000 ? `${text.slice(0, 4_000)}…` : text;
}
