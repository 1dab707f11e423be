import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisEndpointSpec } from '../api/workerpool-schema.ts';
import { SignalPoller, type PoolRegistration } from './signal-poller.ts';
import type { PoolReadResult } from './stale-reading.ts';
import { startTlsRedis, type TlsRedis } from '@workerpool/testkit/tls-redis';

describe('reading over TLS', () => {
  let server: TlsRedis;
  const poller = new SignalPoller({ commandTimeoutMs: 1000, connectTimeoutMs: 1000 });

  beforeAll(async () => {
    server = await startTlsRedis();
  });
  afterAll(async () => {
    await poller.close();
    await server.stop();
  });

  async function read(
    redis: RedisEndpointSpec,
    tlsMaterial?: PoolRegistration['tlsMaterial'],
  ): Promise<PoolReadResult> {
    poller.register('pool', { queue: { format: 'list', names: ['jobs'], redis }, tlsMaterial });
    const result = (await poller.readAll()).get('pool');
    await poller.unregister('pool');
    if (!result) throw new Error('no result');
    return result;
  }

  it('verifies the server against the CA from the Secret, for rediss:// and for tls.enabled', async () => {
    expect(await read({ url: `rediss://127.0.0.1:${server.port}` }, { ca: server.ca })).toMatchObject({
      ok: true,
      reading: { depth: 0 },
    });
    expect(
      await read(
        { url: `redis://127.0.0.1:${server.port}`, tls: { enabled: true, insecureSkipVerify: false } },
        { ca: server.ca },
      ),
    ).toMatchObject({ ok: true });
  });

  it('checks the certificate against tls.serverName when given', async () => {
    const right = await read(
      {
        url: `rediss://127.0.0.1:${server.port}`,
        tls: { enabled: true, insecureSkipVerify: false, serverName: 'redis.test' },
      },
      { ca: server.ca },
    );
    expect(right.ok).toBe(true);
    const wrong = await read(
      {
        url: `rediss://127.0.0.1:${server.port}`,
        tls: { enabled: true, insecureSkipVerify: false, serverName: 'other.test' },
      },
      { ca: server.ca },
    );
    expect(wrong.ok === false && wrong.error.kind).toBe('unreachable');
  });

  // Read as unreachable, like a closed port: a kind of its own would tell a pool's author that a
  // TLS server listens there (read-error.ts).
  it('refuses an unknown CA, unless insecureSkipVerify is set', async () => {
    const unverified = await read({ url: `rediss://127.0.0.1:${server.port}` });
    expect(unverified.ok === false && unverified.error.kind).toBe('unreachable');
    expect(unverified.ok === false && unverified.error.message).toContain(`127.0.0.1:${server.port}`);
    const insecure = await read({
      url: `rediss://127.0.0.1:${server.port}`,
      tls: { enabled: true, insecureSkipVerify: true },
    });
    expect(insecure.ok).toBe(true);
  });
});
