import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTool, type ToolResult } from './ecosystem-tools.ts';
import { MANIFESTS, parseManifests, type ManifestObject } from './manifests.ts';

export const CHART = join(MANIFESTS, 'helm', 'workerpool-operator');

// Helm keeps a cache, a config and a data folder under $HOME; the tests give it a throw-away one.
const helmHome = mkdtempSync(join(tmpdir(), 'workerpool-helm-'));
const helmEnv = (kubeconfigPath?: string): NodeJS.ProcessEnv => ({
  PATH: process.env['PATH'],
  HOME: helmHome,
  HELM_CACHE_HOME: join(helmHome, 'cache'),
  HELM_CONFIG_HOME: join(helmHome, 'config'),
  HELM_DATA_HOME: join(helmHome, 'data'),
  ...(kubeconfigPath ? { KUBECONFIG: kubeconfigPath } : {}),
});

/** Removes the throw-away helm home; the test file that uses helm calls it once it is done. */
export function removeHelmHome(): void {
  rmSync(helmHome, { recursive: true, force: true });
}

/**
 * The real helm CLI, against the API server of `kubeconfigPath` when given. Helm notes on stderr
 * each symbolic link it follows; the chart's files/ are links to the files' one home, so those
 * notes are dropped and anything else on stderr is left for the tests to see.
 */
export function helm(args: string[], kubeconfigPath?: string): ToolResult {
  const result = runTool('helm', args, { env: helmEnv(kubeconfigPath) });
  const stderr = result.stderr
    .split('\n')
    .filter((line) => !line.includes('msg="found symbolic link in path.'))
    .join('\n');
  return { ...result, stderr };
}

/** `--set` flags from a flat map, e.g. {'watchNamespace': 'billing'}. */
export function setFlags(values: Record<string, string | number | boolean>): string[] {
  return Object.entries(values).flatMap(([key, value]) => ['--set', `${key}=${String(value)}`]);
}

/** `helm template` of the chart as release `workerpool-operator` in `namespace`; throws on a failed render. */
export function helmTemplate(
  namespace: string,
  values: Record<string, string | number | boolean> = {},
): ManifestObject[] {
  const rendered = helm(['template', 'workerpool-operator', CHART, '--namespace', namespace, ...setFlags(values)]);
  if (rendered.status !== 0) throw new Error(`helm template failed: ${rendered.stderr}`);
  return parseManifests(rendered.stdout);
}
