import { once } from 'node:events';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { startRedisServer, type RedisServer } from './redis-server.ts';

describe('the Redis harness', () => {
  let server: RedisServer | undefined;
  afterAll(() => server?.stop());

  it('starts a password-protected redis-server that refuses clients without the password', async () => {
    server = await startRedisServer({ password: 's3cret-harness' });
    // A raw socket, so that no client library's connection handshake hides the server's own answer.
    const socket = connect(server.port, '127.0.0.1');
    socket.write('PING\r\n');
    const [reply] = (await once(socket, 'data')) as [Buffer];
    socket.destroy();
    expect(reply.toString()).toMatch(/^-NOAUTH/);

    const client = new Redis(server.url);
    await client.set('k', 'v');
    expect(await client.get('k')).toBe('v');
    client.disconnect();
  });

  it('restarts on the same port with its data gone, as a Redis without persistence does', async () => {
    if (!server) throw new Error('the first test did not start a server');
    const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
    await client.set('before-restart', '1');
    await server.restart();
    await expect.poll(() => client.ping().catch(() => 'down'), { timeout: 10_000 }).toBe('PONG');
    expect(await client.exists('before-restart')).toBe(0);
    client.disconnect();
  });
});
