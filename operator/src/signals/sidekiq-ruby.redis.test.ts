import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startProcess } from '@workerpool/testkit/processes';
import { startRedisServer, type RedisServer } from '@workerpool/testkit/redis-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietCommands } from './quiet-request.ts';
import type { QueueReading } from './queue-reading.ts';
import { SignalPoller } from './signal-poller.ts';

// Side by side with the real Sidekiq gem: Debian's ruby-sidekiq (6.4.1) pushes the jobs and
// computes Sidekiq::Queue#latency itself. Needs `apt-get install ruby-sidekiq ruby-redis-namespace`.
const run = promisify(execFile);

/** A Redis as a Sidekiq app sees it: its URL, and the redis-namespace its keys live under, if any. */
type SidekiqRedis = string | { url: string; namespace: string };
const sidekiqEnv = (redis: SidekiqRedis): NodeJS.ProcessEnv =>
  typeof redis === 'string'
    ? { ...process.env, REDIS_URL: redis }
    : { ...process.env, REDIS_URL: redis.url, SIDEKIQ_NAMESPACE: redis.namespace };
const SCRIPT = join(import.meta.dirname, 'testing', 'sidekiq-ruby.rb');

interface SidekiqMeasure {
  version: string;
  size: number;
  latency: number;
  before: number;
  after: number;
  due: number;
}

async function sidekiq(
  command: 'push' | 'measure' | 'slow' | 'quick' | 'processes' | 'stats',
  redis: SidekiqRedis,
  ...args: string[]
): Promise<string> {
  try {
    const { stdout } = await run('ruby', [SCRIPT, command, ...args], {
      env: sidekiqEnv(redis),
      timeout: 30_000,
    });
    return stdout;
  } catch (err) {
    throw new Error(
      `running the Sidekiq gem failed (is ruby-sidekiq installed? apt-get install ruby-sidekiq): ${String(err)}`,
      { cause: err },
    );
  }
}

/** A real Sidekiq 6 server process serving "mailers" with 3 threads (the jobs of sidekiq-server-app.rb). */
function startSidekiqServer(redis: SidekiqRedis) {
  const app = join(import.meta.dirname, 'testing', 'sidekiq-server-app.rb');
  return startProcess('sidekiq', 'sidekiq', ['-r', app, '-q', 'mailers', '-c', '3', '-t', '1'], sidekiqEnv(redis));
}

describe('the sidekiq reader next to the real Sidekiq 6 gem', () => {
  let server: RedisServer;
  const poller = new SignalPoller();

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await poller.close();
    await server.stop();
  });

  /** A field of one pool's next reading, polled until it has the value a heartbeat brings. */
  async function pollReading<T>(pool: string, field: (reading: QueueReading) => T, expected: T): Promise<void> {
    // Sidekiq writes busy and adds to stat:processed at its heartbeat, every 5 s in 6.4.
    await expect
      .poll(
        async () => {
          const r = (await poller.readAll()).get(pool);
          return r?.ok ? field(r.reading) : undefined;
        },
        { timeout: 30_000, interval: 500 },
      )
      .toEqual(expected);
  }

  it('reports the depth and latency Sidekiq::Queue reports, and the due scheduled job', async () => {
    await sidekiq('push', server.url);
    poller.register('pool', { queue: { format: 'sidekiq', names: ['mailers'], redis: { url: server.url } } });
    const result = (await poller.readAll()).get('pool');
    const measured = JSON.parse(await sidekiq('measure', server.url)) as SidekiqMeasure;
    if (!result?.ok) throw result?.error ?? new Error('no result');
    const r = result.reading;
    expect(measured.version).toMatch(/^6\./);
    expect(r.depth).toBe(measured.size);
    expect(r.depth).toBe(2);
    // Sidekiq measured a moment later than we did, somewhere between `before` and `after`: taken
    // back to our moment, its latency lies in a window as wide as that (plus a millisecond of rounding).
    const ourMoment = r.observedAtMs / 1000;
    expect(r.oldestJobAgeSeconds).toBeGreaterThanOrEqual(measured.latency - (measured.after - ourMoment) - 0.001);
    expect(r.oldestJobAgeSeconds).toBeLessThanOrEqual(measured.latency - (measured.before - ourMoment) + 0.001);
    expect(r.dueScheduled).toBe(measured.due);
    expect(r.dueScheduled).toBe(1);
  });

  it('reads busy and concurrency from the heartbeat of a real Sidekiq server process, as ProcessSet does, and quiets it as quiet! does', async () => {
    const server6 = startSidekiqServer(server.url);
    try {
      await sidekiq('slow', server.url, '2');
      poller.register('busy-pool', { queue: { format: 'sidekiq', names: ['mailers'], redis: { url: server.url } } });
      // The busy count appears with the first beat after the jobs start.
      await pollReading('busy-pool', (r) => r.busy, 2);
      const result = (await poller.readAll()).get('busy-pool');
      const processes = JSON.parse(await sidekiq('processes', server.url)) as {
        identity: string;
        hostname: string;
        busy: number;
        concurrency: number;
        quiet: boolean;
      }[];
      expect(result?.ok && result.reading).toMatchObject({ busy: 2, concurrency: 3, depth: 0 });
      expect(result?.ok && result.reading.workers).toEqual(
        processes.map((p) => ({
          pod: p.hostname,
          busy: p.busy,
          concurrency: p.concurrency,
          draining: p.quiet,
          quietKey: `${p.identity}-signals`,
          beatAtMs: expect.any(Number) as number,
        })),
      );

      // Drain before delete's request, on the pool's own connection: what Sidekiq::Process#quiet!
      // sends. The process pops it at its next heartbeat and says quiet at the one after, while
      // its two jobs run on.
      const [worker] = result?.ok ? (result.reading.workers ?? []) : [];
      const commands = quietCommands('sidekiq', worker?.quietKey ?? '', 60);
      if (!commands) throw new Error('sidekiq has a remote quiet');
      await poller.sendQuiet('busy-pool', commands);
      await expect
        .poll(
          async () => {
            const r = (await poller.readAll()).get('busy-pool');
            return r?.ok ? r.reading.workers?.map((w) => ({ draining: w.draining, busy: w.busy })) : undefined;
          },
          { timeout: 20_000, interval: 500 },
        )
        .toEqual([{ draining: true, busy: 2 }]);
      const quiet = JSON.parse(await sidekiq('processes', server.url)) as { quiet: boolean }[];
      expect(quiet.map((p) => p.quiet)).toEqual([true]);
    } finally {
      await poller.unregister('busy-pool');
      await server6.stop();
    }
  });

  it("reads stat:processed as Sidekiq::Stats reports it, once the process has beaten, and names the process when it serves a queue that is not the pool's", async () => {
    // A Redis of its own: no job of the other tests is processed (or fails) into the counter here.
    const own = await startRedisServer();
    const server6 = startSidekiqServer(own.url);
    try {
      await sidekiq('quick', own.url, '20');
      poller.register('counted-pool', { queue: { format: 'sidekiq', names: ['mailers'], redis: { url: own.url } } });
      poller.register('other-pool', { queue: { format: 'sidekiq', names: ['reports'], redis: { url: own.url } } });
      // The process adds the jobs it finished to stat:processed at its next heartbeat (every 5 s
      // in 6.4, launcher.rb v6.4.1 l. 72 and 128-143), not as each finishes.
      await pollReading('counted-pool', (r) => r.completedTotal, 20);
      const stats = JSON.parse(await sidekiq('stats', own.url)) as { processed: number; failed: number };
      expect(stats).toEqual({ processed: 20, failed: 0 });
      const readings = await poller.readAll();
      const counted = readings.get('counted-pool');
      const other = readings.get('other-pool');
      if (!counted?.ok || !other?.ok) throw new Error('both pools should read');
      // Sidekiq 6.4 names no version in its info: it beats every 5 s.
      expect(counted.reading).toMatchObject({ completedTotal: 20, completedGranularitySeconds: 5 });
      expect(counted.reading.completedSharedWith).toBeUndefined();
      // For a pool of "reports", the live process serving "mailers" moves the same counter.
      const processes = JSON.parse(await sidekiq('processes', own.url)) as { identity: string }[];
      expect(other.reading.completedSharedWith).toBe(`${processes[0]?.identity ?? '?'} serves mailers`);
    } finally {
      await poller.unregister('counted-pool');
      await poller.unregister('other-pool');
      await server6.stop();
      await own.stop();
    }
  });

  it("reads a redis-namespace app under its keyPrefix, and quiets it through the namespace's signals key", async () => {
    // Sidekiq 6's `namespace:` option: every key of the app, the signals list included, lives
    // under "shop:", and another app's keys on the same Redis are not its own.
    const shop = { url: server.url, namespace: 'shop' };
    const server6 = startSidekiqServer(shop);
    try {
      await sidekiq('slow', shop, '2');
      poller.register('shop-pool', {
        queue: { format: 'sidekiq', names: ['mailers'], keyPrefix: 'shop', redis: { url: server.url } },
      });
      poller.register('bare-pool', { queue: { format: 'sidekiq', names: ['mailers'], redis: { url: server.url } } });
      await pollReading('shop-pool', (r) => r.busy, 2);
      const processes = JSON.parse(await sidekiq('processes', shop)) as { identity: string; concurrency: number }[];
      expect(processes).toHaveLength(1);
      const readings = await poller.readAll();
      const shopped = readings.get('shop-pool');
      const bare = readings.get('bare-pool');
      if (!shopped?.ok || !bare?.ok) throw new Error('both pools should read');
      expect(shopped.reading).toMatchObject({ busy: 2, concurrency: 3 });
      expect(shopped.reading.workers?.map((w) => w.quietKey)).toEqual([
        `shop:${processes[0]?.identity ?? '?'}-signals`,
      ]);
      // The same queue name without the namespace is another app's: no worker of the shop's is its.
      expect(bare.reading.workers ?? []).toEqual([]);

      const commands = quietCommands('sidekiq', shopped.reading.workers?.[0]?.quietKey ?? '', 60);
      if (!commands) throw new Error('sidekiq has a remote quiet');
      await poller.sendQuiet('shop-pool', commands);
      await pollReading('shop-pool', (r) => r.workers?.map((w) => ({ draining: w.draining, busy: w.busy })), [
        { draining: true, busy: 2 },
      ]);
      const quiet = JSON.parse(await sidekiq('processes', shop)) as { quiet: boolean }[];
      expect(quiet.map((p) => p.quiet)).toEqual([true]);
    } finally {
      await poller.unregister('shop-pool');
      await poller.unregister('bare-pool');
      await server6.stop();
    }
  });
});
