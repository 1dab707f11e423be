import { Redis } from 'ioredis';
import { startRedisServer } from '@workerpool/testkit/redis-server';
import { Queue, type Durability } from '../src/queue/queue.ts';

/** Producers adding one job per call, as an application does, each waiting for its add. */
const PRODUCERS = 50;

export interface AddRun {
  readonly durability: string;
  readonly adds: number;
  readonly seconds: number;
  readonly addsPerSecond: number;
  /** Median and 99th percentile of one add, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

async function addAll(url: string, adds: number, durability: Durability | undefined): Promise<AddRun> {
  const redis = new Redis(url);
  const queue = new Queue('durable-bench', { connection: redis, ...(durability ? { durability } : {}) });
  const latencies: number[] = [];
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      while (next < adds) {
        next += 1;
        const t0 = process.hrtime.bigint();
        await queue.add('job', { n: next });
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await redis.flushall();
  redis.disconnect();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Number((latencies[Math.floor(q * (latencies.length - 1))] ?? 0).toFixed(2));
  return {
    durability: durability ? `replicas=${durability.replicas}` : 'none',
    adds,
    seconds: Number(seconds.toFixed(3)),
    addsPerSecond: Math.round(adds / seconds),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

/** The cost of durable adds: the same adds on a primary with one replica, without and with WAIT. */
export async function measureDurableAdds(adds: number): Promise<AddRun[]> {
  const primary = await startRedisServer();
  const replica = await startRedisServer({ replicaOf: primary.port });
  try {
    return [await addAll(primary.url, adds, undefined), await addAll(primary.url, adds, { replicas: 1 })];
  } finally {
    await replica.stop();
    await primary.stop();
  }
}
