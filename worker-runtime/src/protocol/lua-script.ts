import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A Lua script, loaded from `<folder>/<name>-<numberOfKeys>.lua` (the protocol's and the operator's readers' alike). */
export interface LuaScript {
  readonly name: string;
  readonly numberOfKeys: number;
  readonly lua: string;
  /** SHA1 of the source, as EVALSHA wants it. */
  readonly sha: string;
}

const SCRIPTS_DIR = join(import.meta.dirname, 'scripts');
const FILE_NAME = /^([a-z][a-z0-9-]*)-(\d+)\.lua$/;

/**
 * Reads a script file once, at module load. The key count comes from the file name, so the file,
 * its header comment and every call agree on it.
 */
export function loadLuaScript(fileName: string, folder: string = SCRIPTS_DIR): LuaScript {
  const match = FILE_NAME.exec(fileName);
  if (!match?.[1] || !match[2])
    throw new Error(`Lua script file "${fileName}" must be named <name>-<numberOfKeys>.lua`);
  const lua = readFileSync(join(folder, fileName), 'utf8');
  return { name: match[1], numberOfKeys: Number(match[2]), lua, sha: createHash('sha1').update(lua).digest('hex') };
}
