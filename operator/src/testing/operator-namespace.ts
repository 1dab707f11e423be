import { PassThrough } from 'node:stream';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1Deployment,
  type CoreV1Event,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, expect } from 'vitest';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '@workerpool/testkit/cluster';
import { startRedisServer, type RedisServer, type RedisServerOptions } from '@workerpool/testkit/redis-server';
import { GROUP, PLURAL, VERSION, type WorkerPool } from '../api/workerpool-schema.ts';
import type { RunningOperator } from '../operator.ts';
import { startOperatorForNamespace } from './operator-under-test.ts';

// What a cluster test of the operator sets up before its first assertion: a namespace of its own
// on the shared API server, optionally a real redis-server (with its password in a Secret), and
// the real operator watching that namespace; all of it torn down after the file, even on failure.

export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** How long a cluster test waits for the operator to act on something it wrote. */
export const OPERATOR_POLL = { timeout: 20_000, interval: 100 };
/** The Secret that holds the Redis password when `redisPasswordSecret` is set. */
export const REDIS_AUTH_SECRET = { name: 'redis-auth', key: 'password' };

type PoolCondition = NonNullable<NonNullable<WorkerPool['status']>['conditions']>[number];

export interface OperatorNamespaceOptions {
  /** Starts a real redis-server for the file. */
  readonly redis?: RedisServerOptions;
  /** Also writes the Redis password into the Secret REDIS_AUTH_SECRET names, in the namespace. */
  readonly redisPasswordSecret?: boolean;
  /** Options for the operator; `false` when the file starts its own (e.g. one per describe). */
  readonly operator?: Parameters<typeof startOperatorForNamespace>[2] | false;
  /** Keeps the operator's log lines (at debug) in `logs`, for tests that check what is and is not logged. */
  readonly captureLogs?: boolean;
  /** Defaults to the cluster admin of the shared test API server. */
  readonly kubeConfig?: KubeConfig;
}

export interface OperatorNamespace {
  readonly kubeConfig: KubeConfig;
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  /** The namespace's name; available from the first test on. */
  readonly name: string;
  readonly redis: RedisServer;
  readonly operator: RunningOperator;
  /** The operator's log lines so far, one per entry (with `captureLogs`). */
  readonly logs: string[];
  readonly createPool: (pool: WorkerPool) => Promise<unknown>;
  readonly getPool: (name: string) => Promise<WorkerPool>;
  readonly patchPool: (name: string, body: object) => Promise<unknown>;
  readonly condition: (pool: string, type: string) => Promise<PoolCondition | undefined>;
  readonly deployment: (name: string) => Promise<V1Deployment | undefined>;
  /** The Deployment's spec.replicas, or undefined while it does not exist. */
  readonly replicas: (name: string) => Promise<number | undefined>;
  /** The Events recorded about one object, optionally of one type. */
  readonly events: (object: string, type?: 'Normal' | 'Warning') => Promise<CoreV1Event[]>;
  /**
   * Plays kube-controller-manager, which the cluster project's API server runs without: reports the
   * Deployment's rollout as complete at its current replicas, once it runs `image` (when given).
   */
  readonly completeRollout: (name: string, options?: { image?: string; replicas?: number }) => Promise<void>;
}

/** Sets up the namespace, Redis and operator for the calling test file (or describe block). */
export function useOperatorNamespace(options: OperatorNamespaceOptions = {}): OperatorNamespace {
  const kubeConfig = options.kubeConfig ?? testKubeConfig();
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const logs: string[] = [];
  let namespace: TestNamespace | undefined;
  let redis: RedisServer | undefined;
  let operator: RunningOperator | undefined;

  beforeAll(async () => {
    namespace = await createTestNamespace(kubeConfig);
    if (options.redis) redis = await startRedisServer(options.redis);
    if (options.redisPasswordSecret) {
      const password = options.redis?.password;
      if (password === undefined) throw new Error('useOperatorNamespace: redisPasswordSecret needs redis.password');
      await core.createNamespacedSecret({
        namespace: namespace.name,
        body: { metadata: { name: REDIS_AUTH_SECRET.name }, stringData: { [REDIS_AUTH_SECRET.key]: password } },
      });
    }
    if (options.operator === false) return;
    const logStream = options.captureLogs ? capture(logs) : undefined;
    operator = await startOperatorForNamespace(kubeConfig, namespace.name, {
      ...options.operator,
      ...(logStream ? { logStream } : {}),
    });
  });
  afterAll(async () => {
    await operator?.stop();
    await redis?.stop();
    await namespace?.delete();
  });

  const name = () => required(namespace, 'the namespace').name;
  const ref = (pool: string) => ({ group: GROUP, version: VERSION, plural: PLURAL, namespace: name(), name: pool });
  const getPool = async (pool: string) => (await custom.getNamespacedCustomObject(ref(pool))) as WorkerPool;
  const deployment = (deploymentName: string) =>
    apps.readNamespacedDeployment({ name: deploymentName, namespace: name() }).catch(() => undefined);

  return {
    kubeConfig,
    apps,
    core,
    custom,
    get name() {
      return name();
    },
    get redis() {
      return required(redis, 'Redis (pass the redis option)');
    },
    get operator() {
      return required(operator, 'the operator');
    },
    logs,
    createPool: (pool) => custom.createNamespacedCustomObject({ ...ref(''), body: pool }),
    getPool,
    patchPool: (pool, body) => custom.patchNamespacedCustomObject({ ...ref(pool), body }, mergePatch),
    condition: async (pool, type) => (await getPool(pool)).status?.conditions?.find((c) => c.type === type),
    deployment,
    replicas: async (deploymentName) => (await deployment(deploymentName))?.spec?.replicas,
    events: async (object, type) =>
      (
        await core.listNamespacedEvent({
          namespace: name(),
          fieldSelector: `involvedObject.name=${object}${type ? `,type=${type}` : ''}`,
        })
      ).items,
    completeRollout: async (deploymentName, { image, replicas } = {}) => {
      if (image !== undefined) {
        await expect
          .poll(
            async () => (await deployment(deploymentName))?.spec?.template.spec?.containers[0]?.image,
            OPERATOR_POLL,
          )
          .toBe(image);
      }
      const current = await apps.readNamespacedDeployment({ name: deploymentName, namespace: name() });
      const ready = replicas ?? current.spec?.replicas ?? 0;
      const status = {
        observedGeneration: current.metadata?.generation,
        replicas: ready,
        updatedReplicas: ready,
        readyReplicas: ready,
        availableReplicas: ready,
      };
      await apps.patchNamespacedDeploymentStatus(
        { name: deploymentName, namespace: name(), body: { status } },
        mergePatch,
      );
    },
  };
}

function capture(lines: string[]): NodeJS.WritableStream {
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  return stream;
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`useOperatorNamespace: ${what} is not set up (used outside a test?)`);
  return value;
}
