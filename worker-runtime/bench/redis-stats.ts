import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';

const run = promisify(execFile);

/** Total calls over every command in INFO commandstats (commands run inside Lua scripts included). */
export async function totalCommandCalls(redis: Redis): Promise<number> {
  const info = await redis.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) total += Number(match[1]);
  return total;
}

export interface BenchmarkCeiling {
  readonly test: string;
  readonly clients: number;
  readonly requestsPerSecond: number;
}

/** redis-benchmark's requests/s on this machine: what a single Redis can take, for reference. */
export async function redisBenchmarkCeiling(
  port: number,
  tests: readonly { test: string; clients: number; requests: number }[],
): Promise<BenchmarkCeiling[]> {
  const results: BenchmarkCeiling[] = [];
  for (const { test, clients, requests } of tests) {
    const { stdout } = await run('redis-benchmark', [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-n',
      String(requests),
      '-c',
      String(clients),
      '-q',
      '-t',
      test,
    ]);
    const match = /([\d.]+) requests per second/.exec(stdout.replace(/\r/g, '\n'));
    if (!match?.[1]) throw new Error(`could not read redis-benchmark output: ${stdout}`);
    results.push({ test, clients, requestsPerSecond: Number(match[1]) });
  }
  return results;
}
