import { Redis } from 'ioredis';
import { uniqueKeyPrefix } from '@workerpool/testkit/isolation';

/** A client and a key prefix of the test's own; cleanup() deletes every key under the prefix. */
export interface RedisFixture {
  readonly redis: Redis;
  readonly url: string;
  readonly prefix: string;
  cleanup(): Promise<void>;
}

export function redisFixture(url: string, label: string): RedisFixture {
  const redis = new Redis(url);
  redis.on('error', () => undefined); // tests that restart Redis expect connection errors; commands still fail loudly
  const prefix = uniqueKeyPrefix(label);
  return {
    redis,
    url,
    prefix,
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      redis.disconnect();
    },
  };
}
