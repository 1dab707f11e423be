import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { uniqueSuffix } from './isolation.ts';

/** A client configuration for the shared test API server (cluster admin). */
export function testKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(inject('kubeconfigPath'));
  return kubeConfig;
}

export interface KubectlResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the real kubectl against the test API server; never throws, so a test can assert a refusal. */
export function kubectl(args: string[], input?: string): KubectlResult {
  try {
    const stdout = execFileSync(
      join(inject('controlPlaneAssets'), 'kubectl'),
      ['--kubeconfig', inject('kubeconfigPath'), ...args],
      {
        encoding: 'utf8',
        input,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    return { status: 0, stdout, stderr: '' };
  } catch (error) {
    const failed = error as { status?: number; stdout?: string; stderr?: string };
    return { status: failed.status ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

export interface TestNamespace {
  name: string;
  delete(): Promise<void>;
}

/** A namespace of the test's own, so tests sharing one API server never see each other's objects. */
export async function createTestNamespace(
  kubeConfig: KubeConfig,
  labels: Record<string, string> = {},
): Promise<TestNamespace> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const name = `t-${uniqueSuffix()}`;
  await core.createNamespace({ body: { metadata: { name, labels } } });
  return {
    name,
    async delete() {
      // Without a namespace controller the namespace stays Terminating; its objects are gone with the test's API server.
      await core.deleteNamespace({ name }).catch(() => undefined);
    },
  };
}
