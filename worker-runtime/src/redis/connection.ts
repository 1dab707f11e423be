import { Redis, type RedisOptions } from 'ioredis';

/** A URL fit for logs: the password (and a username) replaced, so credentials never reach a log line. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    if (parsed.username !== '' && parsed.password === '') parsed.username = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^/]*@/, '//***@'); // greedy: a password may itself contain '@'
  }
}

/**
 * A client that retries commands across reconnects for ever: a worker must survive a Redis restart
 * without losing its place, and a failed ack would otherwise turn into a duplicate run.
 */
export function connectRedis(url: string, extra: RedisOptions = {}): Redis {
  // ioredis lets the URL's password win over the options; a password from a Secret must win instead.
  const target = extra.password === undefined ? url : withoutPassword(url);
  return new Redis(target, {
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
    ...extra,
  });
}

/** The URL with its password removed (the username, if any, stays). */
export function withoutPassword(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.toString();
}

/** Either a client the caller owns, or a URL for a client we create and close. */
export type Connection = Redis | string;

export function openConnection(connection: Connection): { redis: Redis; owned: boolean } {
  return typeof connection === 'string'
    ? { redis: connectRedis(connection), owned: true }
    : { redis: connection, owned: false };
}
