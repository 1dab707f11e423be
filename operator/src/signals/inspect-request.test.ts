import { describe, expect, it } from 'vitest';
import { InspectUsageError, inspectRegistration } from './inspect-request.ts';

describe('inspect flags', () => {
  it('become the registration the controller would make for the same WorkerPool', () => {
    const registration = inspectRegistration({
      redis: 'redis://redis.billing.svc:6379/0',
      format: 'list',
      queues: ['jobs:a', 'jobs:b'],
      timestampField: 'enqueuedAt',
      timestampUnit: 'seconds',
      password: 'from-env',
    });
    expect(registration).toEqual({
      queue: {
        format: 'list',
        names: ['jobs:a', 'jobs:b'],
        redis: { url: 'redis://redis.billing.svc:6379/0' },
        list: { timestampField: 'enqueuedAt', timestampUnit: 'seconds', oldestAt: 'right' },
      },
      credentials: { username: undefined, password: 'from-env' },
    });
  });

  it('turns TLS on when a CA or insecure mode is given', () => {
    const registration = inspectRegistration({
      redis: 'redis://r:6379',
      format: 'bullmq',
      queues: ['q'],
      ca: 'PEM',
      keyPrefix: '{app}',
    });
    expect(registration.queue.redis.tls).toEqual({ enabled: true, insecureSkipVerify: false });
    expect(registration.tlsMaterial).toEqual({ ca: 'PEM' });
    expect(registration.queue.keyPrefix).toBe('{app}');
  });

  it.each([
    [{ format: 'kafka' }, /--format must be one of/],
    [{ format: 'stream' }, /needs --consumer-group/],
    [{ format: 'list', consumerGroup: 'g' }, /only to --format stream/],
    [{ format: 'sidekiq', timestampField: 'at' }, /only to --format list/],
    [{ format: 'list', keyPrefix: 'x' }, /--key-prefix applies only/],
    [{ format: 'list', redis: 'http://nope' }, /--redis must be/],
  ])('refuses %o with a message naming the flag', (overrides, message) => {
    expect(() =>
      inspectRegistration({ redis: 'redis://r:6379', queues: ['q'], ...overrides, format: overrides.format }),
    ).toThrow(InspectUsageError);
    expect(() =>
      inspectRegistration({ redis: 'redis://r:6379', queues: ['q'], ...overrides, format: overrides.format }),
    ).toThrow(message);
  });

  it('never echoes a password written into --redis when refusing it', () => {
    expect(() => inspectRegistration({ redis: 'http://user:hunter2@r:6379', format: 'list', queues: ['q'] })).toThrow(
      /^(?!.*hunter2)/s,
    );
  });
});
