import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freeLoopbackPort } from '@workerpool/testkit/processes';
import { imageNodeOptions } from './image-node-options.ts';

// The operator as users run it: its own process, `run` with the image's NODE_OPTIONS (which cap
// V8's heap, so that running out of it is a crash, as it would be a restart in a pod), on free
// loopback ports. For benchmarks and tests that measure its memory or must see it survive.

const OPERATOR_ROOT = join(import.meta.dirname, '..', '..');

export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly metricsPort: number;
  readonly nodeOptions: string;
}

export async function spawnOperatorProcess(
  kubeconfigPath: string,
  options: { logLevel: string; args?: readonly string[]; nodeArgs?: readonly string[]; stderr: 'inherit' | 'pipe' },
): Promise<OperatorProcess> {
  const nodeOptions = imageNodeOptions(join(OPERATOR_ROOT, 'Dockerfile'));
  const metricsPort = await freeLoopbackPort();
  const probesPort = await freeLoopbackPort();
  const child = spawn(
    process.execPath,
    [
      ...(options.nodeArgs ?? []),
      join(OPERATOR_ROOT, 'src', 'cli', 'main.ts'),
      'run',
      '--kubeconfig',
      kubeconfigPath,
      '--metrics-bind-address',
      `127.0.0.1:${metricsPort}`,
      '--health-probe-bind-address',
      `127.0.0.1:${probesPort}`,
      '--log-level',
      options.logLevel,
      ...(options.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', options.stderr], env: { ...process.env, NODE_OPTIONS: nodeOptions } },
  );
  if (child.pid === undefined) throw new Error('the operator process could not be started');
  return { child, pid: child.pid, metricsPort, nodeOptions };
}
