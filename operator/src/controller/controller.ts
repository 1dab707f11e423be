import {
  AppsV1Api,
  AutoscalingV2Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type V1Deployment,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { GROUP, KIND, PLURAL, VERSION, type WorkerPool } from '../api/workerpool-schema.ts';
import type { Logger } from '../logger.ts';
import type { LoopWatchdog } from '../loop-watchdog.ts';
import type { OperatorMetrics } from '../metrics.ts';
import { trimDeployment, trimPool } from './cache-trim.ts';
import { ResilientInformer } from './informer.ts';
import { apiMessage } from './kube-errors.ts';
import type { Reconciler } from './reconciler.ts';
import { targetDeploymentName } from './scale-target.ts';
import { RateLimiter, WorkQueue, type Priority, type RateLimiterOptions } from './work-queue.ts';

/**
 * Hears of every pool the informer delivers before the reconcile it causes is queued: the
 * autoscaler decides a new spec here, so that the reconcile finds the decision in its store.
 */
export interface PoolObserver {
  poolChanged(pool: WorkerPool): void;
  poolDeleted(namespace: string, name: string): void;
}

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  namespace: string | undefined;
  reconcileWorkers: number;
  resyncMs?: number;
  /** The work queue's retry backoff; client-go's defaults when omitted. */
  rateLimits?: RateLimiterOptions;
  logger: Logger;
  metrics: OperatorMetrics;
  watchdog?: LoopWatchdog;
}

/** A reconcile that runs longer than this is stuck (a hung API request): liveness then fails. */
const RECONCILE_STUCK_MS = 120_000;

const keyOf = (namespace: string | undefined, name: string | undefined) => `${namespace ?? ''}/${name ?? ''}`;

/**
 * Watches WorkerPools and Deployments and feeds a de-duplicating work queue that a fixed number
 * of reconcile loops drain. A Deployment event wakes the pool that owns it (template mode) or
 * names it in scaleTargetRef, so a hand edit is put back at once.
 */
export class Controller {
  readonly pools: ResilientInformer<WorkerPool>;
  readonly deployments: ResilientInformer<V1Deployment>;
  /** HorizontalPodAutoscalers: a scaleTargetRef Deployment one of them drives is not ours to scale. */
  readonly autoscalers: ResilientInformer<V2HorizontalPodAutoscaler>;
  readonly queue: WorkQueue;
  readonly #options: ControllerOptions;
  #reconciler: Reconciler | undefined;
  #observer: PoolObserver | undefined;
  #loops: Promise<void>[] = [];
  readonly #seenGenerations = new Map<string, number | undefined>();

  constructor(options: ControllerOptions) {
    this.#options = options;
    this.queue = new WorkQueue(new RateLimiter(options.rateLimits));
    const { kubeConfig, namespace, logger } = options;
    const custom = kubeConfig.makeApiClient(CustomObjectsApi);
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const autoscaling = kubeConfig.makeApiClient(AutoscalingV2Api);
    const scope = namespace ? `/namespaces/${namespace}` : '';
    const resyncMs = options.resyncMs ?? 10 * 60_000;
    this.pools = new ResilientInformer<WorkerPool>({
      name: 'workerpools',
      kubeConfig,
      path: `/apis/${GROUP}/${VERSION}${scope}/${PLURAL}`,
      list: async (page) =>
        (namespace
          ? await custom.listNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              plural: PLURAL,
              namespace,
              ...page,
            })
          : await custom.listClusterCustomObject({
              group: GROUP,
              version: VERSION,
              plural: PLURAL,
              ...page,
            })) as KubernetesListObject<WorkerPool>,
      trim: trimPool,
      onChange: (pool) => this.#poolChanged(pool),
      onDelete: (pool) => {
        this.#seenGenerations.delete(keyOf(pool.metadata?.namespace, pool.metadata?.name));
        this.#observer?.poolDeleted(pool.metadata?.namespace ?? '', pool.metadata?.name ?? '');
        this.enqueue(pool.metadata?.namespace, pool.metadata?.name);
        // A pool that named the same Deployment may now be the one to scale it.
        this.#wakePoolsTargeting(pool.metadata?.namespace, pool.spec?.scaleTargetRef?.name ?? pool.metadata?.name);
      },
      onResync: (pool) => this.enqueue(pool.metadata?.namespace, pool.metadata?.name, 'low'),
      resyncMs,
      onRelist: () => options.metrics.informerRelists.inc({ informer: 'workerpools' }),
      onResumed: () => this.#retryEveryPool(),
      logger,
    });
    // All Deployments in scope, not only owned ones: a scaleTargetRef Deployment carries no label of ours.
    this.deployments = new ResilientInformer<V1Deployment>({
      name: 'deployments',
      kubeConfig,
      path: `/apis/apps/v1${scope}/deployments`,
      list: (page) =>
        namespace ? apps.listNamespacedDeployment({ namespace, ...page }) : apps.listDeploymentForAllNamespaces(page),
      trim: trimDeployment,
      onChange: (deployment) => this.#wakePoolsOf(deployment),
      onDelete: (deployment) => this.#wakePoolsOf(deployment),
      onRelist: () => options.metrics.informerRelists.inc({ informer: 'deployments' }),
      onResumed: () => this.#retryEveryPool(),
      logger,
    });
    const wakeTargetOf = (autoscaler: V2HorizontalPodAutoscaler) => {
      const target = autoscaler.spec?.scaleTargetRef;
      if (target?.kind === 'Deployment') this.#wakePoolsTargeting(autoscaler.metadata?.namespace, target.name);
    };
    this.autoscalers = new ResilientInformer<V2HorizontalPodAutoscaler>({
      name: 'horizontalpodautoscalers',
      kubeConfig,
      path: `/apis/autoscaling/v2${scope}/horizontalpodautoscalers`,
      list: (page) =>
        namespace
          ? autoscaling.listNamespacedHorizontalPodAutoscaler({ namespace, ...page })
          : autoscaling.listHorizontalPodAutoscalerForAllNamespaces(page),
      onChange: wakeTargetOf,
      onDelete: wakeTargetOf,
      onRelist: () => options.metrics.informerRelists.inc({ informer: 'horizontalpodautoscalers' }),
      logger,
    });
  }

  /** Set before start(), so that no pool the first list delivers goes unseen. */
  observePools(observer: PoolObserver): void {
    this.#observer = observer;
  }

  enqueue(namespace: string | undefined, name: string | undefined, priority: Priority = 'normal'): void {
    this.queue.add(keyOf(namespace, name), priority);
    this.#options.metrics.workQueueDepth.set(this.queue.length);
  }

  /**
   * Only a new generation (a spec edit, kubectl scale) is work: an update that changed status
   * alone is almost always our own write coming back, and reconciling it again would double the
   * traffic. Resyncs and deletions are always work.
   */
  #poolChanged(pool: WorkerPool): void {
    const key = keyOf(pool.metadata?.namespace, pool.metadata?.name);
    try {
      this.#observer?.poolChanged(pool);
    } catch (error) {
      // One pool's spec must not take the informer, and every other team's pools, down with it:
      // this pool has no decision, so its reconciles fail and retry with backoff, and say why.
      this.#options.logger.error({ pool: key, err: String(error) }, 'the autoscaler could not take the pool');
    }
    const generation = pool.metadata?.generation;
    if (this.#seenGenerations.has(key) && this.#seenGenerations.get(key) === generation) return;
    this.#seenGenerations.set(key, generation);
    this.enqueue(pool.metadata?.namespace, pool.metadata?.name);
    // A pool that names a Deployment may take it from, or leave it to, another pool (scale-target.ts).
    this.#wakePoolsTargeting(pool.metadata?.namespace, targetDeploymentName(pool));
  }

  /**
   * The API server is back: every pool is reconciled soon, its backoff forgotten. A pool whose
   * reconciles failed all through a long outage has backed off towards minutes, and a re-list
   * brings no event for a pool that did not change, so without this it would wait out its backoff
   * (the 30 s promise of docs/failure-modes.md). Low priority: a scale-up still goes first, and a
   * pool with nothing to do costs a pass over caches, no API request.
   */
  #retryEveryPool(): void {
    for (const pool of this.pools.list()) {
      this.queue.retryNow(keyOf(pool.metadata?.namespace, pool.metadata?.name), 'low');
    }
    this.#options.metrics.workQueueDepth.set(this.queue.length);
  }

  #wakePoolsOf(deployment: V1Deployment): void {
    const namespace = deployment.metadata?.namespace;
    const owner = deployment.metadata?.ownerReferences?.find(
      (ref) => ref.controller && ref.kind === KIND && ref.apiVersion.startsWith(`${GROUP}/`),
    );
    if (owner) {
      this.enqueue(namespace, owner.name);
      return;
    }
    this.#wakePoolsTargeting(namespace, deployment.metadata?.name);
  }

  #wakePoolsTargeting(namespace: string | undefined, deploymentName: string | undefined): void {
    for (const pool of this.pools.list(namespace)) {
      if (targetDeploymentName(pool) === deploymentName) this.enqueue(namespace, pool.metadata.name);
    }
  }

  async start(reconciler: Reconciler): Promise<void> {
    this.#reconciler = reconciler;
    await Promise.all([this.pools.start(), this.deployments.start(), this.autoscalers.start()]);
    for (let i = 0; i < this.#options.reconcileWorkers; i++) this.#loops.push(this.#runLoop(i));
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await Promise.all([this.pools.stop(), this.deployments.stop(), this.autoscalers.stop()]);
    await Promise.all(this.#loops);
  }

  async #runLoop(index: number): Promise<void> {
    const { logger, metrics, watchdog } = this.#options;
    const loop = `reconcile loop ${index}`;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      watchdog?.expect(loop, RECONCILE_STUCK_MS);
      metrics.workQueueDepth.set(this.queue.length);
      const [namespace = '', name = ''] = key.split('/');
      const stopTimer = metrics.reconcileDuration.startTimer();
      try {
        const outcome = (await this.#reconciler?.reconcile(namespace, name)) ?? {};
        this.queue.forget(key);
        if (outcome.requeueAfterMs !== undefined) this.queue.addAfter(key, outcome.requeueAfterMs);
        metrics.reconcileTotal.inc({ result: 'success' });
        stopTimer({ result: 'success' });
      } catch (error) {
        metrics.reconcileTotal.inc({ result: 'error' });
        metrics.reconcileErrors.inc({ reason: error instanceof Error ? error.name : 'unknown' });
        stopTimer({ result: 'error' });
        logger.error(
          { pool: key, err: apiMessage(error), retries: this.queue.retries(key) },
          'reconcile failed; retrying with backoff',
        );
        this.queue.addRateLimited(key);
      } finally {
        watchdog?.done(loop);
        this.queue.done(key);
      }
    }
  }
}
