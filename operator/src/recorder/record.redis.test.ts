import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Queue as BullQueue } from 'bullmq';
import { Redis } from 'ioredis';
import { Queue as NativeQueue, Worker as NativeWorker } from '@workerpool/worker-runtime';
import { uniqueKeyPrefix, uniqueSuffix } from '@workerpool/testkit/isolation';
import { SIDEKIQ_PUSH } from '@workerpool/testkit/sidekiq-push';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { parseTraceCsv } from '../simulator/arrival-trace.ts';
import { arrivalSource } from './arrival-sources.ts';
import { describeAccuracy, recordTrace, type RecordedTrace } from './record-trace.ts';

// `record` against a real Redis, fed by each format's real producer: BullMQ's Queue.add, the
// Sidekiq gem's Client.push_bulk, the worker runtime's Queue, LPUSH and XADD. The recorded
// buckets are compared with the times the producers themselves wrote.
const execute = promisify(execFile);
const MAIN = join(import.meta.dirname, '../cli/main.ts');

const WAVES = [5, 8, 3];
/** Waves land in the middle of the 1 s buckets, far from their edges. */
const WAVE_OFFSETS_MS = [400, 1400, 2400];
const RECORDING = { durationMs: 3500, intervalMs: 1000, bucketSeconds: 1 };

function bucketsOf(timesMs: number[], trace: RecordedTrace): number[] {
  const counts = trace.counts.map(() => 0);
  for (const at of timesMs) {
    const bucket = Math.floor((at - trace.startMs) / 1000);
    counts[bucket] = (counts[bucket] ?? 0) + 1;
  }
  return counts;
}

/** Records while `send` runs each wave at its offset; returns the trace and what `send` returned. */
async function recordWaves<T>(
  source: Parameters<typeof recordTrace>[0]['source'],
  send: (count: number, wave: number) => Promise<T>,
  durationMs = RECORDING.durationMs,
): Promise<{ trace: RecordedTrace; sent: T[] }> {
  const t0 = Date.now();
  const recording = recordTrace({ source, ...RECORDING, durationMs });
  const sent: T[] = [];
  for (const [wave, count] of WAVES.entries()) {
    await sleep(Math.max(0, t0 + (WAVE_OFFSETS_MS[wave] as number) - Date.now()));
    sent.push(await send(count, wave));
  }
  return { trace: await recording, sent };
}

describe('record, against real producers of each format', () => {
  const url = inject('redisUrl');
  const { hostname, port } = new URL(url);
  const redis = new Redis(url);
  const prefix = uniqueKeyPrefix('rec').slice(0, -1);
  const closers: (() => Promise<unknown>)[] = [];

  afterAll(async () => {
    await Promise.all(closers.map((close) => close()));
    const keys = [...(await redis.keys(`${prefix}*`)), ...(await redis.keys(`queue:${prefix}*`))];
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('bullmq: every Queue.add, exactly, from the queue\'s "added" events', async () => {
    const queue = new BullQueue('emails', { connection: { host: hostname, port: Number(port) }, prefix });
    closers.push(() => queue.close());
    await queue.add('before', {}); // there before the recording: not an arrival
    const source = arrivalSource('bullmq', { redis, queue: 'emails', keyPrefix: prefix });
    const { trace, sent } = await recordWaves(source, async (count) =>
      queue.addBulk(Array.from({ length: count }, (_, n) => ({ name: 'send', data: { n } }))),
    );
    // One delayed job still arrives when it is added.
    const timestamps = sent.flat().map((job) => job.timestamp);
    expect(trace.counts).toEqual(bucketsOf(timestamps, trace));
    expect(trace.counts).toEqual([5, 8, 3, 0]);
    expect(trace).toMatchObject({ timed: 16, counted: 0, estimated: 0 });
  });

  it('stream: every XADD, exactly, from the entry IDs', async () => {
    const key = `${prefix}:events-stream`;
    await redis.xadd(key, '*', 'n', 'before');
    const source = arrivalSource('stream', { redis, queue: key });
    const { trace, sent } = await recordWaves(source, (count) =>
      Promise.all(Array.from({ length: count }, (_, n) => redis.xadd(key, '*', 'n', String(n)))),
    );
    const ids = sent.flat().filter((id): id is string => id !== null);
    expect(trace.counts).toEqual(
      bucketsOf(
        ids.map((id) => Number(id.split('-')[0])),
        trace,
      ),
    );
    expect(trace.counts).toEqual([5, 8, 3, 0]);
    expect(trace.timed).toBe(16);
  });

  it('stream: entries MAXLEN trimmed before a poll read them are still counted, and the trace says so', async () => {
    const key = `${prefix}:capped-stream`;
    await redis.xadd(key, 'MAXLEN', '5', '*', 'n', 'before');
    const source = arrivalSource('stream', { redis, queue: key });
    // The second wave (8) overflows MAXLEN 5 between two polls: 3 of its entries never reach a poll.
    const { trace } = await recordWaves(source, (count) =>
      Promise.all(Array.from({ length: count }, (_, n) => redis.xadd(key, 'MAXLEN', '5', '*', 'n', String(n)))),
    );
    expect(trace.counts).toEqual([5, 8, 3, 0]);
    expect(trace).toMatchObject({ timed: 13, counted: 3, estimated: 0, trimmed: 3 });
    expect(describeAccuracy(trace)).toMatch(/3 log entries were trimmed before a poll read them: poll more often/);
  });

  it('bullmq: arrivals whose events BullMQ trimmed (maxLenEvents) are estimated, not lost', async () => {
    // BullMQ trims its events with MAXLEN ~, a whole stream node (100 entries) at a time.
    const queue = new BullQueue('capped', {
      connection: { host: hostname, port: Number(port) },
      prefix,
      streams: { events: { maxLen: 50 } },
    });
    closers.push(() => queue.close());
    // The Queue writes its maxLenEvents to the meta hash once connected; the Lua scripts read it there.
    await expect.poll(() => redis.hget(`${prefix}:capped:meta`, 'opts.maxLenEvents')).toBe('50');
    const source = arrivalSource('bullmq', { redis, queue: 'capped', keyPrefix: prefix });
    await source.poll(); // bearings
    await queue.addBulk(Array.from({ length: 400 }, (_, n) => ({ name: 'send', data: { n } })));
    const poll = await source.poll();

    expect(poll.trimmed).toBeGreaterThan(0);
    // Each job writes an "added" and a "waiting" event: half of what is trimmed were arrivals.
    expect(poll.timedMs.length + poll.estimated).toBeGreaterThanOrEqual(390);
    expect(poll.timedMs.length + poll.estimated).toBeLessThanOrEqual(410);
    expect(poll.timedMs.length).toBeLessThan(400);
  });

  it('native: exact counts per poll, even for jobs a worker completed between two polls', async () => {
    const connection = new Redis(url);
    const queue = new NativeQueue('mailers', { connection, prefix: `${prefix}:` });
    let done = 0;
    const worker = new NativeWorker('mailers', {
      connection,
      prefix: `${prefix}:`,
      handlers: {
        send: () => {
          done += 1;
          return Promise.resolve();
        },
      },
      concurrency: 4,
    });
    closers.push(async () => {
      await worker.close();
      connection.disconnect();
    });
    await worker.start();
    const source = arrivalSource('native', { redis, queue: 'mailers', keyPrefix: `${prefix}:` });
    const { trace } = await recordWaves(source, (count) =>
      queue.addBulk(Array.from({ length: count }, () => ({ name: 'send', data: null }))),
    );
    expect(done).toBeGreaterThan(0); // the worker ran jobs while the recorder watched
    expect(trace.counts).toEqual([5, 8, 3, 0]);
    expect(trace).toMatchObject({ timed: 0, counted: 16, estimated: 0 });
  });

  it('sidekiq: the enqueued_at of every job the real gem pushed, while they wait', async () => {
    const queue = `${prefix}-mailers`;
    const push = async (count: number) => {
      try {
        const { stdout } = await execute('ruby', [SIDEKIQ_PUSH, queue, String(count), '10'], {
          env: { ...process.env, REDIS_URL: url },
          timeout: 30_000,
        });
        return JSON.parse(stdout) as string[];
      } catch (error) {
        throw new Error(`running the Sidekiq gem failed (apt-get install ruby-sidekiq): ${String(error)}`, {
          cause: error,
        });
      }
    };
    await push(2); // waiting before the recording: not arrivals
    const source = arrivalSource('sidekiq', { redis, queue });
    // A Ruby process per wave takes a while to start: the recording lasts long enough for all.
    const { trace, sent } = await recordWaves(source, push, 8000);
    const waiting = (await redis.lrange(`queue:${queue}`, 0, -1)).map(
      (item) => JSON.parse(item) as { jid: string; enqueued_at: number },
    );
    const recordedJids = new Set(sent.flat());
    const enqueuedMs = waiting.filter((job) => recordedJids.has(job.jid)).map((job) => job.enqueued_at * 1000);
    expect(enqueuedMs).toHaveLength(16);
    expect(trace.counts).toEqual(bucketsOf(enqueuedMs, trace));
    expect(trace.timed).toBe(16);
  });

  it('list: estimated from the length, which is every LPUSH when nothing consumes', async () => {
    const key = `${prefix}:plain`;
    const source = arrivalSource('list', { redis, queue: key });
    const { trace } = await recordWaves(source, (count) =>
      redis.lpush(key, ...Array.from({ length: count }, (_, n) => String(n))),
    );
    expect(trace.counts).toEqual([5, 8, 3, 0]);
    expect(trace).toMatchObject({ timed: 0, counted: 0, estimated: 16 });
  });

  it('the real CLI process writes a trace that simulate reads, and says how exact it is', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'record-'));
    closers.push(() => Promise.resolve(rmSync(directory, { recursive: true, force: true })));
    const key = `${prefix}:cli-${uniqueSuffix()}`;
    const out = join(directory, 'trace.csv');
    const child = spawn(
      process.execPath,
      [MAIN, 'record', '--redis', url, '--format', 'stream', '--queue', key, '--duration', '8s', '--out', out],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // The process says it records once its first poll took its bearings. The 12 entries must all
    // land before its last poll: 8 s leaves room for a loaded machine (4 s once saw 11 of 12).
    for (let waited = 0; !stderr.includes('recording') && waited < 20_000; waited += 50) await sleep(50);
    expect(stderr).toContain('exact: each stream entry ID carries the time it was added');
    for (let n = 0; n < 12; n += 1) await redis.xadd(key, '*', 'n', String(n));
    expect(await exited).toBe(0);
    expect(stdout).toContain('12 arrivals: 12 with their enqueue time');
    const csv = readFileSync(out, 'utf8');
    expect(csv).toMatch(/^# recorded by workerpool-operator record: .* stream queue /);
    expect(csv).toContain('# arrivals exact: 12 arrivals');
    const trace = parseTraceCsv('recorded', csv);
    expect(trace.counts.reduce((sum, count) => sum + count, 0)).toBe(12);
    expect(trace.bucketSeconds).toBe(1);
    expect(trace.counts.length).toBeGreaterThanOrEqual(4);
    const simulated = await execute(process.execPath, [
      MAIN,
      'simulate',
      '--pool',
      join(import.meta.dirname, '../../bench/traces/sample-pool.yaml'),
      '--trace',
      out,
    ]);
    expect(simulated.stdout).toMatch(/^jobs +12 /);
  });
});
