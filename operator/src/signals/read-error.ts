import { ReplyError } from 'ioredis';

/**
 * Why a queue could not be read. Each kind tells the on-call engineer where to look, except where
 * telling more would let a pool probe the network through the operator: a closed port, a filtered
 * one, a TLS failure and a listener that is not Redis are all `unreachable`, with one message.
 */
export const READ_ERROR_KINDS = [
  'unreachable',
  'auth-failed',
  'wrong-type',
  'malformed-job',
  'missing-consumer-group',
  'invalid-spec',
  'redis-error',
] as const;
export type ReadErrorKind = (typeof READ_ERROR_KINDS)[number];

/**
 * A failed read. Never a zero reading in disguise: the caller keeps the last good reading and
 * reports it as stale. The message names the endpoint (without credentials) and, when known, the key.
 */
export class SignalReadError extends Error {
  readonly kind: ReadErrorKind;
  readonly key: string | undefined;

  constructor(kind: ReadErrorKind, message: string, options: { key?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SignalReadError';
    this.kind = kind;
    this.key = options.key;
  }
}

/** Replaces every occurrence of each secret with `***`, so no message can leak one. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret !== undefined && secret.length > 0) out = out.split(secret).join('***');
    if (secret !== undefined && secret.length > 0 && encodeURIComponent(secret) !== secret)
      out = out.split(encodeURIComponent(secret)).join('***');
  }
  return out;
}

/** Kinds only Redis itself can report: they are read from its error reply. */
const REPLY_KIND_PATTERNS: readonly [RegExp, ReadErrorKind][] = [
  [/WRONGPASS|NOAUTH|invalid password|invalid username-password|NOPERM/i, 'auth-failed'],
  [/WRONGTYPE/, 'wrong-type'],
  [/MALFORMED/, 'malformed-job'],
  [/NOGROUP|no consumer group/i, 'missing-consumer-group'],
];

/**
 * Turns a Redis or socket error into a typed one, naming the endpoint and key, with secrets redacted.
 *
 * Only an error reply from Redis is described in its own words. Anything else (refused, reset,
 * timed out, a TLS handshake that failed, bytes that are not Redis's protocol) reads the same,
 * whatever answered: a pool may name any host and port, and status that told these apart would
 * map the network behind the operator for its author, or quote what a non-Redis server said.
 */
export function toSignalReadError(
  err: unknown,
  where: { endpoint: string; key?: string | undefined },
  secrets: readonly (string | undefined)[],
): SignalReadError {
  const key = err instanceof SignalReadError ? (err.key ?? where.key) : where.key;
  const keyed = key === undefined ? {} : { key };
  if (err instanceof SignalReadError) {
    const message = err.message.startsWith(where.endpoint) ? err.message : `${where.endpoint}: ${err.message}`;
    return new SignalReadError(err.kind, redact(message, secrets), keyed);
  }
  if (!(err instanceof ReplyError))
    return new SignalReadError('unreachable', `${where.endpoint}: ${describeKind('unreachable')}`, keyed);
  const reply = (err as Error).message;
  const kind = REPLY_KIND_PATTERNS.find(([pattern]) => pattern.test(reply))?.[1] ?? 'redis-error';
  const about = where.key === undefined ? '' : ` reading key "${where.key}"`;
  return new SignalReadError(
    kind,
    redact(`${where.endpoint}${about}: ${describeKind(kind)}: ${reply}`, secrets),
    keyed,
  );
}

function describeKind(kind: ReadErrorKind): string {
  switch (kind) {
    case 'unreachable':
      return 'no Redis answered: the connection was refused, reset or timed out, the TLS handshake failed, or the server is not Redis';
    case 'auth-failed':
      return 'Redis refused the credentials';
    case 'wrong-type':
      return 'the key holds another data type than the queue format expects';
    case 'malformed-job':
      return 'a job could not be decoded';
    case 'missing-consumer-group':
      return 'the consumer group does not exist';
    case 'invalid-spec':
      return 'the queue settings cannot be read';
    case 'redis-error':
      return 'Redis answered with an error';
  }
}
