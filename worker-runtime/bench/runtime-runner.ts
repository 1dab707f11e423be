import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Queue } from '../src/queue/queue.ts';
import { Worker } from '../src/worker/worker.ts';
import type { LibraryRunner, RunSpec } from './bench-types.ts';

const QUEUE = 'bench';
const FILL_CHUNK = 5_000;

export const runtimeRunner: LibraryRunner = {
  library: 'worker-runtime',
  async fill(spec: RunSpec) {
    const redis = new Redis({ host: spec.host, port: spec.port });
    const queue = new Queue(QUEUE, { connection: redis });
    for (let i = 0; i < spec.jobs; i += FILL_CHUNK) {
      const n = Math.min(FILL_CHUNK, spec.jobs - i);
      await queue.addBulk(Array.from({ length: n }, (_, k) => ({ name: 'job', data: { n: i + k } })));
    }
    redis.disconnect();
  },
  async process(spec: RunSpec) {
    const redis = new Redis({ host: spec.host, port: spec.port, maxRetriesPerRequest: null });
    const handler = spec.kind === 'no-op' ? async () => {} : () => sleep(1);
    const worker = new Worker(QUEUE, { connection: redis, handlers: { job: handler }, concurrency: spec.concurrency });
    let done = 0;
    const finished = new Promise<void>((resolve) => {
      worker.on('completed', () => {
        done += 1;
        if (done === spec.jobs) resolve();
      });
    });
    await worker.start();
    await finished;
    return async () => {
      await worker.close();
      redis.disconnect();
    };
  },
};
