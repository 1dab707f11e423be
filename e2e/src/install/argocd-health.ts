import { join } from 'node:path';
import { runTool } from './ecosystem-tools.ts';
import { MANIFESTS } from './manifests.ts';

// Runs manifests/argocd/health.lua the way Argo CD does: in gopher-lua, the Lua VM Argo CD embeds,
// with the live object in the global `obj` and {status, message} as the result
// (e2e/tools/argocd-health, built by e2e/tools/build.sh).

export const HEALTH_LUA = join(MANIFESTS, 'argocd', 'health.lua');

export interface ArgoHealth {
  status: string;
  message: string;
}

/** Evaluates health.lua against one object and returns what Argo CD would show. */
export function argoHealth(object: unknown): ArgoHealth {
  const run = runTool('argocd-health', [HEALTH_LUA], { input: JSON.stringify(object) });
  if (run.status !== 0) throw new Error(`health.lua failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as ArgoHealth;
}
