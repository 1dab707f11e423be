import type { Redis } from 'ioredis';
import type { SignalPoller } from '../../src/signals/signal-poller.ts';

export interface PollStats {
  readonly polls: number;
  readonly roundTripsPerPoll: number;
  /** Commands sent per poll (an EVALSHA counts once). */
  readonly commandsPerPoll: number;
  /** Commands Redis executed per poll, from INFO commandstats: those sent plus those scripts ran. */
  readonly redisCallsPerPoll: number;
  readonly msP50: number;
  readonly msP95: number;
  readonly cpuMsPerPoll: number;
  readonly failedReadings: number;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Command calls Redis has served so far, including those run inside scripts (INFO itself left out). */
async function topLevelCalls(admin: Redis): Promise<number> {
  const text = await admin.info('commandstats');
  let total = 0;
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (match[1] === 'info') continue;
    total += Number(match[2]);
  }
  return total;
}

/** Polls `polls` times, after one warm-up poll that connects and loads the scripts. */
export async function measurePolls(poller: SignalPoller, admin: Redis, polls: number): Promise<PollStats> {
  await poller.readAll();
  const durations: number[] = [];
  let failed = 0;
  const tripsBefore = poller.roundTrips;
  const sentBefore = poller.commandsSent;
  const callsBefore = await topLevelCalls(admin);
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < polls; i += 1) {
    const started = performance.now();
    const results = await poller.readAll();
    durations.push(performance.now() - started);
    for (const r of results.values()) if (!r.ok) failed += 1;
  }
  const cpu = process.cpuUsage(cpuBefore);
  const calls = (await topLevelCalls(admin)) - callsBefore;
  durations.sort((a, b) => a - b);
  return {
    polls,
    roundTripsPerPoll: round((poller.roundTrips - tripsBefore) / polls),
    commandsPerPoll: round((poller.commandsSent - sentBefore) / polls),
    redisCallsPerPoll: round(calls / polls),
    msP50: round(percentile(durations, 50), 1),
    msP95: round(percentile(durations, 95), 1),
    cpuMsPerPoll: round((cpu.user + cpu.system) / 1000 / polls, 1),
    failedReadings: failed,
  };
}
