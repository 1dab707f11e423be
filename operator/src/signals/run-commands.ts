import { Cluster, type ChainableCommander, type Redis } from 'ioredis';
import type { LuaScript } from './lua-script.ts';
import type { CommandResult, ReadCommand } from './read-command.ts';
import type { SignalClient } from './redis-endpoint.ts';

/** Counts what a poll costs, for the benchmark and for tests that hold us to one round trip. */
export interface RoundTripCounter {
  roundTrips: number;
  /** Commands sent (an EVALSHA counts once, whatever the script calls). */
  commands: number;
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.includes('NOSCRIPT');
}

function settle([err, value]: [Error | null, unknown]): CommandResult {
  return err ? { ok: false, error: err } : { ok: true, value };
}

function queue(pipeline: ChainableCommander, command: ReadCommand): void {
  if (command.kind === 'script') {
    pipeline.evalsha(command.script.sha, command.script.numberOfKeys, ...command.keys, ...command.args);
  } else {
    pipeline.call(command.name, [...command.args]);
  }
}

function scriptsOf(commands: readonly ReadCommand[]): LuaScript[] {
  const scripts = new Map<string, LuaScript>();
  for (const c of commands) if (c.kind === 'script') scripts.set(c.script.sha, c.script);
  return [...scripts.values()];
}

async function runPipelined(client: Redis, commands: readonly ReadCommand[], counter: RoundTripCounter): Promise<CommandResult[]> {
  const send = async () => {
    const pipeline = client.pipeline();
    for (const command of commands) queue(pipeline, command);
    counter.roundTrips += 1;
    counter.commands += commands.length;
    return ((await pipeline.exec()) ?? []).map(settle);
  };
  const results = await send();
  if (!results.some((r) => !r.ok && isNoScript(r.error))) return results;
  // The server lost its script cache (first poll, restart, SCRIPT FLUSH): load them all in one
  // pipeline and send the poll once more. Steady state stays at one round trip.
  const load = client.pipeline();
  for (const script of scriptsOf(commands)) load.script('LOAD', script.lua);
  counter.roundTrips += 1;
  await load.exec();
  return send();
}

async function runOnCluster(client: Cluster, commands: readonly ReadCommand[], counter: RoundTripCounter): Promise<CommandResult[]> {
  // A cluster pipeline must stay within one slot, so commands go one by one and ioredis'
  // auto-pipelining batches those issued in the same tick per node (one round trip per node).
  counter.roundTrips += client.nodes('master').length;
  counter.commands += commands.length;
  const run = async (command: ReadCommand): Promise<unknown> => {
    if (command.kind === 'command') return client.call(command.name, [...command.args]);
    const { script, keys, args } = command;
    try {
      return await client.evalsha(script.sha, script.numberOfKeys, ...keys, ...args);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return client.eval(script.lua, script.numberOfKeys, ...keys, ...args);
    }
  };
  const settled = await Promise.allSettled(commands.map(run));
  return settled.map((s) =>
    s.status === 'fulfilled' ? { ok: true, value: s.value } : { ok: false, error: s.reason instanceof Error ? s.reason : new Error(String(s.reason)) },
  );
}

/**
 * The one way signal reads reach Redis: every command of a poll in one pipeline (one round trip),
 * EVALSHA for scripts with a reload when the server does not know them. Per-command failures
 * (WRONGTYPE, a script error) come back in place; a dead connection rejects the whole call.
 */
export async function runCommands(client: SignalClient, commands: readonly ReadCommand[], counter: RoundTripCounter): Promise<CommandResult[]> {
  if (commands.length === 0) return [];
  return client instanceof Cluster ? runOnCluster(client, commands, counter) : runPipelined(client, commands, counter);
}
