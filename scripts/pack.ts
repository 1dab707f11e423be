/**
 * Packs @workerpool/worker-runtime and @workerpool/operator for the npm registry:
 *
 *   node scripts/pack.ts [out-dir]      (default: .tmp/packages)
 *
 * The repository runs its TypeScript directly, but Node refuses to strip types under
 * node_modules, so a package others install must ship JavaScript and .d.ts files. This emits both
 * with tsc (tsconfig.build.json) into a staging folder, writes each package.json with its `.ts`
 * paths turned into JavaScript and types, copies the Lua scripts the code reads at run time, and
 * runs `npm pack` there. Prints the paths of the tarballs.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
export const PACKAGES = ['worker-runtime', 'operator'] as const;

interface PackageJson {
  name: string;
  private?: boolean;
  /** In the repository each entry names a .ts file; published, its .js and .d.ts. */
  exports?: Record<string, string | { types: string; default: string }>;
  bin?: Record<string, string>;
  devDependencies?: Record<string, string>;
  [field: string]: unknown;
}

const toJs = (path: string) => path.replace(/\.ts$/, '.js');
const toDts = (path: string) => path.replace(/\.ts$/, '.d.ts');

/** The published manifest: the same package, pointing at the emitted files. */
export function publishedManifest(source: PackageJson): PackageJson {
  const { private: _private, devDependencies: _dev, ...manifest } = source;
  const exports = Object.fromEntries(
    Object.entries(source.exports ?? {})
      // The end-to-end tests' entry points into the operator's test helpers, which tsconfig.build.json leaves out.
      .filter(([key]) => !key.startsWith('./testing/'))
      .map(([key, path]) => {
        if (typeof path !== 'string')
          throw new Error(`${source.name}: exports["${key}"] should name a .ts file in the repository`);
        return [key, { types: toDts(path), default: toJs(path) }];
      }),
  );
  const bin = Object.fromEntries(Object.entries(source.bin ?? {}).map(([name, path]) => [name, toJs(path)]));
  return { ...manifest, exports, ...(source.bin ? { bin } : {}) };
}

function copyLuaScripts(from: string, to: string): void {
  for (const entry of readdirSync(from, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.lua')) continue;
    const source = join(entry.parentPath, entry.name);
    const target = join(to, source.slice(from.length));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(source, target);
  }
}

export function packPackages(outDir: string): string[] {
  const stage = join(ROOT, '.tmp', 'pack-stage');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', stage], {
    stdio: 'inherit',
  });
  return PACKAGES.map((name) => {
    const source = JSON.parse(readFileSync(join(ROOT, name, 'package.json'), 'utf8')) as PackageJson;
    const packageDir = join(stage, name);
    writeFileSync(join(packageDir, 'package.json'), `${JSON.stringify(publishedManifest(source), null, 2)}\n`);
    copyLuaScripts(join(ROOT, name, 'src'), join(packageDir, 'src'));
    if (existsSync(join(ROOT, name, 'README.md'))) cpSync(join(ROOT, name, 'README.md'), join(packageDir, 'README.md'));
    cpSync(join(ROOT, 'LICENSE'), join(packageDir, 'LICENSE'));
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], { cwd: packageDir, encoding: 'utf8' }),
    ) as { filename: string }[];
    if (!packed) throw new Error(`npm pack printed nothing for ${name}`);
    return join(outDir, packed.filename);
  });
}

if (import.meta.main) {
  for (const tarball of packPackages(resolve(process.argv[2] ?? join(ROOT, '.tmp', 'packages')))) console.log(tarball);
}
