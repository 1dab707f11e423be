import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Asks the kernel for a port that is free on loopback right now. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string')
    throw new Error('could not read the port of a loopback listener');
  return address.port;
}

export interface ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** The last lines the process printed, to explain a failure. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts a server process whose output is kept (bounded) for error messages. */
export function startProcess(name: string, command: string, args: string[], env?: NodeJS.ProcessEnv): ManagedProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (err) => lines.push(`spawn error: ${err.message}`));
  const exited = once(child, 'exit').then(() => undefined);
  return {
    name,
    child,
    output: () => lines.slice(-40).join('\n'),
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const killAfter = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killAfter);
    },
  };
}

/** Polls `probe` until it returns true, failing with `what` and the process output after `timeoutMs`. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  {
    timeoutMs = 30_000,
    intervalMs = 100,
    process: proc,
  }: { timeoutMs?: number; intervalMs?: number; process?: ManagedProcess } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (proc && proc.child.exitCode !== null) {
      throw new Error(
        `${proc.name} exited with code ${proc.child.exitCode} while waiting for ${what}:\n${proc.output()}`,
      );
    }
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err;
    }
    await sleep(intervalMs);
  }
  const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${detail}${proc ? `\n${proc.name} output:\n${proc.output()}` : ''}`,
  );
}
