import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '@workerpool/testkit/redis-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignalPoller } from './signal-poller.ts';
import { startSentinel, type RedisSentinel } from '@workerpool/testkit/redis-sentinel';

const PASSWORD = 'sentinel-master-pw';

describe('reading through Redis Sentinel', () => {
  let master: RedisServer;
  let sentinel: RedisSentinel;
  const poller = new SignalPoller({ commandTimeoutMs: 1000, connectTimeoutMs: 2000 });

  beforeAll(async () => {
    master = await startRedisServer({ password: PASSWORD });
    sentinel = await startSentinel('jobs-master', master.port, { masterPassword: PASSWORD });
    const redis = new Redis(master.url);
    await redis.rpush('jobs', 'a', 'b');
    redis.disconnect();
  });
  afterAll(async () => {
    await poller.close();
    await sentinel.stop();
    await master.stop();
  });

  it('asks the sentinel for the master and reads the queue there with the resolved password', async () => {
    poller.register('pool', {
      queue: {
        format: 'list',
        names: ['jobs'],
        redis: { sentinel: { masterName: 'jobs-master', endpoints: [sentinel.endpoint], db: 0 } },
      },
      credentials: { password: PASSWORD },
    });
    const result = (await poller.readAll()).get('pool');
    await poller.unregister('pool');
    expect(result).toMatchObject({ ok: true, reading: { depth: 2 } });
  });

  it('fails with a typed error naming the sentinel set when the master name is unknown', async () => {
    poller.register('pool', {
      queue: {
        format: 'list',
        names: ['jobs'],
        redis: { sentinel: { masterName: 'no-such-master', endpoints: [sentinel.endpoint], db: 0 } },
      },
      credentials: { password: PASSWORD },
    });
    const result = (await poller.readAll()).get('pool');
    await poller.unregister('pool');
    expect(result?.ok).toBe(false);
    expect(result?.ok === false && result.error.message).toContain('sentinel no-such-master@');
    expect(result?.ok === false && result.error.kind, result?.ok === false ? result.error.message : '').toBe(
      'unreachable',
    );
  });
});
