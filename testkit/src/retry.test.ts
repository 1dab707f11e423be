import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runWithRetries } from './retry.ts';

// A registry step that fails, then works: both homes of the retry logic (retry.ts for TypeScript,
// retry.sh for the shell scripts) try again, and when they give up they say what they waited for
// and show the command's own output.

const RETRY_SH = join(import.meta.dirname, '..', 'retry.sh');
const dir = mkdtempSync(join(tmpdir(), 'testkit-retry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A shell command that fails (printing to stderr) until it has run `succeedOn` times. */
function flaky(name: string, succeedOn: number): string {
  const counter = join(dir, name);
  return [
    `n=$(( $(cat ${counter} 2>/dev/null || echo 0) + 1 )); echo $n > ${counter}`,
    `if [ $n -lt ${succeedOn} ]; then echo "ETIMEDOUT fetching tarball, try $n" >&2; exit 7; fi`,
    'echo "installed after $n tries"',
  ].join('\n');
}
const tries = (name: string) => Number(readFileSync(join(dir, name), 'utf8'));

describe('runWithRetries', () => {
  it('tries again after a failure and returns the output of the attempt that worked', async () => {
    const { stdout } = await runWithRetries('bash', ['-c', flaky('ts-flaky', 3)], {
      what: 'the flaky registry',
      attemptTimeoutMs: 10_000,
      firstDelayMs: 10,
    });
    expect(stdout.trim()).toBe('installed after 3 tries');
    expect(tries('ts-flaky')).toBe(3);
  });

  it('gives up after the last attempt, naming what it waited for, each failure and the output', async () => {
    const failing = runWithRetries('bash', ['-c', flaky('ts-down', 99)], {
      what: 'the registry that is down',
      attemptTimeoutMs: 10_000,
      attempts: 2,
      firstDelayMs: 10,
    });
    await expect(failing).rejects.toThrow(/^gave up waiting for the registry that is down: 2 attempts in \d+s/);
    await expect(failing).rejects.toThrow(/attempt 1: exit status 7 after \d+s; attempt 2: exit status 7/);
    await expect(failing).rejects.toThrow(/stderr:\nETIMEDOUT fetching tarball, try 2$/);
    expect(tries('ts-down')).toBe(2);
  });

  it('ends an attempt that hangs and says how long it waited', async () => {
    const hanging = runWithRetries('sleep', ['30'], {
      what: 'a registry that never answers',
      attemptTimeoutMs: 300,
      attempts: 2,
      firstDelayMs: 10,
    });
    await expect(hanging).rejects.toThrow(
      /attempt 1: no result within 0.3s after \d+s; attempt 2: no result within 0.3s/,
    );
    await expect(hanging).rejects.toThrow(/\(the last attempt printed nothing\)$/);
  });
});

describe('retry.sh', () => {
  const retrySh = (script: string) =>
    spawnSync('bash', ['-c', `set -euo pipefail; . ${RETRY_SH}; ${script}`], {
      encoding: 'utf8',
      env: { ...process.env, RETRY_FIRST_DELAY: '0' },
    });

  it('tries again after a failure and passes on the output of the attempt that worked', () => {
    const run = retrySh(`retry "the flaky registry" bash -c '${flaky('sh-flaky', 2).replaceAll("'", "'\\''")}'`);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('installed after 2 tries');
    expect(run.stderr).toMatch(/retry: the flaky registry: attempt 1 of 4 failed \(exit status 7 after \d+s\)/);
    expect(run.stderr).toContain('  | ETIMEDOUT fetching tarball, try 1');
  });

  it('gives up with the exit status of the last attempt, what it waited for and its output', () => {
    const run = retrySh(
      `RETRY_ATTEMPTS=2 retry --quiet "the registry that is down" bash -c '${flaky('sh-down', 99).replaceAll("'", "'\\''")}'`,
    );
    expect(run.status).toBe(7);
    expect(run.stderr).toMatch(
      /retry: gave up on the registry that is down: 2 attempts in \d+s, the last one exit status 7/,
    );
    expect(run.stderr).toContain('  stderr:\n  | ETIMEDOUT fetching tarball, try 2');
    expect(tries('sh-down')).toBe(2);
  });

  it('ends an attempt that hangs with --timeout', () => {
    const run = retrySh('RETRY_ATTEMPTS=1 retry --timeout 1 "a registry that never answers" sleep 30');
    expect(run.status).toBe(124);
    expect(run.stderr).toContain('retry: gave up on a registry that never answers: 1 attempts in');
    expect(run.stderr).toContain('the last one no result within 1s: `sleep 30`');
  });
});
