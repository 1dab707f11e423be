import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort, startProcess, waitUntil } from './processes.ts';
import { askLoopbackRedis } from './redis-server.ts';

export interface RedisSentinel {
  /** host:port of the sentinel, as spec.queue.redis.sentinel.endpoints holds it. */
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

export interface SentinelOptions {
  readonly masterPassword?: string;
  /** Sentinels that must agree the master is down before a failover (default 1). */
  readonly quorum?: number;
  /** How long the master must not answer before a sentinel calls it down (Redis default 30 s). */
  readonly downAfterMs?: number;
  /** Redis default 3 minutes; a test that fails over wants seconds. */
  readonly failoverTimeoutMs?: number;
}

/** The master's port as a sentinel sees it now (it changes on failover). */
export async function sentinelMasterPort(sentinel: RedisSentinel, masterName: string): Promise<number | undefined> {
  const addr = await askLoopbackRedis(
    sentinel.port,
    (c) => c.call('SENTINEL', 'get-master-addr-by-name', masterName) as Promise<string[] | null>,
  );
  return addr?.[1] === undefined ? undefined : Number(addr[1]);
}

/** A real Redis Sentinel monitoring the master at `masterPort` under `masterName`. */
export async function startSentinel(
  masterName: string,
  masterPort: number,
  options: SentinelOptions = {},
): Promise<RedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'workerpool-sentinel-'));
  const port = await freeLoopbackPort();
  const config = join(dir, 'sentinel.conf');
  // Sentinel rewrites its own config file, so it gets a private, writable one.
  writeFileSync(
    config,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} ${options.quorum ?? 1}`,
      ...(options.masterPassword === undefined ? [] : [`sentinel auth-pass ${masterName} ${options.masterPassword}`]),
      ...(options.downAfterMs === undefined
        ? []
        : [`sentinel down-after-milliseconds ${masterName} ${options.downAfterMs}`]),
      ...(options.failoverTimeoutMs === undefined
        ? []
        : [`sentinel failover-timeout ${masterName} ${options.failoverTimeoutMs}`]),
    ].join('\n') + '\n',
  );
  const proc = startProcess('redis-sentinel', 'redis-server', [config, '--sentinel']);
  const sentinel: RedisSentinel = {
    endpoint: `127.0.0.1:${port}`,
    port,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await waitUntil(
    `sentinel on port ${port} to know master ${masterName}`,
    async () => (await sentinelMasterPort(sentinel, masterName)) === masterPort,
    { process: proc, timeoutMs: 15_000 },
  );
  return sentinel;
}

/**
 * `count` sentinels watching one master, returned once each knows the others and `replicas`
 * replicas: only then can they agree on a failover.
 */
export async function startSentinels(
  count: number,
  masterName: string,
  masterPort: number,
  options: SentinelOptions & { replicas: number },
): Promise<RedisSentinel[]> {
  const sentinels: RedisSentinel[] = [];
  for (let i = 0; i < count; i += 1) sentinels.push(await startSentinel(masterName, masterPort, options));
  await waitUntil(
    `${count} sentinels to know each other and ${options.replicas} replica(s) of ${masterName}`,
    async () => {
      for (const s of sentinels) {
        const [peers, replicas] = await askLoopbackRedis(s.port, (c) =>
          Promise.all([
            c.call('SENTINEL', 'sentinels', masterName) as Promise<unknown[]>,
            c.call('SENTINEL', 'replicas', masterName) as Promise<unknown[]>,
          ]),
        );
        if (peers.length !== count - 1 || replicas.length !== options.replicas) return false;
      }
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  return sentinels;
}
