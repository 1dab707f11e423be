import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer } from '@workerpool/testkit/redis-server';
import { SignalPoller } from '../src/signals/signal-poller.ts';
import { POOLS, QUEUES_PER_POOL } from './signals/bench-shape.ts';
import { measurePolls, type PollStats } from './signals/measure-polls.ts';
import { BENCH_FORMATS } from './signals/seed-formats.ts';

// npm run bench:signals — 1,000 pools of 10 queues each on one fresh redis-server, read by the
// SignalPoller exactly as the operator reads them, for every queue format. Prints round trips,
// wall time (p50/p95) and operator CPU per poll; writes bench-results/signals.json.

const POLLS = 20;
const SEED_MAIN = new URL('./signals/seed-main.ts', import.meta.url).pathname;
const run = promisify(execFile);
/** The operator's budget: 1,000 pools at a 5 s poll within 10 % of a core = 500 ms CPU per poll. */
const CPU_BUDGET_MS_PER_POLL = 500;

interface FormatResult extends PollStats {
  readonly format: string;
  readonly seedSeconds: number;
  /** Resident memory of the bench process after the polls (seeding runs in a child): poller plus Node. */
  readonly rssMiB: number;
}

const only = process.argv[2];
const server = await startRedisServer();
const admin = new Redis(server.url);
const results: FormatResult[] = [];
try {
  for (const format of BENCH_FORMATS) {
    if (only !== undefined && format.name !== only) continue;
    await admin.flushall();
    await admin.config('RESETSTAT');
    const seedStart = performance.now();
    await run(process.execPath, [SEED_MAIN, format.name, server.url], { timeout: 600_000 });
    const seedSeconds = Math.round((performance.now() - seedStart) / 100) / 10;
    const poller = new SignalPoller();
    for (let pool = 0; pool < POOLS; pool += 1)
      poller.register(`pool-${pool}`, { queue: format.spec(pool, server.url) });
    const stats = await measurePolls(poller, admin, POLLS);
    const rssMiB = Math.round(process.memoryUsage().rss / 2 ** 20);
    await poller.close();
    results.push({ format: format.name, seedSeconds, rssMiB, ...stats });
    console.log(`${format.name}: ${JSON.stringify(stats)}`);
  }
} finally {
  admin.disconnect();
  await server.stop();
}

const header = [
  'format',
  'round trips/poll',
  'commands/poll',
  'redis calls/poll',
  'ms p50',
  'ms p95',
  'CPU ms/poll',
  'RSS MiB',
  'failed',
];
const rows = results.map((r) =>
  [
    r.format,
    r.roundTripsPerPoll,
    r.commandsPerPoll,
    r.redisCallsPerPoll,
    r.msP50,
    r.msP95,
    r.cpuMsPerPoll,
    r.rssMiB,
    r.failedReadings,
  ].map(String),
);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
const line = (cells: readonly string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ');
console.log(
  `\n${POOLS} pools x ${QUEUES_PER_POOL} queues on one redis-server, ${POLLS} polls each (node ${process.version})\n`,
);
console.log([line(header), ...rows.map(line)].join('\n'));
const overBudget = results.filter(
  (r) => r.cpuMsPerPoll > CPU_BUDGET_MS_PER_POLL || r.roundTripsPerPoll > 1 || r.failedReadings > 0,
);
console.log(
  overBudget.length === 0
    ? `\nall formats: 1 round trip per poll, CPU within ${CPU_BUDGET_MS_PER_POLL} ms per poll (10 % of a core at a 5 s poll)`
    : `\nnot within target: ${overBudget.map((r) => r.format).join(', ')}`,
);

const outputDirectory = new URL('../../bench-results/', import.meta.url);
mkdirSync(outputDirectory, { recursive: true });
writeFileSync(
  new URL('signals.json', outputDirectory),
  `${JSON.stringify({ generatedAt: new Date().toISOString(), node: process.version, pools: POOLS, queuesPerPool: QUEUES_PER_POOL, polls: POLLS, cpuBudgetMsPerPoll: CPU_BUDGET_MS_PER_POLL, results }, null, 2)}\n`,
);
