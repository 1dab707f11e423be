import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freeLoopbackPort, startProcess, waitUntil, type ManagedProcess } from './processes.ts';
import { askLoopbackRedis } from './redis-server.ts';

const run = promisify(execFile);
const MASTERS = 3;

export interface RedisCluster {
  /** host:port seeds, as spec.queue.redis.cluster.endpoints holds them. */
  readonly endpoints: string[];
  stop(): Promise<void>;
}

const ping = (port: number) => askLoopbackRedis(port, async (client) => (await client.ping()) === 'PONG');

/** A real three-master Redis Cluster on loopback, slots spread by redis-cli --cluster create. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'workerpool-cluster-'));
  const ports: number[] = [];
  const procs: ManagedProcess[] = [];
  for (let i = 0; i < MASTERS; i += 1) {
    const port = await freeLoopbackPort();
    ports.push(port);
    const nodeDir = mkdtempSync(join(dir, `node-${i}-`));
    const proc = startProcess(`redis-cluster-${i}`, 'redis-server', [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(nodeDir, 'nodes.conf'),
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      nodeDir,
    ]);
    procs.push(proc);
    await waitUntil(`cluster node on port ${port}`, () => ping(port), { process: proc, timeoutMs: 15_000 });
  }
  await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-yes'], {
    timeout: 30_000,
  });
  // Every node must have agreed on the slot map, or a command routed to it answers CLUSTERDOWN.
  for (const port of ports) {
    await waitUntil(`cluster node ${port} to report state ok`, () =>
      askLoopbackRedis(port, async (client) =>
        String(await client.call('CLUSTER', 'INFO')).includes('cluster_state:ok'),
      ),
    );
  }
  return {
    endpoints: ports.map((p) => `127.0.0.1:${p}`),
    async stop() {
      await Promise.all(procs.map((p) => p.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
