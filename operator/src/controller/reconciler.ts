import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import type { WorkerPool } from '../api/workerpool-schema.ts';
import type { Logger } from '../logger.ts';
import { ConditionType, Reason } from './conditions.ts';
import { buildReplicasOnlyApply, buildWorkerDeployment } from './desired-deployment.ts';
import type { KubeClient, PoolEvent } from './kube-client.ts';
import { apiMessage, httpStatus } from './kube-errors.ts';
import { serializeSelector, selectorLabels } from './labels.ts';
import type { ReplicaAdvisor } from './replica-advisor.ts';
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
  /** The informer's copy of a Deployment, so that an unchanged pool costs no API read. */
  cachedDeployment: (namespace: string, name: string) => V1Deployment | undefined;
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
 * Each step is a helper named for what it does.
 */
export class Reconciler {
  readonly #deps: ReconcilerDeps;

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileOutcome> {
    const { client, advisor } = this.#deps;
    const pool = await client.getWorkerPool(namespace, name);
    if (!pool) {
      advisor.forget(`${namespace}/${name}`);
      return {};
    }
    if (pool.metadata.deletionTimestamp) return {}; // the Deployment goes with its ownerReference
    const events: PoolEvent[] = [];
    const world = pool.spec.scaleTargetRef ? await this.#scaleTarget(pool, events) : await this.#ensureWorkerDeployment(pool, events);
    this.#signalEvents(pool, world, events);
    await this.#writeStatus(pool, world);
    await this.#record(pool, events);
    return world.blocker?.reason === Reason.ScaleTargetNotFound ? { requeueAfterMs: 30_000 } : {};
  }

  async #ensureWorkerDeployment(pool: WorkerPool, events: PoolEvent[]): Promise<ObservedWorld> {
    const namespace = pool.metadata.namespace ?? '';
    const name = pool.metadata.name ?? '';
    const live = this.#deps.cachedDeployment(namespace, name) ?? (await this.#deps.client.getDeployment(namespace, name));
    const decision = await this.#deps.advisor.decide(pool, live?.spec?.replicas);
    const desired = buildWorkerDeployment(pool, decision.replicas, this.#deps.workerEnv(pool));
    const selector = serializeSelector(selectorLabels(name));
    let deployment = live;
    if (!live || !isSubset(desired, live)) {
      try {
        deployment = await this.#deps.client.applyDeployment(desired);
      } catch (error) {
        return this.#rejected(error, { deployment: live, desiredReplicas: decision.replicas, selector }, events);
      }
      events.push(describeApply(live, deployment, decision.reason));
    }
    return { deployment, desiredReplicas: decision.replicas, selector, ...this.#scaleRecord(live, deployment, decision.reason), ...this.#deps.advisor.observe(pool) };
  }

  async #scaleTarget(pool: WorkerPool, events: PoolEvent[]): Promise<ObservedWorld> {
    const namespace = pool.metadata.namespace ?? '';
    const targetName = pool.spec.scaleTargetRef?.name ?? '';
    const live = this.#deps.cachedDeployment(namespace, targetName) ?? (await this.#deps.client.getDeployment(namespace, targetName));
    const observed = this.#deps.advisor.observe(pool);
    if (!live) {
      const message = `Deployment ${namespace}/${targetName} named in spec.scaleTargetRef does not exist`;
      if (pool.status?.conditions?.find((c) => c.type === 'Stalled')?.reason !== Reason.ScaleTargetNotFound) {
        events.push({ type: 'Warning', reason: EventReason.ScaleTargetNotFound, message });
      }
      return { deployment: undefined, desiredReplicas: pool.status?.desiredReplicas ?? 0, selector: undefined, blocker: { reason: Reason.ScaleTargetNotFound, message }, ...observed };
    }
    const decision = await this.#deps.advisor.decide(pool, live.spec?.replicas);
    const matchLabels = live.spec?.selector?.matchLabels;
    const selector = matchLabels ? serializeSelector(matchLabels) : undefined;
    let deployment = live;
    if (live.spec?.replicas !== decision.replicas) {
      try {
        deployment = await this.#deps.client.applyDeployment(buildReplicasOnlyApply(namespace, targetName, decision.replicas));
      } catch (error) {
        return this.#rejected(error, { deployment: live, desiredReplicas: decision.replicas, selector }, events);
      }
      events.push(describeApply(live, deployment, decision.reason));
    }
    return { deployment, desiredReplicas: decision.replicas, selector, ...this.#scaleRecord(live, deployment, decision.reason), ...observed };
  }

  /** A 4xx from the API server means the spec itself is wrong: stall, say why, and retry only on change. */
  #rejected(error: unknown, world: ObservedWorld, events: PoolEvent[]): ObservedWorld {
    const status = httpStatus(error);
    if (status === undefined || status >= 500 || status === 409 || status === 429) throw error;
    const message = `the API server rejected the Deployment: ${apiMessage(error)}`;
    events.push({ type: 'Warning', reason: EventReason.ApplyRejected, message });
    return { ...world, blocker: { reason: Reason.ApplyRejected, message } };
  }

  #scaleRecord(before: V1Deployment | undefined, after: V1Deployment | undefined, reason: string | undefined): Pick<ObservedWorld, 'lastScale'> {
    const from = before?.spec?.replicas;
    const to = after?.spec?.replicas;
    if (from === undefined || to === undefined || from === to) return {};
    return { lastScale: { time: (this.#deps.now?.() ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'), reason: reason ?? `${from} -> ${to}` } };
  }

  /** People hear once when signals stop being readable, not on every failed poll. */
  #signalEvents(pool: WorkerPool, world: ObservedWorld, events: PoolEvent[]): void {
    const before = pool.status?.conditions?.find((c) => c.type === ConditionType.SignalsAvailable);
    if (world.signals?.status === 'False' && before?.status !== 'False') {
      events.push({ type: 'Warning', reason: world.signals.reason, message: world.signals.message });
    }
  }

  async #writeStatus(pool: WorkerPool, world: ObservedWorld): Promise<void> {
    const status = buildStatus(pool, world, this.#deps.now?.() ?? new Date());
    if (statusChanged(pool.status, status)) await this.#deps.client.applyStatus(pool, status);
  }

  async #record(pool: WorkerPool, events: PoolEvent[]): Promise<void> {
    for (const event of events) {
      try {
        await this.#deps.client.recordEvent(pool, event);
      } catch (error) {
        // An event is a courtesy to people; failing to write one must not fail the reconcile.
        this.#deps.logger.warn({ pool: `${pool.metadata.namespace}/${pool.metadata.name}`, reason: event.reason, err: apiMessage(error) }, 'could not record event');
      }
    }
  }
}

function describeApply(before: V1Deployment | undefined, after: V1Deployment | undefined, reason: string | undefined): PoolEvent {
  const name = after?.metadata?.name ?? '';
  if (!before) return { type: 'Normal', reason: EventReason.DeploymentCreated, message: `Created Deployment ${name} with ${after?.spec?.replicas ?? 0} replicas` };
  const from = before.spec?.replicas;
  const to = after?.spec?.replicas;
  if (from !== to) return { type: 'Normal', reason: EventReason.SuccessfulRescale, message: `Scaled Deployment ${name} from ${from ?? 0} to ${to ?? 0} replicas${reason ? `: ${reason}` : ''}` };
  return { type: 'Normal', reason: EventReason.DeploymentUpdated, message: `Updated Deployment ${name} to match the WorkerPool` };
}
