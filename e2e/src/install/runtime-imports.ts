import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { REPOSITORY_ROOT } from './manifests.ts';

// Follows the imports that exist at run time (not `import type`, which type stripping erases)
// from an entry point, so a test can check that a production-only install (npm ci --omit=dev)
// has every package the image will load.

export interface RuntimeImports {
  /** Repository paths of every source file loaded. */
  files: string[];
  /** Third-party packages loaded, by the workspace folder that imports them. */
  packages: Map<string, Set<string>>;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)(\s+type)?\s+(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/g;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

export function runtimeImports(entry: string): RuntimeImports {
  const files = new Set<string>();
  const packages = new Map<string, Set<string>>();
  const pending = [resolve(REPOSITORY_ROOT, entry)];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    const path = relative(REPOSITORY_ROOT, file);
    if (files.has(path)) continue;
    files.add(path);
    const source = readFileSync(file, 'utf8');
    const specifiers = [
      ...[...source.matchAll(IMPORT)].filter((match) => match[1] === undefined).map((match) => match[2] ?? ''),
      ...[...source.matchAll(DYNAMIC_IMPORT)].map((match) => match[1] ?? ''),
    ];
    const workspace = path.split('/')[0] ?? '';
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) pending.push(resolve(dirname(file), specifier));
      else if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
      else if (specifier.startsWith('@workerpool/')) {
        record(packages, workspace, packageName(specifier));
        pending.push(workspaceFile(specifier));
      } else record(packages, workspace, packageName(specifier));
    }
  }
  return { files: [...files].sort(), packages };
}

function record(packages: Map<string, Set<string>>, workspace: string, name: string): void {
  const names = packages.get(workspace) ?? new Set<string>();
  names.add(name);
  packages.set(workspace, names);
}

const packageName = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/** `@workerpool/<folder>[/<entry>]` → the file that <folder>/package.json's `exports` names for it. */
function workspaceFile(specifier: string): string {
  const [, folder = '', ...entry] = specifier.split('/');
  const key = entry.length > 0 ? `./${entry.join('/')}` : '.';
  const manifest = JSON.parse(readFileSync(join(REPOSITORY_ROOT, folder, 'package.json'), 'utf8')) as {
    exports?: Record<string, unknown>;
  };
  const target = manifest.exports?.[key];
  if (typeof target !== 'string') throw new Error(`${specifier}: ${folder}/package.json exports no "${key}"`);
  return join(REPOSITORY_ROOT, folder, target);
}

/** The `dependencies` (not devDependencies) a workspace folder's package.json declares. */
export function productionDependencies(workspace: string): Set<string> {
  const manifest = JSON.parse(readFileSync(join(REPOSITORY_ROOT, workspace, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  return new Set(Object.keys(manifest.dependencies ?? {}));
}
