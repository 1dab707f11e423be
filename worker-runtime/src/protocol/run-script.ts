import type { ChainableCommander, Redis } from 'ioredis';
import type { LuaScript } from './lua-script.ts';

export type ScriptArg = string | number;

/** One invocation of a protocol script: what EVALSHA needs, and nothing client-specific. */
export interface ScriptCall {
  readonly script: LuaScript;
  readonly keys: readonly string[];
  readonly args: readonly ScriptArg[];
}

function assertKeyCount(call: ScriptCall): void {
  if (call.keys.length !== call.script.numberOfKeys) {
    throw new Error(`script ${call.script.name} takes ${call.script.numberOfKeys} keys, got ${call.keys.length}`);
  }
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

/**
 * The one way the runtime calls Lua: EVALSHA, and EVAL when the server does not know the script
 * yet (first call, or after a restart or SCRIPT FLUSH). EVAL also caches it for the next EVALSHA.
 */
export async function runScript(redis: Redis, call: ScriptCall): Promise<unknown> {
  assertKeyCount(call);
  const { script, keys, args } = call;
  try {
    return await redis.evalsha(script.sha, script.numberOfKeys, ...keys, ...args);
  } catch (err) {
    if (!isNoScript(err)) throw err;
    return redis.eval(script.lua, script.numberOfKeys, ...keys, ...args);
  }
}

function queueCalls(pipeline: ChainableCommander, calls: readonly ScriptCall[]): void {
  for (const { script, keys, args } of calls) pipeline.evalsha(script.sha, script.numberOfKeys, ...keys, ...args);
}

/**
 * Runs several script calls in one round trip (a pipeline). If the server answers NOSCRIPT, the
 * scripts are loaded and the pipeline is sent once more, so a restarted Redis costs one extra trip.
 */
export async function runScriptsPipelined(redis: Redis, calls: readonly ScriptCall[]): Promise<unknown[]> {
  calls.forEach(assertKeyCount);
  const send = async () => {
    const pipeline = redis.pipeline();
    queueCalls(pipeline, calls);
    return (await pipeline.exec()) ?? [];
  };
  let results = await send();
  if (results.some(([err]) => isNoScript(err))) {
    const scripts = new Map(calls.map((c) => [c.script.sha, c.script.lua]));
    for (const lua of scripts.values()) await redis.script('LOAD', lua);
    results = await send();
  }
  return results.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}
