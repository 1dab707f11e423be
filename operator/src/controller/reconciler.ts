import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import type { WorkerPool, WorkerPoolStatus } from '../api/workerpool-schema.ts';
import type { Logger } from '../logger.ts';
import { POD_DELETION_COST, type KubeClient, type PoolEvent } from './kube-client.ts';
import { boundedAll } from './bounded-all.ts';
import { drainedScaleDown } from './drained-scale-down.ts';
import { apiMessage, httpStatus } from './kube-errors.ts';
import { oversizedTemplate, withTemplate } from './packed-template.ts';
import { planDeployment, planStatus, scalesDown, type DeploymentPlan } from './reconcile-plan.ts';
import type { PoolScaleView, ScaleDecisions } from './scale-decisions.ts';
import { targetDeploymentName, type DeploymentOf } from './scale-target.ts';

export { EventReason } from './reconcile-plan.ts';

export interface ReconcilerDeps {
  client: KubeClient;
  /** Where the autoscaler leaves each pool's latest decision: read, never asked to decide. */
  decisions: ScaleDecisions;
  /** The informer's copy of a WorkerPool: a reconcile reads no pool from the API. */
  cachedPool: (namespace: string, name: string) => WorkerPool | undefined;
  /** The informer's copy of the pool's Deployment (see scale-target.ts). */
  deploymentOf: DeploymentOf;
  /** Who else drives a scaleTargetRef pool's Deployment, from the informer caches (scale-target.ts). */
  scaleTargetClaim: (pool: WorkerPool) => string | undefined;
  /** Variables the operator adds to the first worker container (queue connection settings). */
  workerEnv: (pool: WorkerPool) => V1Container['env'];
  logger: Logger;
  now?: () => Date;
}

export interface ReconcileOutcome {
  /** Ask to be called again after this long even if nothing changes (e.g. a missing target). */
  requeueAfterMs?: number;
}

/** A scaleTargetRef Deployment that does not exist yet is looked for again this often. */
const MISSING_TARGET_RETRY_MS = 30_000;
/** A Deployment the API server refused is sent again after this long, doubling up to the cap, until the spec changes. */
const REJECTED_RETRY_MS = 30_000;
const REJECTED_RETRY_CAP_MS = 10 * 60_000;
/** Pod deletion costs patched at once before a scale-down: quick for a large pool, gentle on the API server. */
const POD_PATCH_CONCURRENCY = 8;
/** A drained scale-down held for a pod that is not ready yet is looked at again this soon. */
const DRAIN_HOLD_RETRY_MS = 2_000;

/**
 * One pass over one WorkerPool, as a short script: fetch the pool and its Deployment, plan (pure,
 * reconcile-plan.ts), apply, then write status once and record the Events. Everything is read from
 * the informer caches and the decision store: a pass that changes nothing sends nothing to the API.
 */
export class Reconciler {
  readonly #deps: ReconcilerDeps;
  readonly #ownWrites = new OwnStatusWrites();
  readonly #rejections = new Rejections();

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileOutcome> {
    const key = `${namespace}/${name}`;
    const pool = this.#ownWrites.latest(key, this.#deps.cachedPool(namespace, name));
    if (!pool || pool.metadata.deletionTimestamp) {
      this.#rejections.forget(key);
      return {}; // a deleted pool's Deployment goes with its ownerReference
    }
    // The autoscaler decides a pool's spec as the informer delivers it, before this pass could read it.
    const scale = this.#deps.decisions.read(key);
    if (!scale) throw new Error(`no scale decision for ${key} yet`);
    const live = await this.#liveDeployment(pool);
    const now = this.#deps.now?.() ?? new Date();
    const held = this.#rejections.held(key, pool.metadata.generation, now.getTime());
    // The caches hold templates packed; this pass unpacks the two it compares, and lets them go.
    const templateTooLarge = oversizedTemplate(pool.spec.template);
    const whole = templateTooLarge === undefined ? withTemplate(pool) : pool;
    const planFor = (view: PoolScaleView) =>
      planDeployment({
        pool: whole,
        live: templateTooLarge === undefined ? live && withTemplate(live) : live,
        scale: view,
        workerEnv: this.#deps.workerEnv(whole),
        heldRejection: held,
        claimedBy: this.#deps.scaleTargetClaim(pool),
        templateTooLarge,
      });
    let plan = planFor(scale);
    let drainHold: string | undefined;
    if (scale.drain && scalesDown(plan, live)) {
      // Drain before delete: replicas go down only when the ReplicaSet will take the drained pods.
      const liveReplicas = live?.spec?.replicas ?? 0;
      drainHold = await this.#prepareDrainedScaleDown(pool, live, scale);
      if (drainHold !== undefined) plan = planFor({ ...scale, replicas: liveReplicas });
    }
    const { after, rejection } = await this.#applyDeployment(pool, live, plan, scale);
    if (rejection !== undefined) this.#rejections.refused(key, pool.metadata.generation, rejection, now.getTime());
    else if (plan.apply) this.#rejections.forget(key);
    const { status, events } = planStatus({ pool, scale, plan, before: live, after, rejection, drainHold, now });
    try {
      if (status) await this.#writeStatus(key, pool, status);
    } finally {
      // A failed status write is retried, but the retry finds the Deployment already changed:
      // the Event of this change is recorded now or never.
      await this.#record(pool, events);
    }
    if (plan.missingTarget) return { requeueAfterMs: MISSING_TARGET_RETRY_MS };
    if (drainHold !== undefined) return { requeueAfterMs: DRAIN_HOLD_RETRY_MS };
    const retryInMs = this.#rejections.retryInMs(key, now.getTime());
    return retryInMs === undefined ? {} : { requeueAfterMs: retryInMs };
  }

  async #liveDeployment(pool: WorkerPool): Promise<V1Deployment | undefined> {
    return (
      this.#deps.deploymentOf(pool) ??
      (await this.#deps.client.getDeployment(pool.metadata.namespace ?? '', targetDeploymentName(pool)))
    );
  }

  /**
   * Applies the plan. A 4xx from the API server means the spec itself is wrong: it is returned as
   * a rejection (status stalls and says why; a retry comes only with a change). Anything else
   * (5xx, conflicts, throttling) is thrown, for the work queue's retry with backoff.
   */
  async #applyDeployment(
    pool: WorkerPool,
    live: V1Deployment | undefined,
    plan: DeploymentPlan,
    scale: PoolScaleView,
  ): Promise<{ after: V1Deployment | undefined; rejection: string | undefined }> {
    if (!plan.apply) return { after: live, rejection: undefined };
    // A drained scale-down set its pods' costs already (#prepareDrainedScaleDown).
    if (scalesDown(plan, live) && !scale.drain) await this.#spareBusyPods(pool, live, scale);
    try {
      return { after: await this.#deps.client.applyDeployment(plan.apply), rejection: undefined };
    } catch (error) {
      const status = httpStatus(error);
      if (status === undefined || status >= 500 || status === 409 || status === 429) throw error;
      return { after: live, rejection: apiMessage(error) };
    }
  }

  /**
   * Sets the drained pods' deletion cost to the lowest there is (the rest to their busy counts),
   * when lowering replicas takes only drained pods (drained-scale-down.ts). Returns why the
   * scale-down must wait (a pod that is not ready would be taken first), or undefined.
   */
  async #prepareDrainedScaleDown(
    pool: WorkerPool,
    live: V1Deployment | undefined,
    scale: PoolScaleView,
  ): Promise<string | undefined> {
    const matchLabels = live?.spec?.selector?.matchLabels;
    if (!scale.drain || !matchLabels) return 'the Deployment has no matchLabels selector to find its pods by';
    const namespace = pool.metadata.namespace ?? '';
    const pods = await this.#deps.client.listPods(namespace, matchLabels);
    const { hold, costs } = drainedScaleDown(pods, scale.drain, scale.replicas, scale.busyByPod);
    if (hold !== undefined) {
      this.#deps.logger.info({ pool: `${namespace}/${pool.metadata.name}`, hold }, 'drained scale-down waits');
      return hold;
    }
    const stale = pods.filter((pod) => {
      const name = pod.metadata?.name ?? '';
      return costs.has(name) && pod.metadata?.annotations?.[POD_DELETION_COST] !== String(costs.get(name));
    });
    await boundedAll(stale, POD_PATCH_CONCURRENCY, (pod) => {
      const name = pod.metadata?.name ?? '';
      return this.#deps.client.setPodDeletionCost(namespace, name, costs.get(name) ?? 0);
    });
    return undefined;
  }

  /**
   * Before replicas go down, each pod's deletion cost is set to the jobs it runs, so that the
   * ReplicaSet controller removes idle pods first and no running job is cut short. Only formats
   * whose heartbeats name pods can do this; the IdleFirstScaleDown condition says which.
   */
  async #spareBusyPods(pool: WorkerPool, live: V1Deployment | undefined, scale: PoolScaleView): Promise<void> {
    const matchLabels = live?.spec?.selector?.matchLabels;
    if (!scale.busyByPod || !matchLabels) return;
    const namespace = pool.metadata.namespace ?? '';
    const busyByPod = scale.busyByPod;
    const pods = (await this.#deps.client.listPods(namespace, matchLabels)).filter(
      (pod) =>
        !pod.metadata?.deletionTimestamp &&
        pod.metadata?.annotations?.[POD_DELETION_COST] !== String(busyByPod.get(pod.metadata?.name ?? '') ?? 0),
    );
    await boundedAll(pods, POD_PATCH_CONCURRENCY, (pod) => {
      const name = pod.metadata?.name ?? '';
      return this.#deps.client.setPodDeletionCost(namespace, name, busyByPod.get(name) ?? 0);
    });
  }

  async #writeStatus(key: string, pool: WorkerPool, status: WorkerPoolStatus): Promise<void> {
    this.#ownWrites.wrote(key, pool, await this.#deps.client.applyStatus(pool, status));
  }

  async #record(pool: WorkerPool, events: PoolEvent[]): Promise<void> {
    for (const event of events) {
      try {
        await this.#deps.client.recordEvent(pool, event);
      } catch (error) {
        // An event is a courtesy to people; failing to write one must not fail the reconcile.
        this.#deps.logger.warn(
          { pool: `${pool.metadata.namespace}/${pool.metadata.name}`, reason: event.reason, err: apiMessage(error) },
          'could not record event',
        );
      }
    }
  }
}

/**
 * Read-your-writes over the informer cache: the cache lags the status this replica just wrote, and
 * a pass that read the older copy would write the same status again. Until the cache moves past
 * the version a write was based on, the pool that write returned is the latest.
 */
class OwnStatusWrites {
  readonly #written = new Map<string, { basedOn: string | undefined; pool: WorkerPool }>();

  latest(key: string, cached: WorkerPool | undefined): WorkerPool | undefined {
    const written = this.#written.get(key);
    if (!cached || !written) {
      if (!cached) this.#written.delete(key);
      return cached;
    }
    if (written.basedOn === cached.metadata.resourceVersion) return written.pool;
    this.#written.delete(key);
    return cached;
  }

  wrote(key: string, basedOn: WorkerPool, returned: WorkerPool): void {
    this.#written.set(key, { basedOn: basedOn.metadata.resourceVersion, pool: returned });
  }
}

/**
 * Deployments the API server refused (a 4xx: the spec itself is wrong), by pool. The same
 * generation would be refused again, so it is re-sent only with backoff, and at once when the
 * pool's spec changes (a new generation).
 */
class Rejections {
  readonly #byKey = new Map<
    string,
    { generation: number | undefined; message: string; retryAtMs: number; delayMs: number }
  >();

  /** The refusal's message while this generation's retry is not due; undefined when it may be sent. */
  held(key: string, generation: number | undefined, nowMs: number): string | undefined {
    const rejection = this.#byKey.get(key);
    if (!rejection) return undefined;
    if (rejection.generation !== generation) {
      this.#byKey.delete(key);
      return undefined;
    }
    return nowMs < rejection.retryAtMs ? rejection.message : undefined;
  }

  refused(key: string, generation: number | undefined, message: string, nowMs: number): void {
    const previous = this.#byKey.get(key);
    const delayMs =
      previous && previous.generation === generation
        ? Math.min(previous.delayMs * 2, REJECTED_RETRY_CAP_MS)
        : REJECTED_RETRY_MS;
    this.#byKey.set(key, { generation, message, retryAtMs: nowMs + delayMs, delayMs });
  }

  retryInMs(key: string, nowMs: number): number | undefined {
    const rejection = this.#byKey.get(key);
    return rejection ? Math.max(0, rejection.retryAtMs - nowMs) : undefined;
  }

  forget(key: string): void {
    this.#byKey.delete(key);
  }
}
