import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Handlers, JobHandler } from '../worker/job.ts';

/**
 * Loads the handlers module: its default export may be an object of handlers by job name, otherwise
 * every named export that is a function is the handler for the job of that name.
 */
export async function loadHandlers(path: string, cwd: string = process.cwd()): Promise<Handlers> {
  const url = pathToFileURL(resolve(cwd, path)).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new Error(
      `--handlers / WORKERPOOL_HANDLERS: cannot load "${path}": ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const source =
    typeof mod['default'] === 'object' && mod['default'] !== null ? (mod['default'] as Record<string, unknown>) : mod;
  const handlers: Record<string, JobHandler> = {};
  for (const [name, value] of Object.entries(source)) {
    if (name === 'default') continue;
    if (typeof value !== 'function')
      throw new Error(`--handlers / WORKERPOOL_HANDLERS: export "${name}" of "${path}" is not a function`);
    handlers[name] = value as JobHandler;
  }
  if (Object.keys(handlers).length === 0)
    throw new Error(`--handlers / WORKERPOOL_HANDLERS: "${path}" exports no handler`);
  return handlers;
}
