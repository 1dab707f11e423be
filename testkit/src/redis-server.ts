import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freeLoopbackPort, startProcess, waitUntil, type ManagedProcess } from './processes.ts';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  readonly password: string | undefined;
  /** The server process's pid (tests pause it with SIGSTOP, or kill it). */
  readonly pid: number;
  stop(): Promise<void>;
  /** Stops and starts the same server on the same port (its data survives only with appendOnly). */
  restart(): Promise<void>;
}

function redisServerBinary(): string {
  const binary = process.env['REDIS_SERVER_BIN'] ?? 'redis-server';
  try {
    execFileSync(binary, ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      `redis-server was not found (looked for "${binary}"). Install it (Debian: apt-get install redis-server) ` +
        'or run `npm run setup`; REDIS_SERVER_BIN may name the binary.',
    );
  }
  return binary;
}

export interface RedisServerOptions {
  readonly password?: string;
  /**
   * An address to listen on besides loopback, and the one the URL names: the test node's pod
   * bridge (NodeCluster.hostAddress), so that worker pods and the operator reach the same server.
   */
  readonly host?: string;
  /** Keep every write in an append-only file, so that restart() loses nothing (appendfsync always). */
  readonly appendOnly?: boolean;
  /** Start as a replica of the loopback server on this port; resolves once it has synced. */
  readonly replicaOf?: number;
}

/**
 * Asks a loopback server (redis-server or sentinel) one thing on a connection of its own, which
 * neither retries nor waits: a server that is not listening yet fails the call at once.
 */
export async function askLoopbackRedis<T>(
  port: number,
  ask: (client: Redis) => Promise<T>,
  password?: string,
): Promise<T> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    password,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined); // refused connections are expected until the server listens
  try {
    await client.connect();
    return await ask(client);
  } finally {
    client.disconnect();
  }
}

/** Starts a real, throw-away redis-server on a free loopback port. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = redisServerBinary();
  const port = await freeLoopbackPort();
  const dir = mkdtempSync(join(tmpdir(), 'workerpool-redis-'));
  const host = options.host ?? '127.0.0.1';
  const args = [
    '--port',
    String(port),
    '--bind',
    ...new Set(['127.0.0.1', host]),
    '--protected-mode',
    'no',
    '--save',
    '',
    '--dir',
    dir,
  ];
  args.push(...(options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']));
  if (options.password !== undefined) args.push('--requirepass', options.password);
  if (options.replicaOf !== undefined) {
    args.push('--replicaof', '127.0.0.1', String(options.replicaOf));
    if (options.password !== undefined) args.push('--masterauth', options.password);
  }
  let proc: ManagedProcess;
  const start = async () => {
    proc = startProcess('redis-server', binary, args);
    await waitUntil(
      options.replicaOf === undefined
        ? `redis-server on port ${port}`
        : `redis-server on port ${port} to sync with its primary on ${options.replicaOf}`,
      () =>
        askLoopbackRedis(
          port,
          async (client) =>
            options.replicaOf === undefined
              ? (await client.ping()) === 'PONG'
              : /master_link_status:up/.test(await client.info('replication')),
          options.password,
        ),
      { process: proc, timeoutMs: 15_000 },
    );
  };
  const pidOf = () => {
    const pid = proc.child.pid;
    if (pid === undefined) throw new Error(`redis-server on port ${port} has no pid`);
    return pid;
  };
  await start();
  const auth = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
  return {
    url: `redis://${auth}${host}:${port}`,
    port,
    password: options.password,
    get pid() {
      return pidOf();
    },
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await proc.stop();
      await start();
    },
  };
}
