import { existsSync, readFileSync } from 'node:fs';
import { join, matchesGlob } from 'node:path';
import { REPOSITORY_ROOT } from './manifests.ts';

// Just enough of a Dockerfile parser to check what the images copy and run, without a Docker
// engine: instructions with their continuation lines joined, comments dropped, grouped by stage.

export interface Instruction {
  keyword: string;
  /** The arguments as written, with ${ARG} references from global ARG defaults substituted. */
  args: string;
}

export interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

export function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const match = /^(\S+)\s*(.*)$/.exec(trimmed);
    if (!match) continue;
    const keyword = (match[1] ?? '').toUpperCase();
    const args = (match[2] ?? '').replace(/\$\{(\w+)\}/g, (whole, name: string) => globalArgs.get(name) ?? whole);
    if (keyword === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = args.split('=', 2);
      globalArgs.set(name.trim(), value.trim());
    } else if (keyword === 'FROM') {
      const [image = '', as, name] = args.split(/\s+/);
      stages.push({ from: image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword, args });
    }
  }
  return stages;
}

/** Sources of a COPY from the build context (not --from another stage), as paths in the repository. */
export function contextSources(instruction: Instruction): string[] {
  const words = instruction.args.split(/\s+/);
  if (words.some((word) => word.startsWith('--from='))) return [];
  const paths = words.filter((word) => !word.startsWith('--'));
  return paths.slice(0, -1).map((path) => path.replace(/\/$/, ''));
}

/** An exec-form instruction (ENTRYPOINT ["node", "x.ts"]) as its words. */
export function execForm(instruction: Instruction | undefined): string[] {
  if (!instruction) return [];
  const parsed: unknown = JSON.parse(instruction.args);
  if (!Array.isArray(parsed) || !parsed.every((word) => typeof word === 'string'))
    throw new Error(`${instruction.keyword} is not in exec form: ${instruction.args}`);
  return parsed;
}

const dockerignorePatterns = (): string[] =>
  readFileSync(join(REPOSITORY_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

/** Whether .dockerignore keeps a path (or a folder above it) out of the build context. */
export function ignoredByDockerignore(path: string): boolean {
  const patterns = dockerignorePatterns();
  const segments = path.split('/');
  return segments.some((_, index) => {
    const prefix = segments.slice(0, index + 1).join('/');
    return patterns.some((pattern) => matchesGlob(prefix, pattern));
  });
}

export const existsInRepository = (path: string): boolean => existsSync(join(REPOSITORY_ROOT, path));
