import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import type { WorkerPool } from '../api/workerpool-schema.ts';
import type { Logger } from '../logger.ts';
import { ConditionType, Reason } from './conditions.ts';
import { buildReplicasOnlyApply, buildWorkerDeployment } from './desired-deployment.ts';
import { POD_DELETION_COST, type KubeClient, type PoolEvent } from './kube-client.ts';
import { apiMessage, httpStatus } from './kube-errors.ts';
import { serializeSelector, selectorLabels } from './labels.ts';
import type { PoolScaleView, ReplicaAdvisor } from './replica-advisor.ts';
import { targetDeploymentName, type DeploymentOf } from './scale-target.ts';
import { buildStatus, statusChanged, type ObservedWorld } from './status.ts';
import { isSubset } from './subset.ts';

export const EventReason = {
  DeploymentCreated: 'DeploymentCreated',
  DeploymentUpdated: 'DeploymentUpdated',
  SuccessfulRescale: 'SuccessfulRescale',
  ScaleTargetNotFound: 'ScaleTargetNotFound',
  ApplyRejected: 'ApplyRejected',
} as const;

export interface ReconcilerDeps {
  client: KubeClient;
  advisor: ReplicaAdvisor;
  /** The informer's copy of a WorkerPool: a reconcile reads no pool from the API. */
  cachedPool: (namespace: string, name: string) => WorkerPool | undefined;
  /** The informer's copy of the pool's Deployment (see scale-target.ts). */
  deploymentOf: DeploymentOf;
  /** Variables the operator adds to the first worker container (queue connection settings). */
  workerEnv: (pool: WorkerPool) => V1Container['env'];
  logger: Logger;
  now?: () => Date;
}

export interface ReconcileOutcome {
  /** Ask to be called again after this long even if nothing changes (e.g. a missing target). */
  requeueAfterMs?: number;
}

/**
 * One pass over one WorkerPool: read it, make the Deployment match, then write status once.
 * Each step is a helper named for what it does. Everything is read from the informer caches and
 * from the autoscaler's latest decision: a pass that changes nothing sends nothing to the API.
 */
export class Reconciler {
  readonly #deps: ReconcilerDeps;
  /** Status this replica wrote, until the informer delivers it: the cache lags our own writes. */
  readonly #written = new Map<string, { basedOn: string | undefined; pool: WorkerPool }>();

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileOutcome> {
    const pool = this.#latest(namespace, name);
    if (!pool) {
      this.#deps.advisor.forget(`${namespace}/${name}`);
      this.#written.delete(`${namespace}/${name}`);
      return {};
    }
    if (pool.metadata.deletionTimestamp) return {}; // the Deployment goes with its ownerReference
    const events: PoolEvent[] = [];
    const world = pool.spec.scaleTargetRef
      ? await this.#scaleTarget(pool, events)
      : await this.#ensureWorkerDeployment(pool, events);
    this.#signalEvents(pool, world, events);
    try {
      await this.#writeStatus(pool, world);
    } finally {
      // A failed status write is retried, but the retry finds the Deployment already changed:
      // the Event of this change is recorded now or never.
      await this.#record(pool, events);
    }
    return world.blocker?.reason === Reason.ScaleTargetNotFound ? { requeueAfterMs: 30_000 } : {};
  }

  /** The cached pool, or the one our last status write returned while the cache has not caught up. */
  #latest(namespace: string, name: string): WorkerPool | undefined {
    const key = `${namespace}/${name}`;
    const cached = this.#deps.cachedPool(namespace, name);
    const written = this.#written.get(key);
    if (!cached || !written) return cached;
    if (written.basedOn === cached.metadata.resourceVersion) return written.pool;
    this.#written.delete(key);
    return cached;
  }

  async #liveDeployment(pool: WorkerPool): Promise<V1Deployment | undefined> {
    return (
      this.#deps.deploymentOf(pool) ??
      (await this.#deps.client.getDeployment(pool.metadata.namespace ?? '', targetDeploymentName(pool)))
    );
  }

  async #ensureWorkerDeployment(pool: WorkerPool, events: PoolEvent[]): Promise<ObservedWorld> {
    const name = pool.metadata.name ?? '';
    const live = await this.#liveDeployment(pool);
    const view = this.#deps.advisor.view(pool, live);
    const desired = buildWorkerDeployment(pool, view.replicas, this.#deps.workerEnv(pool));
    const selector = serializeSelector(selectorLabels(name));
    const observed = observedOf(view, selector);
    let deployment = live;
    if (!live || !isSubset(desired, live)) {
      await this.#spareBusyPods(pool, live, view);
      try {
        deployment = await this.#deps.client.applyDeployment(desired);
      } catch (error) {
        return this.#rejected(error, { ...observed, deployment: live }, events);
      }
      events.push(describeApply(live, deployment, view.reason));
    }
    return { ...observed, deployment, ...this.#scaleRecord(live, deployment, view.reason) };
  }

  async #scaleTarget(pool: WorkerPool, events: PoolEvent[]): Promise<ObservedWorld> {
    const namespace = pool.metadata.namespace ?? '';
    const targetName = targetDeploymentName(pool);
    const live = await this.#liveDeployment(pool);
    const view = this.#deps.advisor.view(pool, live);
    if (!live) {
      const message = `Deployment ${namespace}/${targetName} named in spec.scaleTargetRef does not exist`;
      if (pool.status?.conditions?.find((c) => c.type === 'Stalled')?.reason !== Reason.ScaleTargetNotFound) {
        events.push({ type: 'Warning', reason: EventReason.ScaleTargetNotFound, message });
      }
      return {
        ...observedOf(view, undefined),
        deployment: undefined,
        desiredReplicas: pool.status?.desiredReplicas ?? 0,
        blocker: { reason: Reason.ScaleTargetNotFound, message },
      };
    }
    const matchLabels = live.spec?.selector?.matchLabels;
    const observed = observedOf(view, matchLabels ? serializeSelector(matchLabels) : undefined);
    let deployment = live;
    if (live.spec?.replicas !== view.replicas) {
      await this.#spareBusyPods(pool, live, view);
      try {
        deployment = await this.#deps.client.applyDeployment(
          buildReplicasOnlyApply(namespace, targetName, view.replicas),
        );
      } catch (error) {
        return this.#rejected(error, { ...observed, deployment: live }, events);
      }
      events.push(describeApply(live, deployment, view.reason));
    }
    return { ...observed, deployment, ...this.#scaleRecord(live, deployment, view.reason) };
  }

  /**
   * Before replicas go down, each pod's deletion cost is set to the jobs it runs, so that the
   * ReplicaSet controller removes idle pods first and no running job is cut short. Only formats
   * whose heartbeats name pods can do this; the IdleFirstScaleDown condition says which.
   */
  async #spareBusyPods(pool: WorkerPool, live: V1Deployment | undefined, view: PoolScaleView): Promise<void> {
    const from = live?.spec?.replicas ?? 0;
    const matchLabels = live?.spec?.selector?.matchLabels;
    if (!live || view.replicas >= from || !view.busyByPod || !matchLabels) return;
    const namespace = pool.metadata.namespace ?? '';
    const pods = await this.#deps.client.listPods(namespace, matchLabels);
    for (const pod of pods) {
      const name = pod.metadata?.name ?? '';
      const cost = view.busyByPod.get(name) ?? 0;
      if (pod.metadata?.deletionTimestamp || pod.metadata?.annotations?.[POD_DELETION_COST] === String(cost)) continue;
      await this.#deps.client.setPodDeletionCost(namespace, name, cost);
    }
  }

  /** A 4xx from the API server means the spec itself is wrong: stall, say why, and retry only on change. */
  #rejected(error: unknown, world: ObservedWorld, events: PoolEvent[]): ObservedWorld {
    const status = httpStatus(error);
    if (status === undefined || status >= 500 || status === 409 || status === 429) throw error;
    const message = `the API server rejected the Deployment: ${apiMessage(error)}`;
    events.push({ type: 'Warning', reason: EventReason.ApplyRejected, message });
    return { ...world, blocker: { reason: Reason.ApplyRejected, message } };
  }

  #scaleRecord(
    before: V1Deployment | undefined,
    after: V1Deployment | undefined,
    reason: string | undefined,
  ): Pick<ObservedWorld, 'lastScale'> {
    const from = before?.spec?.replicas;
    const to = after?.spec?.replicas;
    if (from === undefined || to === undefined || from === to) return {};
    return {
      lastScale: {
        time: (this.#deps.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        reason: reason ?? `${from} -> ${to}`,
      },
    };
  }

  /** People hear once when signals stop being readable, not on every failed poll. */
  #signalEvents(pool: WorkerPool, world: ObservedWorld, events: PoolEvent[]): void {
    const before = pool.status?.conditions?.find((c) => c.type === ConditionType.SignalsAvailable);
    const now = world.conditions.find((c) => c.type === ConditionType.SignalsAvailable);
    if (now?.status === 'False' && before?.status !== 'False') {
      events.push({ type: 'Warning', reason: now.reason, message: now.message });
    }
  }

  async #writeStatus(pool: WorkerPool, world: ObservedWorld): Promise<void> {
    const status = buildStatus(pool, world, this.#deps.now?.() ?? new Date());
    if (!statusChanged(pool.status, status)) return;
    const updated = await this.#deps.client.applyStatus(pool, status);
    this.#written.set(`${pool.metadata.namespace ?? ''}/${pool.metadata.name ?? ''}`, {
      basedOn: pool.metadata.resourceVersion,
      pool: updated,
    });
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

function observedOf(view: PoolScaleView, selector: string | undefined): Omit<ObservedWorld, 'deployment'> {
  return {
    desiredReplicas: view.replicas,
    selector,
    conditions: view.conditions,
    ...(view.queue ? { queue: view.queue } : {}),
  };
}

function describeApply(
  before: V1Deployment | undefined,
  after: V1Deployment | undefined,
  reason: string | undefined,
): PoolEvent {
  const name = after?.metadata?.name ?? '';
  if (!before)
    return {
      type: 'Normal',
      reason: EventReason.DeploymentCreated,
      message: `Created Deployment ${name} with ${after?.spec?.replicas ?? 0} replicas`,
    };
  const from = before.spec?.replicas;
  const to = after?.spec?.replicas;
  if (from !== to)
    return {
      type: 'Normal',
      reason: EventReason.SuccessfulRescale,
      message: `Scaled Deployment ${name} from ${from ?? 0} to ${to ?? 0} replicas${reason ? `: ${reason}` : ''}`,
    };
  return {
    type: 'Normal',
    reason: EventReason.DeploymentUpdated,
    message: `Updated Deployment ${name} to match the WorkerPool`,
  };
}
