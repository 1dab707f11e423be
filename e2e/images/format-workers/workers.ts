// node workers.ts bullmq|list|stream — one worker of that format, from the environment:
//   REDIS_URL, QUEUE (queue, list key or stream key), GROUP (stream consumer group),
//   CONCURRENCY (default 2), EXAMPLE_RECORD_PREFIX (where runs are recorded, as the example
//   native handlers record them: started / finished hashes by job id, pods hash, done counter).
// Each job sleeps the `ms` its payload names.
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Worker } from 'bullmq';

const [format] = process.argv.slice(2);
const url = required('REDIS_URL');
const queue = required('QUEUE');
const concurrency = Number(process.env['CONCURRENCY'] ?? '2');
const prefix = process.env['EXAMPLE_RECORD_PREFIX'] ?? 'example:';
const pod = process.env['HOSTNAME'] ?? 'unknown';
const recorder = new Redis(url, { maxRetriesPerRequest: null });
let stopping = false;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function work(id: string, ms: number): Promise<void> {
  await recorder.multi().hincrby(`${prefix}started`, id, 1).hset(`${prefix}pods`, id, pod).exec();
  await sleep(ms);
  await recorder.multi().hincrby(`${prefix}finished`, id, 1).incr(`${prefix}done`).exec();
}

async function runBullmq() {
  const worker = new Worker(queue, async (job) => work(job.id ?? '', (job.data as { ms: number }).ms), {
    connection: new Redis(url, { maxRetriesPerRequest: null }),
    concurrency,
  });
  process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
  await worker.waitUntilReady();
}

/** A list consumer: BRPOP one item per free slot; the item is JSON {id, ms, enqueuedAt}. */
async function runList() {
  const loops = Array.from({ length: concurrency }, async () => {
    const client = new Redis(url, { maxRetriesPerRequest: null });
    while (!stopping) {
      const popped = await client.brpop(queue, 1);
      if (popped) {
        const item = JSON.parse(popped[1]) as { id: string; ms: number };
        await work(item.id, item.ms);
      }
    }
    client.disconnect();
  });
  process.once('SIGTERM', () => void (stopping = true));
  await Promise.all(loops);
  process.exit(0);
}

/** A stream consumer in a group: XREADGROUP one entry per free slot, XACK when done. */
async function runStream() {
  const group = required('GROUP');
  const client = new Redis(url, { maxRetriesPerRequest: null });
  await client.xgroup('CREATE', queue, group, '0', 'MKSTREAM').catch((error: unknown) => {
    if (!String(error).includes('BUSYGROUP')) throw error;
  });
  const loops = Array.from({ length: concurrency }, async (_, slot) => {
    const reader = new Redis(url, { maxRetriesPerRequest: null });
    while (!stopping) {
      const reply = await reader.xreadgroup(
        'GROUP',
        group,
        `${pod}-${slot}`,
        'COUNT',
        1,
        'BLOCK',
        1000,
        'STREAMS',
        queue,
        '>',
      );
      for (const [, entries] of reply ?? []) {
        for (const [entryId, fields] of entries) {
          const data = new Map<string, string>();
          const pairs = fields ?? [];
          for (let i = 0; i + 1 < pairs.length; i += 2) data.set(pairs[i]!, pairs[i + 1]!);
          await work(data.get('id') ?? '', Number(data.get('ms')));
          await reader.xack(queue, group, entryId);
        }
      }
    }
    reader.disconnect();
  });
  process.once('SIGTERM', () => void (stopping = true));
  await Promise.all(loops);
  process.exit(0);
}

const runners: Record<string, () => Promise<void>> = { bullmq: runBullmq, list: runList, stream: runStream };
const runner = format === undefined ? undefined : runners[format];
if (runner === undefined) throw new Error(`usage: node workers.ts ${Object.keys(runners).join('|')}`);
await runner();
