/** Why a queue could not be read. Each kind tells the on-call engineer where to look. */
export const READ_ERROR_KINDS = [
  'connection-refused',
  'auth-failed',
  'tls-failed',
  'timeout',
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

const KIND_PATTERNS: readonly [RegExp, ReadErrorKind][] = [
  [/WRONGPASS|NOAUTH|invalid password|invalid username-password|NOPERM/i, 'auth-failed'],
  [/certificate|self[- ]signed|SSL|TLS|altnames|ERR_TLS/i, 'tls-failed'],
  [/timed? ?out|ETIMEDOUT/i, 'timeout'],
  [
    /ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN|Connection is closed|isn't writeable|Stream isn't|connection.*(closed|lost)|All sentinels are unreachable|Failed to refresh slots|max retries per request/i,
    'connection-refused',
  ],
  [/WRONGTYPE/, 'wrong-type'],
  [/MALFORMED/, 'malformed-job'],
  [/NOGROUP|no consumer group/i, 'missing-consumer-group'],
];

/** Turns a Redis or socket error into a typed one, naming the endpoint and key, with secrets redacted. */
export function toSignalReadError(
  err: unknown,
  where: { endpoint: string; key?: string | undefined },
  secrets: readonly (string | undefined)[],
): SignalReadError {
  if (err instanceof SignalReadError) {
    const message = err.message.startsWith(where.endpoint) ? err.message : `${where.endpoint}: ${err.message}`;
    const key = err.key ?? where.key;
    return new SignalReadError(err.kind, redact(message, secrets), key === undefined ? {} : { key });
  }
  const raw = err instanceof Error ? err.message : String(err);
  const kind = KIND_PATTERNS.find(([pattern]) => pattern.test(raw))?.[1] ?? 'redis-error';
  const about = where.key === undefined ? '' : ` reading key "${where.key}"`;
  const message = redact(`${where.endpoint}${about}: ${describeKind(kind)}: ${raw}`, secrets);
  return new SignalReadError(kind, message, where.key === undefined ? {} : { key: where.key });
}

function describeKind(kind: ReadErrorKind): string {
  switch (kind) {
    case 'connection-refused':
      return 'cannot connect to Redis';
    case 'auth-failed':
      return 'Redis refused the credentials';
    case 'tls-failed':
      return 'the TLS handshake failed (certificate, CA or server name)';
    case 'timeout':
      return 'Redis did not answer in time';
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
