import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '@workerpool/worker-runtime/config';
import { ScalingSchema } from '../api/workerpool-schema.ts';
import { templatePool } from '../testing/fixtures.ts';
import { nativeWorkerEnv } from './worker-env.ts';

describe('nativeWorkerEnv', () => {
  it('tells a native worker its queue, concurrency and a drain deadline inside the grace period, and refers to the password by Secret', () => {
    const pool = templatePool('billing', 'mailers', {
      template: { spec: { terminationGracePeriodSeconds: 60, containers: [{ name: 'worker', image: 'w:1' }] } },
      queue: {
        format: 'native',
        names: ['mail', 'bulk'],
        keyPrefix: 'billing:',
        redis: { url: 'redis://r:6379/0', passwordSecretRef: { name: 'redis-auth', key: 'password' } },
      },
      scaling: { concurrency: 25 },
    });
    const env = Object.fromEntries(
      nativeWorkerEnv(pool).map((variable) => [variable.name, variable.value ?? variable.valueFrom]),
    );
    expect(env).toEqual({
      REDIS_URL: 'redis://r:6379/0',
      WORKERPOOL_QUEUES: 'mail,bulk',
      WORKERPOOL_CONCURRENCY: '25',
      WORKERPOOL_DRAIN_TIMEOUT_SECONDS: '55',
      WORKERPOOL_POD_NAME: { fieldRef: { fieldPath: 'metadata.name' } },
      WORKERPOOL_KEY_PREFIX: 'billing:',
      REDIS_PASSWORD: { secretKeyRef: { name: 'redis-auth', key: 'password' } },
    });
  });

  it('leaves workers of other formats alone: their teams configure them', () => {
    const pool = templatePool('shop', 'sidekiq', {
      queue: { format: 'sidekiq', names: ['default'], redis: { url: 'redis://r:6379/0' } },
    });
    expect(nativeWorkerEnv(pool)).toEqual([]);
  });

  it('never gives a worker settings its runtime refuses, even at the largest concurrency and grace period the CRD accepts', () => {
    const pool = templatePool('billing', 'big', {
      template: { spec: { terminationGracePeriodSeconds: 24 * 3600, containers: [{ name: 'worker', image: 'w:1' }] } },
      queue: {
        format: 'native',
        names: ['mail'],
        redis: { url: 'redis://r:6379/0', passwordSecretRef: { name: 'redis-auth', key: 'password' } },
      },
      scaling: { concurrency: (ScalingSchema.properties.concurrency as { maximum?: number }).maximum ?? Number.NaN },
    });
    // What the kubelet would put in the container's environment.
    const env = Object.fromEntries(
      nativeWorkerEnv(pool).map((variable) => [
        variable.name,
        variable.value ?? (variable.valueFrom?.fieldRef ? 'big-7d9f-x2' : 'pw'),
      ]),
    );
    const config = parseRunConfig({ handlers: './handlers.js' }, env);
    expect(config.concurrency).toBe(pool.spec.scaling.concurrency);
    expect(config.podName).toBe('big-7d9f-x2');
    expect(config.drainTimeoutMs).toBeLessThan(24 * 3600 * 1000);
  });
});
