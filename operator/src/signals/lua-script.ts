import { join } from 'node:path';
import { loadLuaScript, type LuaScript } from '@workerpool/worker-runtime/protocol';

export type { LuaScript };

const SCRIPTS_DIR = join(import.meta.dirname, 'scripts');

/** A signal-reading script from `scripts/`, loaded by the same code that loads the worker-runtime's. */
export const loadSignalScript = (fileName: string): LuaScript => loadLuaScript(fileName, SCRIPTS_DIR);
