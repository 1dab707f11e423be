import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextSources, execForm, existsInRepository, ignoredByDockerignore, parseDockerfile } from './dockerfile.ts';
import { REPOSITORY_ROOT } from './manifests.ts';
import { productionDependencies, runtimeImports } from './runtime-imports.ts';

// The images cannot be built here (no Docker engine), so everything about them that can be
// checked without one is: what they copy exists and is not ignored, they install production
// dependencies only and those suffice for every import the entry point loads, they run as a
// non-root uid, and the entry point they name starts.

const images = [
  { dockerfile: 'operator/Dockerfile', workspace: 'operator', program: 'workerpool-operator' },
  { dockerfile: 'worker-runtime/Dockerfile', workspace: 'worker-runtime', program: 'workerpool-worker' },
];
const rootManifest = JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'package.json'), 'utf8')) as {
  workspaces: string[];
};

describe.each(images)('$dockerfile', ({ dockerfile, workspace, program }) => {
  const stages = parseDockerfile(readFileSync(join(REPOSITORY_ROOT, dockerfile), 'utf8'));
  const final = stages.at(-1);
  const instructions = (keyword: string) =>
    final?.instructions.filter((instruction) => instruction.keyword === keyword) ?? [];
  const copied = stages.flatMap((stage) =>
    stage.instructions.filter((instruction) => instruction.keyword === 'COPY').flatMap(contextSources),
  );
  const [interpreter, entry = '', ...entryArgs] = execForm(instructions('ENTRYPOINT').at(-1));
  const cmd = execForm(instructions('CMD').at(-1));

  it('builds in stages, every one from node:24-slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.map((stage) => stage.from)).toEqual(stages.map(() => 'node:24-slim'));
  });

  it('copies only what exists in the repository and survives .dockerignore', () => {
    expect(copied.length).toBeGreaterThan(0);
    for (const source of copied) {
      expect(existsInRepository(source), `${source} exists`).toBe(true);
      expect(ignoredByDockerignore(source), `${source} is in the build context`).toBe(false);
    }
  });

  it('gives npm every workspace package.json, so that npm ci can read the lockfile', () => {
    for (const folder of rootManifest.workspaces) expect(copied).toContain(`${folder}/package.json`);
    expect(copied).toContain('package-lock.json');
  });

  it(`installs production dependencies of ${workspace} only, in a stage the runtime does not inherit`, () => {
    const installs = stages.flatMap((stage) =>
      stage.instructions
        .filter((instruction) => instruction.keyword === 'RUN' && /\bnpm ci\b/.test(instruction.args))
        .map((instruction) => ({ stage, instruction })),
    );
    expect(installs).toHaveLength(1);
    expect(installs[0]?.instruction.args).toMatch(new RegExp(`npm ci --omit=dev --workspace ${workspace}\\b`));
    expect(installs[0]?.stage).not.toBe(final);
    expect(
      final?.instructions.some(
        (instruction) =>
          instruction.keyword === 'COPY' && instruction.args.startsWith(`--from=${installs[0]?.stage.name ?? ''} `),
      ),
    ).toBe(true);
  });

  it('runs as a numeric, non-root uid (Kubernetes can only verify runAsNonRoot for a number)', () => {
    const user = instructions('USER').at(-1)?.args ?? '';
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
  });

  it('loads nothing at run time that a production-only install lacks, and nothing the image leaves out', () => {
    expect(interpreter).toBe('node');
    const loaded = runtimeImports(entry);
    for (const file of loaded.files) {
      expect(
        copied.some((source) => file === source || file.startsWith(`${source}/`)),
        `${file} is copied into the image`,
      ).toBe(true);
      expect(ignoredByDockerignore(file), `${file} is in the build context`).toBe(false);
    }
    for (const [folder, packages] of loaded.packages) {
      const declared = productionDependencies(folder);
      for (const name of packages) expect(declared, `${folder} imports ${name} at run time`).toContain(name);
    }
  });

  it(`starts: node ${entry} --help prints the usage of ${program}`, () => {
    for (const args of [
      [...entryArgs, '--help'],
      [...entryArgs, ...cmd, '--help'],
    ]) {
      const run = spawnSync(process.execPath, [join(REPOSITORY_ROOT, entry), ...args], {
        encoding: 'utf8',
        cwd: REPOSITORY_ROOT,
        timeout: 30_000,
      });
      expect(run.status, `node ${entry} ${args.join(' ')}: ${run.stderr}${run.error?.message ?? ''}`).toBe(0);
      expect(run.stdout).toContain(program);
    }
  });
});
