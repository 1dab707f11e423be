import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const BUILD_SCRIPT = join(import.meta.dirname, '..', '..', 'images', 'build.sh');

/** The images pods of the test node run, as their containerd knows them (imagePullPolicy: Never). */
export const TEST_IMAGES = {
  operator: 'localhost/workerpool-operator:e2e',
  worker: 'localhost/workerpool-worker:e2e',
  exampleWorker: 'localhost/workerpool-example-worker:e2e',
  sidekiq: 'localhost/workerpool-sidekiq:e2e',
  formatWorkers: 'localhost/workerpool-format-workers:e2e',
} as const;

/** Builds the test images from the project's Dockerfiles (e2e/images/build.sh) and lists their archives. */
export function buildTestImages(): string[] {
  let folder: string;
  try {
    folder =
      execFileSync('bash', [BUILD_SCRIPT], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
        .trim()
        .split('\n')
        .pop() ?? '';
  } catch (error) {
    throw new Error('could not build the test images (see the output above)', { cause: error });
  }
  return readdirSync(folder)
    .filter((file) => file.endsWith('.tar'))
    .map((file) => join(folder, file));
}
