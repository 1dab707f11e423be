import { join } from 'node:path';
import { startProcess, type ManagedProcess } from '@workerpool/testkit/processes';
import { fixturePrefix } from './fixture-keys.ts';

const MAIN = join(import.meta.dirname, '..', 'cli', 'main.ts');
const HANDLERS = join(import.meta.dirname, 'fixture-handlers.ts');

export interface WorkerProcessOptions {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly queue: string;
  readonly podName: string;
  readonly concurrency?: number;
  readonly env?: Readonly<Record<string, string>>;
}

/** Starts `workerpool-worker run` on the TypeScript entry point with the Node running the tests (24). */
export function startWorkerProcess(options: WorkerProcessOptions): ManagedProcess {
  const env = {
    PATH: process.env['PATH'] ?? '',
    REDIS_URL: options.redisUrl,
    WORKERPOOL_KEY_PREFIX: options.prefix,
    WORKERPOOL_QUEUES: options.queue,
    WORKERPOOL_CONCURRENCY: String(options.concurrency ?? 10),
    WORKERPOOL_POD_NAME: options.podName,
    WORKERPOOL_METRICS_PORT: '0',
    WORKERPOOL_METRICS_HOST: '127.0.0.1',
    WORKERPOOL_HEARTBEAT_INTERVAL_SECONDS: '0.2',
    WORKERPOOL_VISIBILITY_TIMEOUT_SECONDS: '1',
    FIXTURE_PREFIX: fixturePrefix(options.prefix, options.queue),
    ...options.env,
  };
  return startProcess(options.podName, process.execPath, [MAIN, 'run', '--handlers', HANDLERS], env);
}

/** The metrics port a worker logged in its "workers running" line. */
export function loggedMetricsPort(proc: ManagedProcess): number | undefined {
  for (const line of proc.output().split('\n')) {
    const match = /"metricsPort":(\d+)/.exec(line);
    if (match?.[1]) return Number(match[1]);
  }
  return undefined;
}
