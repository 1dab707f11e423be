import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { uniqueKeyPrefix } from '@workerpool/testkit/isolation';
import { freeLoopbackPort } from '@workerpool/testkit/processes';
import { startRedisServer, type RedisServer } from '@workerpool/testkit/redis-server';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { SignalPoller } from './signal-poller.ts';
import { reportedReading } from './stale-reading.ts';
import { queueSpec } from './testing/test-pools.ts';

const PASSWORD = 'pw-Zq9-never-print-me';

/**
 * A TCP endpoint that accepts connections and never answers (a hung Redis), or that answers as
 * `greet` says: a server that is not Redis.
 */
async function startSilentServer(
  greet?: (socket: Socket) => void,
): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    greet?.(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port for the silent server');
  return {
    url: `redis://127.0.0.1:${address.port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('the signal poller', () => {
  const sharedUrl = inject('redisUrl');
  const prefix = uniqueKeyPrefix('poller');
  const redis = new Redis(sharedUrl);
  const servers: RedisServer[] = [];
  const pollers: SignalPoller[] = [];
  const newPoller = (options?: ConstructorParameters<typeof SignalPoller>[0]) => {
    const poller = new SignalPoller(options);
    pollers.push(poller);
    return poller;
  };

  afterEach(async () => {
    await Promise.all(pollers.splice(0).map((p) => p.close()));
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    redis.disconnect();
  });

  it('reads 50 pools on one endpoint in one round trip per poll, over one shared connection', async () => {
    const poller = newPoller();
    for (let i = 1; i <= 50; i += 1) {
      await redis.rpush(`${prefix}q${i}`, ...Array.from({ length: i }, () => 'job'));
      poller.register(`pool-${i}`, { queue: queueSpec(sharedUrl, { format: 'list', names: [`${prefix}q${i}`] }) });
    }
    expect(poller.endpoints()).toHaveLength(1);
    await poller.readAll(); // connects
    const before = poller.roundTrips;
    const results = await poller.readAll();
    expect(poller.roundTrips - before).toBe(1);
    expect(results.get('pool-7')).toMatchObject({ ok: true, reading: { depth: 7 } });
    expect(results.get('pool-50')).toMatchObject({ ok: true, reading: { depth: 50 } });
  });

  it('keeps the last good reading when Redis goes down, reports it stale, and recovers after a restart', async () => {
    const server = await startRedisServer({ password: PASSWORD });
    servers.push(server);
    const seed = new Redis(server.url);
    await seed.rpush('jobs', 'a', 'b', 'c');
    seed.disconnect();
    const poller = newPoller({ commandTimeoutMs: 500, connectTimeoutMs: 500 });
    const urlWithoutPassword = `redis://127.0.0.1:${server.port}`;
    poller.register('pool', {
      queue: queueSpec(urlWithoutPassword, { format: 'list', names: ['jobs'] }),
      credentials: { password: PASSWORD },
    });

    const good = (await poller.readAll()).get('pool');
    expect(good).toMatchObject({ ok: true, reading: { depth: 3 } });

    // SHUTDOWN rather than server.stop(): the harness's stop() also deletes the data dir restart() needs.
    const admin = new Redis(server.url, { retryStrategy: () => null });
    admin.on('error', () => undefined); // the connection drops as the server exits
    await admin.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    admin.disconnect();
    const down = (await poller.readAll()).get('pool');
    expect(down?.ok).toBe(false);
    if (!down || down.ok) return;
    expect(down.error.kind, down.error.message).toBe('unreachable');
    expect(down.error.message).toContain(`127.0.0.1:${server.port}`);
    expect(down.error.message).not.toContain(PASSWORD);
    expect(down.lastGood?.depth).toBe(3);
    expect(reportedReading(down)).toMatchObject({ stale: true, reading: { depth: 3 } });

    await server.restart();
    await expect.poll(async () => (await poller.readAll()).get('pool')?.ok, { timeout: 10_000 }).toBe(true);
    // The restarted server lost its data: a real empty reading, no longer stale.
    const after = (await poller.readAll()).get('pool');
    expect(after && reportedReading(after)).toMatchObject({ stale: false, reading: { depth: 0 } });
  });

  it('fails with auth-failed, without the password anywhere, when the password is wrong', async () => {
    const server = await startRedisServer({ password: PASSWORD });
    servers.push(server);
    const poller = newPoller({ commandTimeoutMs: 500, connectTimeoutMs: 1000 });
    const wrong = 'wrong-Xy7-secret';
    poller.register('pool', {
      queue: queueSpec(`redis://127.0.0.1:${server.port}`, { format: 'list', names: ['jobs'] }),
      credentials: { password: wrong },
    });
    const result = (await poller.readAll()).get('pool');
    expect(result?.ok).toBe(false);
    if (!result || result.ok) return;
    expect(result.error.kind).toBe('auth-failed');
    expect(result.lastGood).toBeUndefined();
    expect(reportedReading(result)).toBeUndefined();
    const everything = JSON.stringify({
      message: result.error.message,
      stack: result.error.stack,
      endpoints: poller.endpoints(),
    });
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(PASSWORD);
  });

  it('times out on a hung endpoint quickly, without stalling the pools of a healthy one', async () => {
    const silent = await startSilentServer();
    try {
      const poller = newPoller({ commandTimeoutMs: 300, connectTimeoutMs: 300 });
      await redis.rpush(`${prefix}ok`, 'a');
      poller.register('hung', { queue: queueSpec(silent.url, { format: 'list', names: ['jobs'] }) });
      poller.register('healthy', { queue: queueSpec(sharedUrl, { format: 'list', names: [`${prefix}ok`] }) });
      const started = Date.now();
      const results = await poller.readAll();
      expect(Date.now() - started).toBeLessThan(2000);
      expect(results.get('healthy')).toMatchObject({ ok: true, reading: { depth: 1 } });
      const hung = results.get('hung');
      expect(hung?.ok === false && hung.error.kind).toBe('unreachable');
    } finally {
      await silent.close();
    }
  });

  it('reads a closed port, a silent listener and servers that are not Redis all the same', async () => {
    // What a pool's author could otherwise learn about hosts a NetworkPolicy hides from them.
    const closedPort = await freeLoopbackPort();
    const listeners = await Promise.all([
      startSilentServer(),
      startSilentServer((socket) => socket.write('SSH-2.0-OpenSSH_9.2 secret-banner\r\n')),
      startSilentServer((socket) =>
        socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nX-Secret: banner\r\n\r\n')),
      ),
    ]);
    try {
      const poller = newPoller({ commandTimeoutMs: 300, connectTimeoutMs: 300 });
      const urls = [`redis://127.0.0.1:${closedPort}`, ...listeners.map((listener) => listener.url)];
      urls.forEach((url, i) =>
        poller.register(`probe-${i}`, { queue: queueSpec(url, { format: 'list', names: ['jobs'] }) }),
      );
      const results = await poller.readAll();
      const seen = urls.map((url, i) => {
        const result = results.get(`probe-${i}`);
        if (result?.ok !== false) throw new Error(`${url} was read`);
        return {
          kind: result.error.kind,
          message: result.error.message.replace(url.slice('redis://'.length), '<endpoint>'),
        };
      });
      expect(new Set(seen.map((s) => JSON.stringify(s))).size, JSON.stringify(seen, null, 1)).toBe(1);
      expect(seen[0]?.kind).toBe('unreachable');
      expect(JSON.stringify(seen)).not.toMatch(/secret|banner|SSH|HTTP/);
    } finally {
      await Promise.all(listeners.map((listener) => listener.close()));
    }
  });

  it('closes the shared connection only when the last pool using it is unregistered', async () => {
    const poller = newPoller();
    const spec = queueSpec(sharedUrl, { format: 'list', names: [`${prefix}x`] });
    poller.register('a', { queue: spec });
    poller.register('b', { queue: spec });
    await poller.readAll();
    await poller.unregister('a');
    expect(poller.endpoints()).toHaveLength(1);
    expect((await poller.readAll()).get('b')?.ok).toBe(true);
    await poller.unregister('b');
    expect(poller.endpoints()).toHaveLength(0);
  });
});
