import { describe, expect, it } from 'vitest';
import { parseDeadLettersConfig, parseRunConfig } from './config.ts';

const minimal = { WORKERPOOL_QUEUES: 'mailers', WORKERPOOL_HANDLERS: './handlers.js' };

describe('the worker configuration', () => {
  it('fills defaults a pod can run with: drain below the 30 s grace period, metrics on 9464', () => {
    const config = parseRunConfig({}, { ...minimal, HOSTNAME: 'mailers-7d9f-abc12' });
    expect(config).toEqual({
      redis: { url: 'redis://127.0.0.1:6379', password: undefined, keyPrefix: 'wp:' },
      queues: ['mailers'],
      handlersPath: './handlers.js',
      concurrency: 10,
      drainTimeoutMs: 25_000,
      visibilityTimeoutMs: 30_000,
      heartbeatIntervalMs: 5_000,
      maxStalls: 3,
      deadLetterMaxAgeMs: 180 * 86_400_000, // Sidekiq's dead set keeps 180 days and 10,000 jobs
      deadLetterMaxCount: 10_000,
      evictionPolicyCheck: 'refuse',
      podName: 'mailers-7d9f-abc12',
      metricsPort: 9464,
      metricsHost: '0.0.0.0',
      logLevel: 'info',
    });
  });

  it('reads what the operator sets on the pod, and lets flags win over the environment', () => {
    const env = {
      ...minimal,
      REDIS_URL: 'rediss://redis.billing.svc:6380/2',
      REDIS_PASSWORD: 's3cret',
      WORKERPOOL_QUEUES: 'mailers, default',
      WORKERPOOL_CONCURRENCY: '25',
      WORKERPOOL_KEY_PREFIX: 'billing:',
      WORKERPOOL_DRAIN_TIMEOUT_SECONDS: '55',
      WORKERPOOL_VISIBILITY_TIMEOUT_SECONDS: '0.5',
      WORKERPOOL_HEARTBEAT_INTERVAL_SECONDS: '0.1',
    };
    const config = parseRunConfig({ concurrency: '50', 'metrics-port': '0' }, env);
    expect(config.redis).toEqual({
      url: 'rediss://redis.billing.svc:6380/2',
      password: 's3cret',
      keyPrefix: 'billing:',
    });
    expect(config.queues).toEqual(['mailers', 'default']);
    expect(config.concurrency).toBe(50);
    expect(config.metricsPort).toBe(0);
    expect([config.drainTimeoutMs, config.visibilityTimeoutMs, config.heartbeatIntervalMs]).toEqual([55_000, 500, 100]);
  });

  it('accepts the singular WORKERPOOL_QUEUE too', () => {
    expect(parseRunConfig({}, { WORKERPOOL_QUEUE: 'one', WORKERPOOL_HANDLERS: 'h.js' }).queues).toEqual(['one']);
  });

  it.each([
    [{ WORKERPOOL_CONCURRENCY: 'ten' }, 'WORKERPOOL_CONCURRENCY: "ten" is not an integer from 1 to 1000'],
    [{ WORKERPOOL_CONCURRENCY: '0' }, 'WORKERPOOL_CONCURRENCY: "0" is not an integer from 1 to 1000'],
    [
      { WORKERPOOL_DRAIN_TIMEOUT_SECONDS: '-1' },
      'WORKERPOOL_DRAIN_TIMEOUT_SECONDS: "-1" is not a number of seconds from 0 to 3600',
    ],
    [{ REDIS_URL: 'http://redis:6379' }, 'REDIS_URL: the scheme must be redis:// or rediss://, got http://'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL: not a URL'],
    [{ WORKERPOOL_QUEUES: 'a,{b}' }, 'WORKERPOOL_QUEUES: queue name "{b}" must not contain braces or whitespace'],
    [{ WORKERPOOL_QUEUES: 'a,a' }, 'WORKERPOOL_QUEUES: a queue is listed twice in "a,a"'],
    [{ WORKERPOOL_METRICS_PORT: '70000' }, 'WORKERPOOL_METRICS_PORT: "70000" is not an integer from 0 to 65535'],
    [
      { WORKERPOOL_LOG_LEVEL: 'loud' },
      'WORKERPOOL_LOG_LEVEL: "loud" is not one of fatal, error, warn, info, debug, trace, silent',
    ],
    [
      { WORKERPOOL_HEARTBEAT_INTERVAL_SECONDS: '40' },
      '--heartbeat-interval-seconds / WORKERPOOL_HEARTBEAT_INTERVAL_SECONDS (40) must be below',
    ],
  ])('rejects %o naming the variable', (bad, message) => {
    expect(() => parseRunConfig({}, { ...minimal, ...bad })).toThrow(message);
  });

  it('names the flag when the bad value came from a flag', () => {
    expect(() => parseRunConfig({ concurrency: '1.5' }, minimal)).toThrow(
      '--concurrency: "1.5" is not an integer from 1 to 1000',
    );
  });

  it('fails fast when a required setting is missing', () => {
    expect(() => parseRunConfig({}, { WORKERPOOL_HANDLERS: 'h.js' })).toThrow(
      '--queues / WORKERPOOL_QUEUES / WORKERPOOL_QUEUE is required',
    );
    expect(() => parseRunConfig({}, { WORKERPOOL_QUEUES: 'q' })).toThrow(
      '--handlers / WORKERPOOL_HANDLERS is required',
    );
    expect(() => parseDeadLettersConfig({}, {})).toThrow('--queue / WORKERPOOL_QUEUE / WORKERPOOL_QUEUES is required');
  });
});
