import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '@workerpool/testkit/redis-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const MAIN = join(import.meta.dirname, '..', 'cli', 'main.ts');
const PASSWORD = 'inspect-pw-Q7!never-shown';

interface CliOutput {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliOutput> {
  try {
    const { stdout, stderr } = await run(process.execPath, [MAIN, 'inspect', ...args], {
      env: { ...process.env, ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('workerpool-operator inspect', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await startRedisServer({ password: PASSWORD });
    const redis = new Redis(server.url);
    await redis.lpush('jobs', JSON.stringify({ at: Date.now() - 20_000 }), JSON.stringify({ at: Date.now() }));
    redis.disconnect();
  });
  afterAll(() => server.stop());

  it('prints the reading as JSON with the password from --password-env, and never prints the password', async () => {
    const out = await cli(
      [
        '--redis',
        `redis://127.0.0.1:${server.port}`,
        '--format',
        'list',
        '--queue',
        'jobs',
        '--timestamp-field',
        'at',
        '--password-env',
        'INSPECT_PW',
        '--json',
      ],
      { INSPECT_PW: PASSWORD },
    );
    expect(out.code, out.stderr).toBe(0);
    const printed = JSON.parse(out.stdout) as {
      endpoint: string;
      reading: { depth: number; oldestJobAgeSeconds: number };
    };
    expect(printed.endpoint).toBe(`redis://127.0.0.1:${server.port}`);
    expect(printed.reading.depth).toBe(2);
    expect(printed.reading.oldestJobAgeSeconds).toBeGreaterThanOrEqual(20);
    expect(out.stdout + out.stderr).not.toContain(PASSWORD);
  });

  it('accepts a password inside --redis, hides it, and exits 1 with the error kind when it is wrong', async () => {
    const wrong = 'wrong-pw-Zz';
    const out = await cli([
      '--redis',
      `redis://:${wrong}@127.0.0.1:${server.port}`,
      '--format',
      'list',
      '--queue',
      'jobs',
    ]);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('auth-failed');
    expect(out.stdout + out.stderr).not.toContain(wrong);
  });
});
