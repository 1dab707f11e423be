import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { flagsFromEnv } from './run-command.ts';

const MAIN = join(import.meta.dirname, 'main.ts');

/** `workerpool-operator run` with a bad log level, so that it stops right after parsing (exit 2). */
function runWithBadLogLevel(env: NodeJS.ProcessEnv) {
  return spawnSync(process.execPath, [MAIN, 'run'], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env['PATH'], WORKERPOOL_LOG_LEVEL: 'chatty', ...env },
  });
}

describe('workerpool-operator run reads its WORKERPOOL_* variables', () => {
  it('maps each documented variable to its flag, and no other', () => {
    expect(
      flagsFromEnv({
        WORKERPOOL_LOG_LEVEL: 'debug',
        WORKERPOOL_LEADER_ELECT: 'true',
        WORKERPOOL_IDLE_FIRST_SCALE_DOWN: 'false',
        WORKERPOOL_OPERATOR_METRICS_PORT: 'tcp://10.0.0.9:8080',
        WORKERPOOL_NAMESPACE: '',
      }),
    ).toEqual({
      'log-level': 'debug',
      'leader-elect': 'true',
      'idle-first-scale-down': 'false',
    });
  });

  it("starts in a pod whose namespace has the install's metrics Service (Kubernetes service-link variables)", () => {
    // What the kubelet puts in every pod of workerpool-system for the Service workerpool-operator-metrics.
    const serviceLinks = {
      WORKERPOOL_OPERATOR_METRICS_SERVICE_HOST: '10.0.0.9',
      WORKERPOOL_OPERATOR_METRICS_SERVICE_PORT: '8080',
      WORKERPOOL_OPERATOR_METRICS_SERVICE_PORT_METRICS: '8080',
      WORKERPOOL_OPERATOR_METRICS_PORT: 'tcp://10.0.0.9:8080',
      WORKERPOOL_OPERATOR_METRICS_PORT_8080_TCP_ADDR: '10.0.0.9',
    };
    const run = runWithBadLogLevel(serviceLinks);
    expect(run.stderr).not.toContain('Unknown argument');
    // Parsing got as far as the operator's own check of the variable it was given.
    expect(run.stderr).toContain('--log-level: "chatty" is not one of');
    expect(run.status).toBe(2);
  });
});
