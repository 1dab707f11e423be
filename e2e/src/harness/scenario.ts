import type { KubeConfig } from '@kubernetes/client-node';
import type { RunningOperator } from '@workerpool/operator/operator';
import { startOperatorForNamespace } from '@workerpool/operator/testing/operator-under-test';
import { createTestNamespace, testKubeConfig, type TestNamespace } from './cluster.ts';
import { JobEvidence, PoolWatch, podHostAddress } from './e2e-pool.ts';
import { startRedisServer, type RedisServer, type RedisServerOptions } from './redis-server.ts';

/** One end-to-end scenario's world: its namespace, its Redis (reachable from pods), the operator. */
export interface Scenario {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly redis: RedisServer;
  readonly evidence: JobEvidence;
  readonly operator: RunningOperator;
  watch(poolName: string): PoolWatch;
  close(): Promise<void>;
}

export async function startScenario(options: { redis?: Omit<RedisServerOptions, 'host'> } = {}): Promise<Scenario> {
  const kubeConfig = testKubeConfig();
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch((error: unknown) => console.error(`scenario cleanup: ${String(error)}`));
  };
  try {
    const namespace: TestNamespace = await createTestNamespace(kubeConfig);
    closers.push(() => namespace.delete());
    const redis = await startRedisServer({ ...options.redis, host: podHostAddress() });
    closers.push(() => redis.stop());
    const evidence = new JobEvidence(redis.url);
    closers.push(() => evidence.close());
    const operator = await startOperatorForNamespace(kubeConfig, namespace.name);
    closers.push(() => operator.stop());
    return { kubeConfig, namespace: namespace.name, redis, evidence, operator, watch: (name) => new PoolWatch(kubeConfig, namespace.name, name), close };
  } catch (error) {
    await close();
    throw error;
  }
}
