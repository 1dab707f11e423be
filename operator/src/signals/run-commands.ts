import { Cluster, type Redis } from 'ioredis';
import { runPipeline, runScript, type PipelineCall } from '@workerpool/worker-runtime/protocol';
import type { CommandResult, ReadCommand } from './read-command.ts';
import type { SignalClient } from './redis-endpoint.ts';

/** Counts what a poll costs, for the benchmark and for tests that hold us to one round trip. */
export interface RoundTripCounter {
  roundTrips: number;
  /** Commands sent (an EVALSHA counts once, whatever the script calls). */
  commands: number;
}

const toCall = (command: ReadCommand): PipelineCall =>
  command.kind === 'script'
    ? { script: command.script, keys: command.keys, args: command.args }
    : { command: command.name, args: command.args };

async function runPipelined(
  client: Redis,
  commands: readonly ReadCommand[],
  counter: RoundTripCounter,
): Promise<CommandResult[]> {
  counter.commands += commands.length;
  return runPipeline(client, commands.map(toCall), () => {
    counter.roundTrips += 1;
  });
}

async function runOnCluster(
  client: Cluster,
  commands: readonly ReadCommand[],
  counter: RoundTripCounter,
): Promise<CommandResult[]> {
  // A cluster pipeline must stay within one slot, so commands go one by one and ioredis'
  // auto-pipelining batches those issued in the same tick per node (one round trip per node).
  counter.roundTrips += client.nodes('master').length;
  counter.commands += commands.length;
  const run = (command: ReadCommand): Promise<unknown> =>
    command.kind === 'command'
      ? client.call(command.name, [...command.args])
      : runScript(client, { script: command.script, keys: command.keys, args: command.args });
  const settled = await Promise.allSettled(commands.map(run));
  return settled.map((s) =>
    s.status === 'fulfilled'
      ? { ok: true, value: s.value }
      : { ok: false, error: s.reason instanceof Error ? s.reason : new Error(String(s.reason)) },
  );
}

/**
 * The one way signal reads reach Redis: every command of a poll in one pipeline (one round trip),
 * through the worker-runtime's script-call path, so that both speak to Redis alike. Per-command failures
 * (WRONGTYPE, a script error) come back in place; a dead connection rejects the whole call.
 */
export async function runCommands(
  client: SignalClient,
  commands: readonly ReadCommand[],
  counter: RoundTripCounter,
): Promise<CommandResult[]> {
  if (commands.length === 0) return [];
  return client instanceof Cluster ? runOnCluster(client, commands, counter) : runPipelined(client, commands, counter);
}
