import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createSignalClient, describeEndpoint, effectiveCredentials, endpointKey } from './redis-endpoint.ts';

const timeouts = { commandTimeoutMs: 2000, connectTimeoutMs: 2000 };

describe('redis endpoints', () => {
  it('pool pools by address and credentials, and the key holds no password', () => {
    const spec = { url: 'redis://redis.billing.svc:6379/0' };
    const a = endpointKey({ spec, credentials: { password: 'p4ss-one' } });
    expect(endpointKey({ spec, credentials: { password: 'p4ss-one' } })).toBe(a);
    expect(endpointKey({ spec, credentials: { password: 'p4ss-two' } })).not.toBe(a);
    expect(endpointKey({ spec, credentials: { username: 'reader', password: 'p4ss-one' } })).not.toBe(a);
    expect(
      endpointKey({
        spec: { ...spec, tls: { enabled: true, insecureSkipVerify: false } },
        credentials: { password: 'p4ss-one' },
      }),
    ).not.toBe(a);
    expect(a).not.toContain('p4ss-one');
  });

  it('fingerprint the password with a key of this process, not a hash anyone can recompute', () => {
    const access = { spec: { url: 'redis://r:6379/0' }, credentials: { password: 'correct horse battery' } };
    const unsalted = createHash('sha256').update('correct horse battery').digest('hex').slice(0, 16);
    expect(endpointKey(access)).not.toContain(unsalted);
    // Another process, same pool: another key, so a key from a log matches nothing elsewhere.
    const elsewhere = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { endpointKey } from ${JSON.stringify(join(import.meta.dirname, 'redis-endpoint.ts'))};` +
          `console.log(endpointKey(${JSON.stringify(access)}));`,
      ],
      { encoding: 'utf8' },
    ).trim();
    expect(elsewhere).toMatch(/pw=[0-9a-f]{16}/);
    expect(elsewhere).not.toBe(endpointKey(access));
  });

  it('take credentials written into a URL (the CLI allows it) but never show them', () => {
    const access = { spec: { url: 'redis://admin:s%3Acret@r:6380/2' } };
    expect(effectiveCredentials(access)).toEqual({ username: 'admin', password: 's:cret' });
    expect(describeEndpoint(access.spec)).toBe('redis://r:6380/2');
    expect(endpointKey(access)).not.toContain('s:cret');
    expect(effectiveCredentials({ ...access, credentials: { password: 'from-secret' } }).password).toBe('from-secret');
  });

  it('build a TLS client from rediss:// with the CA, server name and verification settings', () => {
    const client = createSignalClient(
      {
        spec: {
          url: 'rediss://r:6379/3',
          tls: { enabled: true, insecureSkipVerify: false, serverName: 'redis.internal' },
        },
        tlsMaterial: { ca: 'PEM' },
      },
      timeouts,
    );
    expect(client).toBeInstanceOf(Redis);
    const options = (client as Redis).options;
    expect(options).toMatchObject({
      host: 'r',
      port: 6379,
      db: 3,
      tls: { ca: 'PEM', servername: 'redis.internal', rejectUnauthorized: true },
      commandTimeout: 2000,
      enableOfflineQueue: false,
    });
    client.disconnect();
  });

  it('build a Sentinel client that asks the sentinels for the master', () => {
    const client = createSignalClient(
      {
        spec: { sentinel: { masterName: 'mymaster', endpoints: ['s1:26379', 's2:26379'], db: 1 } },
        credentials: { password: 'x' },
      },
      timeouts,
    );
    expect((client as Redis).options).toMatchObject({
      name: 'mymaster',
      db: 1,
      password: 'x',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
    });
    expect(describeEndpoint({ sentinel: { masterName: 'mymaster', endpoints: ['s1:26379'], db: 1 } })).toBe(
      'sentinel mymaster@s1:26379/1',
    );
    client.disconnect();
  });

  it('build a Cluster client from the seed nodes, with credentials for every node', () => {
    const client = createSignalClient(
      { spec: { cluster: { endpoints: ['c1:7000', 'c2:7001'] } }, credentials: { username: 'u', password: 'x' } },
      timeouts,
    );
    expect(client).toBeInstanceOf(Cluster);
    expect((client as Cluster).options.redisOptions).toMatchObject({
      username: 'u',
      password: 'x',
      commandTimeout: 2000,
    });
    client.disconnect();
  });
});
