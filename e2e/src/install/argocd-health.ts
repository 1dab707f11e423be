import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { MANIFESTS } from './manifests.ts';

// Runs manifests/argocd/health.lua the way Argo CD does: a Lua 5.1 chunk with the live object in
// the global `obj`, returning {status, message}. Argo CD embeds gopher-lua (Lua 5.1); the tests use
// the reference interpreter of the same language version.

export const HEALTH_LUA = join(MANIFESTS, 'argocd', 'health.lua');

export interface ArgoHealth {
  status: string;
  message: string;
}

/** A Lua 5.1 literal for a JSON value; JSON null becomes nil, as Argo CD's conversion does. */
export function luaLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') return luaString(value);
  if (Array.isArray(value)) return `{${value.map(luaLiteral).join(', ')}}`;
  if (typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>).filter(([, field]) => field !== null && field !== undefined);
    return `{${fields.map(([key, field]) => `[${luaString(key)}] = ${luaLiteral(field)}`).join(', ')}}`;
  }
  throw new Error(`no Lua literal for ${typeof value}`);
}

/** A double-quoted Lua string: Lua 5.1 knows \ddd escapes but not JSON's \uXXXX. */
function luaString(text: string): string {
  const escaped = Array.from(Buffer.from(text, 'utf8'))
    .map((byte) => (byte === 0x22 || byte === 0x5c ? `\\${String.fromCharCode(byte)}` : byte < 0x20 || byte > 0x7e ? `\\${byte}` : String.fromCharCode(byte)))
    .join('');
  return `"${escaped}"`;
}

/** Evaluates health.lua against one object and returns what Argo CD would show. */
export function argoHealth(object: unknown): ArgoHealth {
  const driver = [
    `obj = ${luaLiteral(object)}`,
    `local check = assert(loadfile(${luaString(HEALTH_LUA)}))`,
    'local hs = check()',
    'io.write(tostring(hs.status), "\\n", tostring(hs.message), "\\n")',
  ].join('\n');
  const run = spawnSync('lua5.1', ['-'], { input: driver, encoding: 'utf8' });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('lua5.1 is not installed: run `npm run setup`, or `apt-get install lua5.1` (Argo CD health checks are Lua 5.1)');
  }
  if (run.status !== 0) throw new Error(`health.lua failed: ${run.stderr}`);
  const [status = '', message = ''] = run.stdout.split('\n');
  return { status, message };
}
