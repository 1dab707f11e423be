import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startProcess, waitUntil, type ManagedProcess } from '@workerpool/testkit/processes';
import { uniqueSuffix } from '@workerpool/testkit/isolation';
import { runWithRetries } from '@workerpool/testkit/retry';
import { packPackages } from '../../../scripts/pack.ts';
import { REPOSITORY_ROOT } from './manifests.ts';

// The packages as a Node team gets them from the registry: packed with `npm pack`, installed into a
// fresh app outside the repository (under node_modules, where Node strips no types, so they must be
// JavaScript), type-checked against the app's own TypeScript, and run: a worker with the app's
// handlers drains jobs the app enqueued through the library, and the installed operator CLI reads the queue.

const run = promisify(execFile);
const redisUrl = inject('redisUrl');
const prefix = `pkg-${uniqueSuffix()}:`;
const queue = 'greetings';
const JOBS = 5;

// The app's processes run on the Node 24 the repository brings (the machine's own may be older),
// found first on PATH so the packages' `#!/usr/bin/env node` bins use it too. The machine's way
// to the registry goes with them: npm reads its global npmrc beside the node that runs it, so
// with this one first a `cafile` set there is not found (a registry behind a proxy with its own
// CA then fails with SELF_SIGNED_CERT_IN_CHAIN), and Node's own extra CAs and the proxy are
// environment variables. Nothing else of the test runner's environment: its npm_config_* would
// point npm at the repository.
const REGISTRY_ACCESS_VARIABLES = [
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
];
const appEnv = {
  ...Object.fromEntries(
    REGISTRY_ACCESS_VARIABLES.flatMap((name) => {
      const value = process.env[name];
      return value === undefined ? [] : [[name, value]];
    }),
  ),
  PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`,
  HOME: process.env['HOME'] ?? tmpdir(),
};

let app: string;
let packed: string;
beforeAll(async () => {
  packed = mkdtempSync(join(tmpdir(), 'workerpool-packed-'));
  app = mkdtempSync(join(tmpdir(), 'workerpool-app-'));
  const tarballs = packPackages(packed);
  writeAppFiles(app);
  // Dependencies come from the npm registry (or npm's cache); the two packages from their tarballs.
  // 12 s to 3 min with an empty cache (3 min on a loaded machine), but once a cold CI run waited
  // its whole 240 s on one request: npm's own fetch timeout is 5 minutes, so a stalled request is
  // cut at 60 s and retried by npm, and an attempt that still hangs is ended and run again. Its
  // http log is what a failure shows.
  await runWithRetries(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=http',
      '--fetch-timeout=60000',
      '--fetch-retries=3',
      ...tarballs,
      '@types/node@24',
    ],
    {
      what: `the npm registry: the dependencies of ${tarballs.length} packed tarballs`,
      attemptTimeoutMs: 240_000,
      attempts: 3,
      cwd: app,
      env: appEnv,
    },
  );
}, 900_000);
afterAll(() => {
  for (const dir of [app, packed]) if (dir) rmSync(dir, { recursive: true, force: true });
});

function writeAppFiles(dir: string): void {
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'greeter', private: true, type: 'module' }));
  // A team's ordinary strict tsconfig: nothing that knows the packages came from TypeScript sources.
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'es2024',
        module: 'nodenext',
        strict: true,
        noEmit: true,
        types: ['node'],
        skipLibCheck: false,
      },
      include: ['*.ts'],
    }),
  );
  writeFileSync(
    join(dir, 'handlers.ts'),
    [
      "import type { Handlers, Job } from '@workerpool/worker-runtime';",
      'async function greet(job: Job): Promise<void> {',
      '  const { name } = job.data as { name: string };',
      '  console.log(`greeted ${name}`);',
      '}',
      'export default { greet } satisfies Handlers;',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'enqueue.ts'),
    [
      "import { Queue } from '@workerpool/worker-runtime';",
      'const [url, prefix, name, count] = process.argv.slice(2) as [string, string, string, string];',
      'const queue = new Queue(name, { connection: url, prefix });',
      "for (let i = 0; i < Number(count); i++) await queue.add('greet', { name: `guest-${i}` });",
      'await queue.close();',
    ].join('\n'),
  );
}

const bin = (name: string) => join(app, 'node_modules', '.bin', name);

async function inspectDepth(): Promise<number> {
  const { stdout } = await run(
    bin('workerpool-operator'),
    ['inspect', '--redis', redisUrl, '--format', 'native', '--queue', queue, '--key-prefix', prefix, '--json'],
    { cwd: app, env: appEnv, timeout: 30_000 },
  );
  return (JSON.parse(stdout) as { reading: { depth: number } }).reading.depth;
}

describe('the packed packages, installed into a fresh app', () => {
  let worker: ManagedProcess | undefined;
  afterAll(async () => {
    await worker?.stop();
  });

  it('ship JavaScript, type declarations, the Lua scripts and the license, and no TypeScript sources or tests', async () => {
    const { stdout } = await run('npm', ['ls', '--all', '--parseable'], { cwd: app, env: appEnv });
    const installed = stdout.split('\n').filter((path) => path.endsWith('/@workerpool/worker-runtime'));
    expect(installed).toHaveLength(1); // the operator uses the same installed library
    const files = (await run('npm', ['pack', '--dry-run', '--json'], { cwd: installed[0], env: appEnv })).stdout;
    const paths = (JSON.parse(files) as { files: { path: string }[] }[])[0]?.files.map((file) => file.path) ?? [];
    expect(paths).toContain('src/index.js');
    expect(paths).toContain('src/index.d.ts');
    expect(paths).toContain('src/cli/main.js');
    expect(paths.some((path) => path.endsWith('.lua'))).toBe(true);
    expect(paths).toContain('LICENSE');
    expect(paths.filter((path) => path.endsWith('.ts') && !path.endsWith('.d.ts'))).toEqual([]);
    expect(paths.filter((path) => /test/.test(path))).toEqual([]);
  });

  it('name only files they ship in their exports', async () => {
    for (const name of ['@workerpool/worker-runtime', '@workerpool/operator']) {
      const folder = join(app, 'node_modules', name);
      const { exports } = JSON.parse(await readFile(join(folder, 'package.json'), 'utf8')) as {
        exports: Record<string, { types: string; default: string }>;
      };
      const targets = Object.values(exports).flatMap((entry) => [entry.types, entry.default]);
      expect(targets.length, `${name} exports something`).toBeGreaterThan(0);
      expect(
        targets.filter((target) => !existsSync(join(folder, target))),
        `${name} exports files it lacks`,
      ).toEqual([]);
    }
  });

  it('type-check with the app that imports the library', async () => {
    const tsc = join(REPOSITORY_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const checked = await run(process.execPath, [tsc, '-p', app], { cwd: app, env: appEnv, timeout: 120_000 }).catch(
      (error: Error & { stdout?: string }) => ({ stdout: error.stdout || error.message }),
    );
    expect(checked.stdout).toBe('');
  }, 150_000);

  it('run a worker with the app handlers on the jobs the app enqueued, which the installed CLI sees drain', async () => {
    await run(process.execPath, ['enqueue.ts', redisUrl, prefix, queue, String(JOBS)], {
      cwd: app,
      env: appEnv,
      timeout: 30_000,
    });
    expect(await inspectDepth()).toBe(JOBS);

    worker = startProcess(
      'workerpool-worker',
      bin('workerpool-worker'),
      ['run', '--handlers', join(app, 'handlers.ts')],
      {
        ...appEnv,
        REDIS_URL: redisUrl,
        WORKERPOOL_KEY_PREFIX: prefix,
        WORKERPOOL_QUEUES: queue,
        WORKERPOOL_POD_NAME: 'greeter-0',
        WORKERPOOL_METRICS_PORT: '0',
        WORKERPOOL_METRICS_HOST: '127.0.0.1',
      },
    );
    const greeted = () =>
      worker
        ?.output()
        .split('\n')
        .filter((line) => line.startsWith('greeted guest-')).length ?? 0;
    await waitUntil(`${JOBS} jobs greeted by the installed worker`, () => Promise.resolve(greeted() === JOBS), {
      timeoutMs: 30_000,
      process: worker,
    });
    // Each look is a CLI start (seconds on a loaded machine), hence the long timeout.
    await expect.poll(inspectDepth, { timeout: 45_000, interval: 500 }).toBe(0);
  }, 120_000);
});
