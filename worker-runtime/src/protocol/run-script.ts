import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import type { LuaScript } from './lua-script.ts';

// The one way Lua reaches Redis, for the worker runtime and the operator's signal readers alike:
// EVALSHA, with the script loaded when the server does not know it (first call, a restart, a
// SCRIPT FLUSH), so that steady state costs no script upload.

export type ScriptArg = string | number;

/** One invocation of a protocol script: what EVALSHA needs, and nothing client-specific. */
export interface ScriptCall {
  readonly script: LuaScript;
  readonly keys: readonly string[];
  readonly args: readonly ScriptArg[];
}

/** A plain command in a pipeline beside script calls (the operator's readers send TIME, LLEN…). */
export interface CommandCall {
  readonly command: string;
  readonly args: readonly ScriptArg[];
}

export type PipelineCall = ScriptCall | CommandCall;

/** One reply of a pipeline: errors of single commands come back in place. */
export type Settled = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: Error };

const isScriptCall = (call: PipelineCall): call is ScriptCall => 'script' in call;

function assertKeyCount(call: ScriptCall): void {
  if (call.keys.length !== call.script.numberOfKeys) {
    throw new Error(`script ${call.script.name} takes ${call.script.numberOfKeys} keys, got ${call.keys.length}`);
  }
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.includes('NOSCRIPT');
}

/** EVALSHA, and EVAL when the server does not know the script yet (EVAL also caches it). */
export async function runScript(redis: Redis | Cluster, call: ScriptCall): Promise<unknown> {
  assertKeyCount(call);
  const { script, keys, args } = call;
  try {
    return await redis.evalsha(script.sha, script.numberOfKeys, ...keys, ...args);
  } catch (err) {
    if (!isNoScript(err)) throw err;
    return redis.eval(script.lua, script.numberOfKeys, ...keys, ...args);
  }
}

function queue(pipeline: ChainableCommander, call: PipelineCall): void {
  if (isScriptCall(call)) pipeline.evalsha(call.script.sha, call.script.numberOfKeys, ...call.keys, ...call.args);
  else pipeline.call(call.command, [...call.args]);
}

const settle = ([err, value]: [Error | null, unknown]): Settled =>
  err ? { ok: false, error: err } : { ok: true, value };

/**
 * Sends every call in one pipeline (one round trip). If the server answers NOSCRIPT, the scripts
 * are loaded in one more pipeline and the calls sent once again. `onRoundTrip` counts what a
 * pipeline cost, for the benchmarks and the tests that hold the operator to one trip per poll.
 */
export async function runPipeline(
  redis: Redis,
  calls: readonly PipelineCall[],
  onRoundTrip: () => void = () => undefined,
): Promise<Settled[]> {
  const scripts = new Map<string, string>();
  for (const call of calls) {
    if (!isScriptCall(call)) continue;
    assertKeyCount(call);
    scripts.set(call.script.sha, call.script.lua);
  }
  const send = async () => {
    const pipeline = redis.pipeline();
    for (const call of calls) queue(pipeline, call);
    onRoundTrip();
    return ((await pipeline.exec()) ?? []).map(settle);
  };
  const results = await send();
  if (!results.some((r) => !r.ok && isNoScript(r.error))) return results;
  const load = redis.pipeline();
  for (const lua of scripts.values()) load.script('LOAD', lua);
  onRoundTrip();
  await load.exec();
  return send();
}

/** Script calls in one round trip; the first error of any call is thrown. */
export async function runScriptsPipelined(redis: Redis, calls: readonly ScriptCall[]): Promise<unknown[]> {
  return (await runPipeline(redis, calls)).map((result) => {
    if (!result.ok) throw result.error;
    return result.value;
  });
}
