import { describe, expect, it } from 'vitest';
import { ReplyError } from 'ioredis';
import { SignalReadError, redact, toSignalReadError } from './read-error.ts';

/** An error reply as ioredis delivers it (its ReplyError is untyped). */
const replyError = (message: string): Error => new (ReplyError as new (text: string) => Error)(message);
const where = { endpoint: 'redis://r:6379', key: 'queue:mailers' };

describe('read errors', () => {
  it.each([
    ['WRONGPASS invalid username-password pair or user is disabled.', 'auth-failed'],
    ['NOAUTH Authentication required.', 'auth-failed'],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', 'wrong-type'],
    ['MALFORMED schedule holds a due job that is not JSON', 'malformed-job'],
    ['NOGROUP No such key or consumer group', 'missing-consumer-group'],
    ['ERR unknown command', 'redis-error'],
  ])('classify the Redis error reply "%s" as %s, in its own words', (message, kind) => {
    const error = toSignalReadError(replyError(message), where, []);
    expect(error.kind).toBe(kind);
    expect(error.message).toContain(message);
  });

  it('read every failure that is not a Redis reply the same, whatever answered', () => {
    const failures = [
      'connect ECONNREFUSED 10.0.0.1:6379', // a closed port
      'connect ETIMEDOUT', // a filtered one
      'poll timed out after 2000 ms', // a listener that never answers
      'Protocol error, got "H" as reply type byte. Please report this.', // an HTTP server
      'Connection is closed.', // one that hangs up
      'self-signed certificate in certificate chain', // a TLS server we do not trust
      'write EPROTO ... wrong version number', // a plain one where TLS was asked for
      'getaddrinfo ENOTFOUND redis.other.svc', // a name that does not resolve
    ].map((message) => toSignalReadError(new Error(message), where, []));
    expect(new Set(failures.map((error) => error.kind))).toEqual(new Set(['unreachable']));
    expect(new Set(failures.map((error) => error.message)).size).toBe(1);
    expect(failures[0]?.message).toContain('redis://r:6379');
    expect(failures[0]?.message).not.toMatch(/ECONNREFUSED|"H"|ENOTFOUND/);
  });

  it('name the endpoint and key, and redact secrets, also URL-encoded ones', () => {
    const error = toSignalReadError(replyError('ERR failed for redis://:p%40ss@r and p@ss'), where, ['p@ss']);
    expect(error.message).toContain('redis://r:6379 reading key "queue:mailers"');
    expect(error.message).not.toContain('p@ss');
    expect(error.message).not.toContain('p%40ss');
    expect(error.key).toBe('queue:mailers');
  });

  it('keep the kind of an error a reader threw, adding the endpoint', () => {
    const error = toSignalReadError(
      new SignalReadError('malformed-job', 'key "k" holds a job that is not valid JSON', { key: 'k' }),
      { endpoint: 'redis://r:6379' },
      [],
    );
    expect(error).toMatchObject({
      kind: 'malformed-job',
      key: 'k',
      message: 'redis://r:6379: key "k" holds a job that is not valid JSON',
    });
  });

  it('redact does nothing without secrets', () => {
    expect(redact('plain', [undefined, ''])).toBe('plain');
  });
});
