import type { LuaScript } from './lua-script.ts';

export type CommandArg = string | number;

/** A plain Redis command of a read plan. `key` names the key it reads, for error messages. */
export interface PlainCommand {
  readonly kind: 'command';
  readonly name: string;
  readonly args: readonly CommandArg[];
  readonly key?: string;
}

/** One EVALSHA of a read plan. The first key names the call in error messages. */
export interface ScriptCommand {
  readonly kind: 'script';
  readonly script: LuaScript;
  readonly keys: readonly string[];
  readonly args: readonly CommandArg[];
}

/** What a reader asks Redis for one pool; the poller batches the plans of many pools into one round trip. */
export type ReadCommand = PlainCommand | ScriptCommand;

/** The outcome of one command of a pipeline. */
export type CommandResult =
  { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: Error };

export function redisCommand(name: string, args: readonly CommandArg[], key?: string): PlainCommand {
  return key === undefined ? { kind: 'command', name, args } : { kind: 'command', name, args, key };
}

/** A script call; refuses a key count the script was not written for. */
export function scriptCommand(script: LuaScript, keys: readonly string[], args: readonly CommandArg[]): ScriptCommand {
  if (keys.length !== script.numberOfKeys) {
    throw new Error(`script ${script.name} takes ${script.numberOfKeys} keys, got ${keys.length}`);
  }
  return { kind: 'script', script, keys, args };
}

/** The key a command is about, for an error message. */
export function commandKey(command: ReadCommand): string | undefined {
  return command.kind === 'script' ? command.keys[0] : command.key;
}
