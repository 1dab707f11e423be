import { describe, expect, it } from 'vitest';
import { SignalReadError, redact, toSignalReadError } from './read-error.ts';

const where = { endpoint: 'redis://r:6379', key: 'queue:mailers' };

describe('read errors', () => {
  it.each([
    ['connect ECONNREFUSED 10.0.0.1:6379', 'connection-refused'],
    ['WRONGPASS invalid username-password pair or user is disabled.', 'auth-failed'],
    ['NOAUTH Authentication required.', 'auth-failed'],
    ['Command timed out', 'timeout'],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', 'wrong-type'],
    ['self-signed certificate in certificate chain', 'tls-failed'],
    ['MALFORMED schedule holds a job that is not JSON', 'malformed-job'],
    ['ERR unknown command', 'redis-error'],
  ])('classify "%s" as %s', (message, kind) => {
    expect(toSignalReadError(new Error(message), where, []).kind).toBe(kind);
  });

  it('name the endpoint and key, and redact secrets, also URL-encoded ones', () => {
    const error = toSignalReadError(new Error('failed for redis://:p%40ss@r and p@ss'), where, ['p@ss']);
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
