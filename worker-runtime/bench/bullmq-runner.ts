import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, Worker } from 'bullmq';
import type { LibraryRunner, RunSpec } from './bench-types.ts';

const QUEUE = 'bench';
const FILL_CHUNK = 1_000;

/** BullMQ as its documentation recommends for throughput: jobs removed on completion, default worker settings. */
export const bullmqRunner: LibraryRunner = {
  library: 'bullmq',
  async fill(spec: RunSpec) {
    const queue = new Queue(QUEUE, { connection: { host: spec.host, port: spec.port } });
    for (let i = 0; i < spec.jobs; i += FILL_CHUNK) {
      const n = Math.min(FILL_CHUNK, spec.jobs - i);
      await queue.addBulk(
        Array.from({ length: n }, (_, k) => ({
          name: 'job',
          data: { n: i + k },
          opts: { removeOnComplete: true, removeOnFail: true },
        })),
      );
    }
    await queue.close();
  },
  async process(spec: RunSpec) {
    const processor = spec.kind === 'no-op' ? async () => {} : () => sleep(1);
    let done = 0;
    let resolveFinished: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
    const worker = new Worker(QUEUE, processor, {
      connection: { host: spec.host, port: spec.port, maxRetriesPerRequest: null },
      concurrency: spec.concurrency,
    });
    worker.on('completed', () => {
      done += 1;
      if (done === spec.jobs) resolveFinished();
    });
    await finished;
    return () => worker.close();
  },
};
