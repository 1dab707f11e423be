import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type KubeConfig,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import {
  GROUP,
  PLURAL,
  VERSION,
  type WorkerPool,
  type WorkerPoolStatus,
  API_VERSION,
  KIND,
} from '../api/workerpool-schema.ts';
import type { OperatorMetrics } from '../metrics.ts';
import { trimPool } from './cache-trim.ts';
import { stripManagedFields } from './informer.ts';
import { isNotFound } from './kube-errors.ts';
import { FIELD_MANAGER } from './labels.ts';
import { withSignal } from './request-signal.ts';

const serverSideApply = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Read by the ReplicaSet controller: among otherwise equal pods, the lowest cost is removed first. */
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

/** What a person sees in `kubectl describe`. */
export interface PoolEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/**
 * The handful of API calls the reconciler makes. Writes go through server-side apply with the
 * operator's field manager, so that the operator owns exactly the fields it sets and nothing else.
 */
export class KubeClient {
  readonly #apps: AppsV1Api;
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;
  readonly #metrics: OperatorMetrics;
  readonly #reporter: string;
  readonly #fence = new AbortController();

  constructor(kubeConfig: KubeConfig, metrics: OperatorMetrics, reporter: string) {
    this.#apps = kubeConfig.makeApiClient(AppsV1Api);
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.#metrics = metrics;
    this.#reporter = reporter;
  }

  /**
   * Abandons every request in flight and refuses every later one. Called when leadership is lost,
   * before a standby may take over: a write still waiting on a stalled connection must not reach
   * the API server after the new leader's first.
   */
  fence(): void {
    this.#fence.abort(new Error('this replica lost leadership: its API requests were abandoned'));
  }

  #options(options?: Parameters<typeof withSignal>[1]) {
    // A signal of its own per request: undici keeps a listener on the signal it is given until the
    // request is collected, and the fence lives as long as the process.
    return withSignal(AbortSignal.any([this.#fence.signal]), options);
  }

  async getDeployment(namespace: string, name: string): Promise<V1Deployment | undefined> {
    try {
      return await this.#apps.readNamespacedDeployment({ namespace, name }, this.#options());
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async applyDeployment(deployment: V1Deployment): Promise<V1Deployment> {
    this.#metrics.apiWrites.inc({ kind: 'Deployment', verb: 'apply' });
    return this.#apps.patchNamespacedDeployment(
      {
        namespace: deployment.metadata?.namespace ?? '',
        name: deployment.metadata?.name ?? '',
        body: deployment,
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      this.#options(serverSideApply),
    );
  }

  /** Returns the pool as the API server stored it, without managedFields (the reconciler keeps it until the cache catches up). */
  async applyStatus(pool: WorkerPool, status: WorkerPoolStatus): Promise<WorkerPool> {
    this.#metrics.apiWrites.inc({ kind: KIND, verb: 'apply-status' });
    const body = {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name: pool.metadata.name, namespace: pool.metadata.namespace },
      status,
    };
    const stored = (await this.#custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: pool.metadata.namespace ?? '',
        name: pool.metadata.name ?? '',
        body,
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      this.#options(serverSideApply),
    )) as WorkerPool;
    stripManagedFields(stored);
    // The reconciler keeps this copy until the informer's catches up: trimmed like the cache's.
    trimPool(stored, pool);
    return stored;
  }

  async listPods(namespace: string, matchLabels: Record<string, string>): Promise<V1Pod[]> {
    const labelSelector = Object.entries(matchLabels)
      .map(([key, value]) => `${key}=${value}`)
      .join(',');
    return (await this.#core.listNamespacedPod({ namespace, labelSelector }, this.#options())).items;
  }

  /** A merge patch of one annotation: the pod's spec and every other field stay untouched. */
  async setPodDeletionCost(namespace: string, name: string, cost: number): Promise<void> {
    this.#metrics.apiWrites.inc({ kind: 'Pod', verb: 'patch' });
    await this.#core.patchNamespacedPod(
      { namespace, name, body: { metadata: { annotations: { [POD_DELETION_COST]: String(cost) } } } },
      this.#options(mergePatch),
    );
  }

  async readSecretValue(namespace: string, name: string, key: string): Promise<string | undefined> {
    this.#metrics.secretReads.inc();
    try {
      const secret = await this.#core.readNamespacedSecret({ namespace, name }, this.#options());
      const encoded = secret.data?.[key];
      return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async recordEvent(pool: WorkerPool, event: PoolEvent): Promise<void> {
    this.#metrics.apiWrites.inc({ kind: 'Event', verb: 'create' });
    const now = new Date();
    const body: CoreV1Event = {
      metadata: { generateName: `${pool.metadata.name ?? 'workerpool'}.`, namespace: pool.metadata.namespace ?? '' },
      involvedObject: {
        apiVersion: API_VERSION,
        kind: KIND,
        name: pool.metadata.name ?? '',
        namespace: pool.metadata.namespace ?? '',
        uid: pool.metadata.uid ?? '',
        resourceVersion: pool.metadata.resourceVersion ?? '',
      },
      type: event.type,
      reason: event.reason,
      message: event.message,
      source: { component: FIELD_MANAGER },
      reportingComponent: 'workerpool.dev/operator',
      reportingInstance: this.#reporter,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    await this.#core.createNamespacedEvent({ namespace: pool.metadata.namespace ?? '', body }, this.#options());
  }
}
