import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from './manifests.ts';

// The real ecosystem tools the install tests run (helm, prometheus, promtool, and the two Go
// programs that judge health with Flux's and Argo CD's own libraries), built from their Go modules
// by e2e/tools/build.sh into a cache outside the repository.

export type EcosystemTool = 'helm' | 'prometheus' | 'promtool' | 'kstatus-health' | 'argocd-health';

let toolsFolder: string | undefined;

/** The path of one tool; fails with how to build them when `npm run setup` has not. */
export function ecosystemTool(name: EcosystemTool): string {
  toolsFolder ??= locateTools();
  return join(toolsFolder, name);
}

function locateTools(): string {
  const located = spawnSync('bash', [join(REPOSITORY_ROOT, 'e2e', 'tools', 'build.sh'), '--check'], {
    encoding: 'utf8',
  });
  if (located.status !== 0) throw new Error(located.stderr.trim() || 'e2e/tools/build.sh --check failed');
  return located.stdout.trim();
}

export interface ToolResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool to completion; never throws on a non-zero exit, so a test can assert a refusal. */
export function runTool(
  name: EcosystemTool,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): ToolResult {
  const run = spawnSync(ecosystemTool(name), args, {
    encoding: 'utf8',
    input: options.input,
    env: options.env ?? process.env,
    cwd: options.cwd,
    timeout: 120_000,
  });
  if (run.error) throw run.error;
  return { status: run.status ?? 1, stdout: run.stdout, stderr: run.stderr };
}
