/** The load every format is read under: as many pools and queues as the operator's target. */
export const POOLS = 1000;
export const QUEUES_PER_POOL = 10;
export const JOBS_PER_QUEUE = 5;

/** Seeding writes in batches so that no single pipeline holds all 10,000 queues. */
export const SEED_BATCH = 500;

export const queueName = (pool: number, queue: number) => `p${pool}-q${queue}`;
export const poolQueues = (pool: number) => Array.from({ length: QUEUES_PER_POOL }, (_, q) => queueName(pool, q));

/** Runs `work` for every pool, SEED_BATCH pools at a time. */
export async function forEachPoolBatch(work: (pool: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < POOLS; start += SEED_BATCH) {
    const batch = Array.from({ length: Math.min(SEED_BATCH, POOLS - start) }, (_, i) => start + i);
    await Promise.all(batch.map(work));
  }
}
