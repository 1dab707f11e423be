import type { KubeConfig } from '@kubernetes/client-node';
import type { RunningOperator } from '@workerpool/operator/operator';
import { startOperatorForNamespace } from '@workerpool/operator/testing/operator-under-test';
import { createTestNamespace, testKubeConfig } from '@workerpool/testkit/cluster';
import { JobEvidence, PoolWatch, podHostAddress } from './e2e-pool.ts';
import { startRedisServer, type RedisServer, type RedisServerOptions } from '@workerpool/testkit/redis-server';

/** One end-to-end scenario's world: its namespace and its Redis, reachable from the pods. */
export interface BareScenario {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly redis: RedisServer;
  readonly evidence: JobEvidence;
  watch(poolName: string): PoolWatch;
  close(): Promise<void>;
}

/** ...and an operator of its own, running in the test process for that namespace. */
export interface Scenario extends BareScenario {
  readonly operator: RunningOperator;
}

interface ScenarioOptions {
  readonly redis?: Omit<RedisServerOptions, 'host'>;
  /** The operator's --idle-first-scale-down (default true). */
  readonly idleFirstScaleDown?: boolean;
}

/** A namespace and a Redis; the caller brings the operator (for example one installed as pods). */
export async function startBareScenario(options: ScenarioOptions = {}): Promise<BareScenario> {
  const kubeConfig = testKubeConfig();
  // Stopped in this order: the namespace first (its pods drain while Redis is still up), then Redis.
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers)
      await closer().catch((error: unknown) => console.error(`scenario cleanup: ${String(error)}`));
  };
  try {
    const redis = await startRedisServer({ ...options.redis, host: podHostAddress() });
    closers.unshift(() => redis.stop());
    const evidence = new JobEvidence(redis.url);
    closers.unshift(() => evidence.close());
    const namespace = await createTestNamespace(kubeConfig);
    closers.unshift(() => namespace.delete());
    return {
      kubeConfig,
      namespace: namespace.name,
      redis,
      evidence,
      watch: (name) => new PoolWatch(kubeConfig, namespace.name, name),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export async function startScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const bare = await startBareScenario(options);
  try {
    const operator = await startOperatorForNamespace(
      bare.kubeConfig,
      bare.namespace,
      options.idleFirstScaleDown === undefined ? {} : { idleFirstScaleDown: options.idleFirstScaleDown },
    );
    return {
      ...bare,
      operator,
      close: async () => {
        await operator.stop();
        await bare.close();
      },
    };
  } catch (error) {
    await bare.close();
    throw error;
  }
}
