import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freeLoopbackPort, startProcess, waitUntil } from './processes.ts';

export interface RedisSentinel {
  /** host:port of the sentinel, as spec.queue.redis.sentinel.endpoints holds it. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** A real Redis Sentinel monitoring the master at `masterPort` under `masterName`. */
export async function startSentinel(
  masterName: string,
  masterPort: number,
  masterPassword?: string,
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
      `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 1`,
      ...(masterPassword === undefined ? [] : [`sentinel auth-pass ${masterName} ${masterPassword}`]),
    ].join('\n') + '\n',
  );
  const proc = startProcess('redis-sentinel', 'redis-server', [config, '--sentinel']);
  await waitUntil(
    `sentinel on port ${port} to know master ${masterName}`,
    async () => {
      const client = new Redis({
        port,
        host: '127.0.0.1',
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        const addr = (await client.call('SENTINEL', 'get-master-addr-by-name', masterName)) as string[] | null;
        return addr?.[1] === String(masterPort);
      } finally {
        client.disconnect();
      }
    },
    { process: proc, timeoutMs: 15_000 },
  );
  return {
    endpoint: `127.0.0.1:${port}`,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
