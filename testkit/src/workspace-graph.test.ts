import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The test kit is a leaf: it imports no package of ours, so each package's tests can run with it
// alone, and no chain of workspace dependencies (devDependencies included) comes back to where it began.

const ROOT = join(import.meta.dirname, '..', '..');
const SCOPE = '@workerpool/';

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

const readManifest = (folder: string) =>
  JSON.parse(readFileSync(join(ROOT, folder, 'package.json'), 'utf8')) as Manifest;
const workspaces = (readManifest('.') as Manifest & { workspaces: string[] }).workspaces;
const ours = (manifest: Manifest) =>
  Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter((name) => name.startsWith(SCOPE));

/** One dependency chain that returns to its start, or undefined. */
function findCycle(edges: Map<string, string[]>): string[] | undefined {
  const done = new Set<string>();
  const visit = (name: string, path: string[]): string[] | undefined => {
    if (path.includes(name)) return [...path.slice(path.indexOf(name)), name];
    if (done.has(name)) return undefined;
    for (const next of edges.get(name) ?? []) {
      const cycle = visit(next, [...path, name]);
      if (cycle) return cycle;
    }
    done.add(name);
    return undefined;
  };
  for (const name of edges.keys()) {
    const cycle = visit(name, []);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('the workspace packages', () => {
  it('depend on each other without a cycle', () => {
    const edges = new Map(workspaces.map((folder) => [readManifest(folder).name, ours(readManifest(folder))]));
    expect(edges.size).toBeGreaterThanOrEqual(4);
    expect(findCycle(edges)).toBeUndefined();
  });

  it('find a cycle when there is one (the check above can fail)', () => {
    const edges = new Map([
      ['@workerpool/operator', ['@workerpool/e2e']],
      ['@workerpool/e2e', ['@workerpool/operator']],
    ]);
    expect(findCycle(edges)).toEqual(['@workerpool/operator', '@workerpool/e2e', '@workerpool/operator']);
  });

  it('include the test kit, which declares and imports no package of ours', () => {
    expect(workspaces).toContain('testkit');
    expect(ours(readManifest('testkit'))).toEqual([]);
    const sources = readdirSync(join(ROOT, 'testkit', 'src')).filter((file) => file.endsWith('.ts'));
    expect(sources.length).toBeGreaterThan(0);
    for (const file of sources) {
      const source = readFileSync(join(ROOT, 'testkit', 'src', file), 'utf8');
      expect(source, `${file} imports no ${SCOPE} package`).not.toMatch(/from '@workerpool\//);
      expect(source, `${file} imports nothing outside testkit/src`).not.toMatch(/from '\.\.\//);
    }
  });
});
