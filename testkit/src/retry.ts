import { execFile, type ExecFileOptions } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

// Runs a command that needs a registry (npm's, Debian's, the Go module proxy), retrying with
// backoff: a registry that answers slowly or drops a connection should cost a retry, not a test
// run. The shell scripts' counterpart is testkit/retry.sh, with the same defaults.

export interface RetryOptions {
  /** What the command waits for, as the error names it: "the npm registry: 2 tarballs and their dependencies". */
  readonly what: string;
  /** An attempt still running after this long is killed and counts as failed. */
  readonly attemptTimeoutMs: number;
  readonly attempts?: number;
  /** The wait after the first failed attempt; each next wait is three times longer. */
  readonly firstDelayMs?: number;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

interface Attempt extends CommandOutput {
  /** Why it failed, or undefined when it succeeded. */
  readonly failure: string | undefined;
}

const lastLines = (text: string, count: number) => text.trimEnd().split('\n').slice(-count).join('\n');

function attempt(command: string, args: readonly string[], options: RetryOptions): Promise<Attempt> {
  const execOptions: ExecFileOptions = {
    cwd: options.cwd,
    env: options.env,
    timeout: options.attemptTimeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  };
  return new Promise((resolve) => {
    execFile(command, args, { ...execOptions, encoding: 'utf8' }, (error, stdout, stderr) => {
      let failure: string | undefined;
      if (error?.killed) failure = `no result within ${options.attemptTimeoutMs / 1000}s`;
      else if (error) failure = typeof error.code === 'number' ? `exit status ${error.code}` : error.message;
      resolve({ stdout, stderr, failure });
    });
  });
}

/**
 * Runs `command args` until it succeeds, at most `attempts` times (4 by default), and returns its
 * output. When every attempt fails, the error says what the command waited for, how long it tried,
 * why the last attempt failed, and shows that attempt's own output.
 */
export async function runWithRetries(
  command: string,
  args: readonly string[],
  options: RetryOptions,
): Promise<CommandOutput> {
  const attempts = options.attempts ?? 4;
  const started = Date.now();
  let delayMs = options.firstDelayMs ?? 10_000;
  const failures: string[] = [];
  for (let number = 1; ; number++) {
    const attemptStarted = Date.now();
    const result = await attempt(command, args, options);
    if (result.failure === undefined) return { stdout: result.stdout, stderr: result.stderr };
    const seconds = Math.round((Date.now() - attemptStarted) / 1000);
    failures.push(`attempt ${number}: ${result.failure} after ${seconds}s`);
    if (number >= attempts) {
      const output = [
        result.stdout.trim() ? `stdout:\n${lastLines(result.stdout, 20)}` : '',
        result.stderr.trim() ? `stderr:\n${lastLines(result.stderr, 60)}` : '',
      ].filter(Boolean);
      throw new Error(
        [
          `gave up waiting for ${options.what}: ${attempts} attempts in ${Math.round((Date.now() - started) / 1000)}s ` +
            `(${failures.join('; ')}) of \`${[command, ...args].join(' ')}\``,
          ...(output.length > 0 ? output : ['(the last attempt printed nothing)']),
        ].join('\n'),
      );
    }
    await sleep(delayMs);
    delayMs *= 3;
  }
}
