import { describe, expect, it } from 'vitest';
import { redactUrl, withoutPassword } from './connection.ts';

describe('redacting Redis URLs for logs', () => {
  it('hides the password and keeps what helps debugging', () => {
    expect(redactUrl('redis://:hunter2@redis.billing.svc:6379/0')).toBe('redis://:***@redis.billing.svc:6379/0');
    expect(redactUrl('rediss://app:hunter2@redis:6380')).toBe('rediss://app:***@redis:6380');
  });

  it('hides a lone username (some providers put the token there)', () => {
    expect(redactUrl('redis://tokenonly@redis:6379')).toBe('redis://***@redis:6379');
  });

  it('leaves a URL without credentials alone and still redacts one it cannot parse', () => {
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactUrl('redis://user:p@ss@[bad')).toBe('redis://***@[bad');
  });
});

describe('a password given apart from the URL (REDIS_PASSWORD)', () => {
  it('replaces the one in the URL, keeping the user name', () => {
    expect(withoutPassword('redis://app:old@redis:6379/1')).toBe('redis://app@redis:6379/1');
    expect(withoutPassword('redis://:old@redis:6379')).toBe('redis://redis:6379');
  });
});
