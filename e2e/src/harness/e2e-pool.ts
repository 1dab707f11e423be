import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1Pod,
  type V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { CONFIG_DEFAULTS } from '@workerpool/worker-runtime/config';
import { inject } from 'vitest';
import { GROUP, PLURAL, VERSION, type WorkerPool } from '@workerpool/operator/api/workerpool-schema';
import type { WorkerPoolSpecInput } from '@workerpool/operator/api/defaults';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { Queue } from '@workerpool/worker-runtime';
import { TEST_IMAGES } from './images.ts';
import { uniqueSuffix } from '@workerpool/testkit/isolation';

// What the end-to-end tests share: a native pool whose pods run the example worker image on the
// real node, and the evidence its handlers leave in Redis (e2e/images/worker-example/handlers.ts).

/** The example worker's pod template: real image, readiness from the worker's own /readyz. */
export function exampleWorkerTemplate(recordPrefix: string, graceSeconds = 15): V1PodTemplateSpec {
  return {
    metadata: { labels: { app: 'example-worker' } },
    spec: {
      terminationGracePeriodSeconds: graceSeconds,
      containers: [
        {
          name: 'worker',
          image: TEST_IMAGES.exampleWorker,
          imagePullPolicy: 'Never',
          env: [{ name: 'EXAMPLE_RECORD_PREFIX', value: recordPrefix }],
          // Named as manifests/components/podmonitor expects.
          ports: [{ name: 'metrics', containerPort: CONFIG_DEFAULTS.metricsPort }],
          readinessProbe: {
            httpGet: { path: '/readyz', port: 'metrics' },
            periodSeconds: 1,
            failureThreshold: 1,
          },
          resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
        },
      ],
    },
  };
}

/** A native pool of example workers reading `queue` on `redisUrl`. */
export function exampleNativePool(
  namespace: string,
  name: string,
  redisUrl: string,
  spec: Partial<WorkerPoolSpecInput> & { recordPrefix: string; queue?: string },
): WorkerPool {
  const { recordPrefix, queue = name, ...rest } = spec;
  return templatePool(namespace, name, {
    template: exampleWorkerTemplate(recordPrefix),
    queue: { format: 'native', names: [queue], redis: { url: redisUrl } },
    ...rest,
  });
}

/** Counts of what the example handlers recorded: runs started and finished, per job id. */
export class JobEvidence {
  readonly #redis: Redis;
  readonly prefix: string;

  constructor(redisUrl: string, prefix = `e2e-${uniqueSuffix()}:`) {
    this.#redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    this.#redis.on('error', () => undefined); // fault tests stop Redis on purpose
    this.prefix = prefix;
  }

  async started(): Promise<Map<string, number>> {
    return counts(await this.#redis.hgetall(`${this.prefix}started`));
  }

  async finished(): Promise<Map<string, number>> {
    return counts(await this.#redis.hgetall(`${this.prefix}finished`));
  }

  async pods(): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.#redis.hgetall(`${this.prefix}pods`)));
  }

  /** Job ids in `ids` that no run has finished yet. */
  async unfinished(ids: readonly string[]): Promise<string[]> {
    const done = await this.finished();
    return ids.filter((id) => !done.has(id));
  }

  /** Runs that started but never finished: a job a pod was stopped in the middle of. */
  async interrupted(): Promise<number> {
    const [started, finished] = [await this.started(), await this.finished()];
    let runs = 0;
    for (const [id, count] of started) runs += count - (finished.get(id) ?? 0);
    return runs;
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}

const counts = (hash: Record<string, string>) =>
  new Map(Object.entries(hash).map(([id, count]) => [id, Number(count)]));

/** Puts `count` example `work` jobs of `ms` each on a native queue; returns their ids. */
export async function enqueueWork(redisUrl: string, queue: string, count: number, ms: number): Promise<string[]> {
  const producer = new Queue(queue, { connection: redisUrl });
  try {
    const results = await producer.addBulk(
      Array.from({ length: count }, (_, i) => ({ name: 'work', data: { ms, i } })),
    );
    return results.map((result) => result.id);
  } finally {
    await producer.close();
  }
}

/** Typed reads of the objects an end-to-end test watches. */
export class PoolWatch {
  readonly #apps: AppsV1Api;
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;
  readonly namespace: string;
  readonly name: string;

  constructor(kubeConfig: KubeConfig, namespace: string, name: string) {
    this.namespace = namespace;
    this.name = name;
    this.#apps = kubeConfig.makeApiClient(AppsV1Api);
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#custom = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  async create(pool: WorkerPool): Promise<void> {
    await this.#custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: this.namespace,
      body: pool,
    });
  }

  async pool(): Promise<WorkerPool> {
    return (await this.#custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: this.namespace,
      name: this.name,
    })) as WorkerPool;
  }

  /** The Deployment's spec.replicas: what the operator asked for. */
  async specReplicas(deployment = this.name): Promise<number | undefined> {
    return (await this.#apps.readNamespacedDeployment({ name: deployment, namespace: this.namespace })).spec?.replicas;
  }

  /** Pods of the pool that are Ready and not being deleted. */
  async readyPods(selector = `workerpool.dev/pool=${this.name}`): Promise<V1Pod[]> {
    return (await this.pods(selector)).filter(
      (pod) =>
        !pod.metadata?.deletionTimestamp &&
        pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
  }

  async pods(selector = `workerpool.dev/pool=${this.name}`): Promise<V1Pod[]> {
    return (await this.#core.listNamespacedPod({ namespace: this.namespace, labelSelector: selector })).items;
  }

  async events(): Promise<string[]> {
    return (await this.#core.listNamespacedEvent({ namespace: this.namespace })).items.map(
      (event) => `${event.reason}: ${event.message}`,
    );
  }
}

/** The test node's address for servers the pods must reach. */
export const podHostAddress = (): string => inject('podHostAddress');
