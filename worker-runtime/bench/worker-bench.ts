/**
 * npm run bench:worker [-- --jobs N]
 * worker-runtime against BullMQ: one run, this machine, a fresh redis-server, the same concurrency.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer } from '@workerpool/testkit/redis-server';
import { JOB_KINDS, type LibraryRunner, type RunResult, type RunSpec } from './bench-types.ts';
import { bullmqRunner } from './bullmq-runner.ts';
import { measureDurableAdds } from './durable-add.ts';
import { redisBenchmarkCeiling, totalCommandCalls } from './redis-stats.ts';
import { runtimeRunner } from './runtime-runner.ts';

const CONCURRENCIES = [1, 10, 50] as const;
/** PRODUCT.md: at least 3× BullMQ's no-op jobs/s at concurrency 50. */
const TARGET_RATIO = 3;
const RUNNERS: readonly LibraryRunner[] = [runtimeRunner, bullmqRunner];
const RESULTS_FILE = join(import.meta.dirname, '..', '..', 'bench-results', 'worker.json');

function parseJobs(): number {
  const { values } = parseArgs({ options: { jobs: { type: 'string', default: '100000' } } });
  const jobs = Number(values.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) throw new Error(`--jobs must be a positive integer, got ${values.jobs}`);
  return jobs;
}

async function measure(runner: LibraryRunner, spec: RunSpec, admin: Redis): Promise<RunResult> {
  await admin.flushall();
  await runner.fill(spec);
  await admin.config('RESETSTAT');
  const before = await totalCommandCalls(admin);
  const started = process.hrtime.bigint();
  const stop = await runner.process(spec);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const commands = (await totalCommandCalls(admin)) - before;
  await stop();
  return {
    library: runner.library,
    kind: spec.kind,
    concurrency: spec.concurrency,
    jobs: spec.jobs,
    seconds: Number(seconds.toFixed(3)),
    jobsPerSecond: Math.round(spec.jobs / seconds),
    redisCommandsPerJob: Number((commands / spec.jobs).toFixed(2)),
  };
}

interface Row {
  readonly kind: string;
  readonly concurrency: number;
  readonly runtime: RunResult;
  readonly bullmq: RunResult;
  readonly ratio: number;
}

function printTable(rows: readonly Row[]): void {
  const header = [
    'job',
    'conc',
    'worker-runtime jobs/s',
    'BullMQ jobs/s',
    'ratio',
    'cmds/job (wr)',
    'cmds/job (BullMQ)',
  ];
  const lines = rows.map((r) => [
    r.kind,
    String(r.concurrency),
    String(r.runtime.jobsPerSecond),
    String(r.bullmq.jobsPerSecond),
    `${r.ratio.toFixed(2)}×`,
    String(r.runtime.redisCommandsPerJob),
    String(r.bullmq.redisCommandsPerJob),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const fmt = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padStart(widths[i] ?? 0)).join(' | ')} |`;
  console.log(fmt(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) console.log(fmt(line));
}

async function main(): Promise<void> {
  const jobs = parseJobs();
  const server = await startRedisServer();
  const admin = new Redis(server.url);
  try {
    const ceiling = await redisBenchmarkCeiling(server.port, [
      { test: 'lpush', clients: 1, requests: 50_000 },
      { test: 'lpush', clients: 50, requests: 200_000 },
      { test: 'rpop', clients: 50, requests: 200_000 },
    ]);
    for (const c of ceiling)
      console.log(`redis-benchmark ${c.test} -c ${c.clients}: ${Math.round(c.requestsPerSecond)} requests/s`);
    const rows: Row[] = [];
    for (const kind of JOB_KINDS) {
      for (const concurrency of CONCURRENCIES) {
        const spec: RunSpec = { host: '127.0.0.1', port: server.port, jobs, concurrency, kind };
        const [runtime, bullmq] = [
          await measure(RUNNERS[0] ?? runtimeRunner, spec, admin),
          await measure(RUNNERS[1] ?? bullmqRunner, spec, admin),
        ];
        const row = { kind, concurrency, runtime, bullmq, ratio: runtime.jobsPerSecond / bullmq.jobsPerSecond };
        console.log(
          `${kind} c=${concurrency}: worker-runtime ${runtime.jobsPerSecond}/s (${runtime.redisCommandsPerJob} cmds/job), BullMQ ${bullmq.jobsPerSecond}/s (${bullmq.redisCommandsPerJob} cmds/job), ratio ${row.ratio.toFixed(2)}`,
        );
        rows.push(row);
      }
    }
    console.log('');
    printTable(rows);
    const target = rows.find((r) => r.kind === 'no-op' && r.concurrency === 50);
    console.log(
      `\ntarget (no-op, concurrency 50, >= ${TARGET_RATIO}× BullMQ): ${target && target.ratio >= TARGET_RATIO ? 'met' : 'NOT met'} (${target?.ratio.toFixed(2)}×)`,
    );
    const addRuns = await measureDurableAdds(Math.min(jobs, 20_000));
    console.log('\nadds, one job per call, 50 producers, primary with one replica:');
    console.log('| durability | adds/s | p50 ms | p99 ms |');
    console.log('|---|---|---|---|');
    for (const r of addRuns) console.log(`| ${r.durability} | ${r.addsPerSecond} | ${r.p50Ms} | ${r.p99Ms} |`);
    mkdirSync(join(RESULTS_FILE, '..'), { recursive: true });
    const machine = {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      node: process.version,
      redis: (await admin.info('server')).match(/redis_version:(\S+)/)?.[1],
    };
    writeFileSync(
      RESULTS_FILE,
      `${JSON.stringify({ date: new Date().toISOString(), jobs, machine, redisBenchmark: ceiling, rows, durableAdds: addRuns }, null, 2)}\n`,
    );
    console.log(`wrote ${RESULTS_FILE}`);
  } finally {
    admin.disconnect();
    await server.stop();
  }
}

await main();
