import type { Redis } from 'ioredis';

// Producers and consumers that change every queue on every poll: each tick, per queue, a few
// items are pushed and a few popped, so that depth moves but stays near its level. Bursts land
// on a few queues at a time, so that the operator has something to react to.

export interface QueueLoad {
  readonly key: string;
  depth: number;
}

const random = (low: number, high: number) => low + Math.floor(Math.random() * (high - low + 1));

/** One tick for every queue of one Redis, in one pipeline. */
export async function churn(redis: Redis, queues: readonly QueueLoad[], level: number): Promise<void> {
  const pipeline = redis.pipeline();
  for (const queue of queues) {
    const push = random(1, 4);
    const pop = queue.depth > level ? random(2, 6) : random(0, 3);
    pipeline.lpush(queue.key, ...Array.from({ length: push }, () => 'job'));
    if (pop > 0) pipeline.rpop(queue.key, pop);
    queue.depth = Math.max(0, queue.depth + push - pop);
  }
  await pipeline.exec();
}

export async function burst(redis: Redis, queue: QueueLoad, jobs: number): Promise<void> {
  await redis.lpush(queue.key, ...Array.from({ length: jobs }, () => 'burst'));
  queue.depth += jobs;
}

/** Takes a burst away again, as workers would have. */
export async function drain(redis: Redis, queue: QueueLoad, toDepth: number): Promise<void> {
  await redis.ltrim(queue.key, 0, Math.max(0, toDepth - 1));
  queue.depth = Math.min(queue.depth, toDepth);
}
