import type { Redis } from 'ioredis';

/**
 * Redis's clock (TIME) in epoch ms: the one clock of the protocol. Every script reads it itself;
 * this is for callers that must compare with what the scripts wrote.
 */
export async function redisTimeMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
