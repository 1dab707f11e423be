import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import type { WorkerPool, WorkerPoolStatus } from '../api/workerpool-schema.ts';
import { SCALE_REASONS } from '../scaling/index.ts';
import { ConditionType, Reason } from './conditions.ts';
import { buildReplicasOnlyApply, buildWorkerDeployment } from './desired-deployment.ts';
import type { PoolEvent } from './kube-client.ts';
import { serializeSelector, selectorLabels } from './labels.ts';
import type { PoolScaleView } from './scale-decisions.ts';
import { targetDeploymentName } from './scale-target.ts';
import { buildStatus, statusChanged, type ObservedWorld } from './status.ts';
import { isSubset } from './subset.ts';

// The decisions of one reconcile, as pure functions of what it read: which Deployment to apply
// (template mode: the whole Deployment; scaleTargetRef mode: its replicas only), then which status
// and Events follow from what the apply returned. The reconciler does the I/O around them.

export const EventReason = {
  DeploymentCreated: 'DeploymentCreated',
  DeploymentUpdated: 'DeploymentUpdated',
  SuccessfulRescale: 'SuccessfulRescale',
  ScaleTargetNotFound: 'ScaleTargetNotFound',
  ScaleTargetClaimed: 'ScaleTargetClaimed',
  ApplyRejected: 'ApplyRejected',
  TemplateTooLarge: 'TemplateTooLarge',
  /** Drain before delete let pods go with jobs still running: their drain deadline passed. */
  DrainDeadlineExceeded: 'DrainDeadlineExceeded',
  /** Drain before delete let pods go idle-first, unasked: a worker of theirs does not read drain requests. */
  DrainNotSupported: 'DrainNotSupported',
  /** A drained scale-down started waiting for a pod the ReplicaSet would remove first (once per wait). */
  DrainedScaleDownHeld: 'DrainedScaleDownHeld',
} as const;

export interface DeploymentPlan {
  /** What to send with server-side apply; undefined when the live Deployment already matches. */
  apply: V1Deployment | undefined;
  /** The label selector status publishes (for `kubectl scale` and HPA-style tools). */
  selector: string | undefined;
  /** scaleTargetRef names a Deployment that does not exist: nothing to apply, and status says so. */
  missingTarget: string | undefined;
  /** The API server refused this generation's Deployment and its retry is not due: nothing to apply. */
  heldRejection: string | undefined;
  /** Another driver (an HPA, an older pool) scales the scaleTargetRef Deployment: hands off. */
  claimedBy?: string | undefined;
  /** spec.template is above the operator's bound: why, naming the field; nothing is applied. */
  templateTooLarge?: string | undefined;
}

export interface DeploymentPlanInput {
  pool: WorkerPool;
  /** The Deployment as it is now (cache, else API), undefined when it does not exist. */
  live: V1Deployment | undefined;
  scale: PoolScaleView;
  /** Variables the operator adds to the first worker container (template mode). */
  workerEnv: V1Container['env'];
  /**
   * The API server's message when it refused this generation's Deployment and the retry is not
   * due yet: the same spec would be refused again, so it is not sent on every poll.
   */
  heldRejection?: string | undefined;
  /** Who else drives the pool's Deployment (scale-target.ts scaleTargetClaim), if anyone. */
  claimedBy?: string | undefined;
  /** Why spec.template is refused before any apply (packed-template.ts oversizedTemplate), if it is. */
  templateTooLarge?: string | undefined;
}

export function planDeployment({
  pool,
  live,
  scale,
  workerEnv,
  heldRejection,
  claimedBy,
  templateTooLarge,
}: DeploymentPlanInput): DeploymentPlan {
  if (!pool.spec.scaleTargetRef) {
    const selector = serializeSelector(selectorLabels(pool.metadata.name ?? ''));
    if (claimedBy !== undefined)
      return { apply: undefined, selector, missingTarget: undefined, heldRejection: undefined, claimedBy };
    if (templateTooLarge !== undefined)
      return { apply: undefined, selector, missingTarget: undefined, heldRejection: undefined, templateTooLarge };
    if (heldRejection !== undefined) return { apply: undefined, selector, missingTarget: undefined, heldRejection };
    const desired = buildWorkerDeployment(pool, scale.replicas, workerEnv);
    return {
      apply: live && isSubset(desired, live) ? undefined : desired,
      selector,
      missingTarget: undefined,
      heldRejection: undefined,
    };
  }
  const namespace = pool.metadata.namespace ?? '';
  const targetName = targetDeploymentName(pool);
  if (claimedBy !== undefined)
    return { apply: undefined, selector: undefined, missingTarget: undefined, heldRejection: undefined, claimedBy };
  if (!live)
    return {
      apply: undefined,
      selector: undefined,
      missingTarget: `Deployment ${namespace}/${targetName} named in spec.scaleTargetRef does not exist`,
      heldRejection: undefined,
    };
  const matchLabels = live.spec?.selector?.matchLabels;
  const selector = matchLabels ? serializeSelector(matchLabels) : undefined;
  if (heldRejection !== undefined) return { apply: undefined, selector, missingTarget: undefined, heldRejection };
  return {
    apply:
      live.spec?.replicas === scale.replicas
        ? undefined
        : buildReplicasOnlyApply(namespace, targetName, scale.replicas),
    selector,
    missingTarget: undefined,
    heldRejection: undefined,
  };
}

/** Whether the plan lowers replicas: only then are busy pods worth sparing first. */
export function scalesDown(plan: DeploymentPlan, live: V1Deployment | undefined): boolean {
  const to = plan.apply?.spec?.replicas;
  return live !== undefined && to !== undefined && to < (live.spec?.replicas ?? 0);
}

export interface StatusPlanInput {
  pool: WorkerPool;
  scale: PoolScaleView;
  plan: DeploymentPlan;
  /** The Deployment before this reconcile. */
  before: V1Deployment | undefined;
  /** The Deployment after it: what the apply returned, or `before` when nothing was applied. */
  after: V1Deployment | undefined;
  /** The API server refused the apply as invalid (a 4xx): its message. */
  rejection: string | undefined;
  /** Why a drained scale-down waits, when it does (drained-scale-down.ts): replicas were left as they are. */
  drainHold?: string | undefined;
  now: Date;
}

export interface StatusPlan {
  /** The status to write; undefined when the API server already holds it. */
  status: WorkerPoolStatus | undefined;
  events: PoolEvent[];
}

export function planStatus(input: StatusPlanInput): StatusPlan {
  const { pool, scale, plan, before, after, rejection, drainHold, now } = input;
  const events: PoolEvent[] = [];
  const world: ObservedWorld = {
    deployment: after,
    desiredReplicas: scale.replicas,
    selector: plan.selector,
    conditions: scale.conditions,
    hold: holdOf(scale),
    drainHold,
    ...(scale.queue ? { queue: scale.queue } : {}),
    ...(scale.forecast ? { forecast: scale.forecast } : {}),
  };
  if (plan.claimedBy) {
    if (findStalledReason(pool) !== Reason.ScaleTargetClaimed)
      events.push({ type: 'Warning', reason: EventReason.ScaleTargetClaimed, message: plan.claimedBy });
    world.desiredReplicas = pool.status?.desiredReplicas ?? 0;
    world.blocker = { reason: Reason.ScaleTargetClaimed, message: plan.claimedBy };
  } else if (plan.missingTarget) {
    if (findStalledReason(pool) !== Reason.ScaleTargetNotFound)
      events.push({ type: 'Warning', reason: EventReason.ScaleTargetNotFound, message: plan.missingTarget });
    world.desiredReplicas = pool.status?.desiredReplicas ?? 0;
    world.blocker = { reason: Reason.ScaleTargetNotFound, message: plan.missingTarget };
  } else if (plan.templateTooLarge) {
    if (findStalledReason(pool) !== Reason.TemplateTooLarge)
      events.push({ type: 'Warning', reason: EventReason.TemplateTooLarge, message: plan.templateTooLarge });
    world.blocker = { reason: Reason.TemplateTooLarge, message: plan.templateTooLarge };
  } else if (rejection !== undefined || plan.heldRejection !== undefined) {
    const message = `the API server rejected the Deployment: ${rejection ?? plan.heldRejection}`;
    // One Warning per transition into the stall, not one per retry.
    if (findStalledReason(pool) !== Reason.ApplyRejected)
      events.push({ type: 'Warning', reason: EventReason.ApplyRejected, message });
    world.blocker = { reason: Reason.ApplyRejected, message };
  } else if (plan.apply) {
    events.push(describeApply(before, after, scale.reason, scale.drain?.drained));
    events.push(...drainEvents(before, after, scale));
    const lastScale = scaleRecord(before, after, scale.reason, now);
    if (lastScale) world.lastScale = lastScale;
  }
  events.push(...signalEvents(pool, world));
  const status = buildStatus(pool, world, now);
  events.push(...drainHoldEvents(pool, status));
  return { status: statusChanged(pool.status, status) ? status : undefined, events };
}

/** A pin beats a pause, as the engine decides it: status reports whichever rule holds the size. */
function holdOf(scale: PoolScaleView): ObservedWorld['hold'] {
  if (scale.reasonCode === SCALE_REASONS.pinned) return 'Pinned';
  if (scale.reasonCode === SCALE_REASONS.paused) return 'Paused';
  return undefined;
}

const findStalledReason = (pool: WorkerPool) =>
  pool.status?.conditions?.find((c) => c.type === ConditionType.Stalled)?.reason;

function scaleRecord(
  before: V1Deployment | undefined,
  after: V1Deployment | undefined,
  reason: string,
  now: Date,
): ObservedWorld['lastScale'] {
  const from = before?.spec?.replicas;
  const to = after?.spec?.replicas;
  if (from === undefined || to === undefined || from === to) return undefined;
  return { time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'), reason: reason || `${from} -> ${to}` };
}

/** A scale-down that removed drained pods past their deadline says which, once: the apply that removed them. */
function drainEvents(
  before: V1Deployment | undefined,
  after: V1Deployment | undefined,
  scale: PoolScaleView,
): PoolEvent[] {
  const timedOut = scale.drain?.timedOut ?? [];
  const unasked = scale.drain?.unasked ?? [];
  const lowered = (after?.spec?.replicas ?? 0) < (before?.spec?.replicas ?? 0);
  if (!lowered) return [];
  const events: PoolEvent[] = [];
  if (timedOut.length > 0)
    events.push({
      type: 'Warning',
      reason: EventReason.DrainDeadlineExceeded,
      message: `removed pod ${timedOut.join(', ')} with jobs still running: the drain deadline (spec.drain.deadlineSeconds) passed before it finished them`,
    });
  if (unasked.length > 0)
    events.push({
      type: 'Warning',
      reason: EventReason.DrainNotSupported,
      message: `removed pod ${unasked.join(', ')} idle-first, without a drain request: its workers do not read one (a worker runtime older than remote drain); a job it took since the last reading relies on its SIGTERM drain`,
    });
  return events;
}

/**
 * A drained scale-down that starts to wait is told once, when status first says so, not on each
 * 2 s retry: a pod that never becomes ready holds it until someone looks (the message names it).
 */
function drainHoldEvents(pool: WorkerPool, status: WorkerPoolStatus): PoolEvent[] {
  const reconciling = (conditions: WorkerPoolStatus['conditions']) =>
    conditions?.find((c) => c.type === ConditionType.Reconciling && c.status === 'True');
  const now = reconciling(status.conditions);
  if (now?.reason !== Reason.DrainedScaleDownHeld) return [];
  if (reconciling(pool.status?.conditions)?.reason === Reason.DrainedScaleDownHeld) return [];
  return [{ type: 'Normal', reason: EventReason.DrainedScaleDownHeld, message: now.message }];
}

/** People hear once when signals stop being readable, not on every failed poll. */
function signalEvents(pool: WorkerPool, world: ObservedWorld): PoolEvent[] {
  const before = pool.status?.conditions?.find((c) => c.type === ConditionType.SignalsAvailable);
  const now = world.conditions.find((c) => c.type === ConditionType.SignalsAvailable);
  return now?.status === 'False' && before?.status !== 'False'
    ? [{ type: 'Warning', reason: now.reason, message: now.message }]
    : [];
}

function describeApply(
  before: V1Deployment | undefined,
  after: V1Deployment | undefined,
  reason: string,
  drained: readonly string[] | undefined,
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
  if (from !== to) {
    const removing =
      (to ?? 0) < (from ?? 0) && drained && drained.length > 0 ? `; removing drained pod ${drained.join(', ')}` : '';
    return {
      type: 'Normal',
      reason: EventReason.SuccessfulRescale,
      message: `Scaled Deployment ${name} from ${from ?? 0} to ${to ?? 0} replicas${reason ? `: ${reason}` : ''}${removing}`,
    };
  }
  return {
    type: 'Normal',
    reason: EventReason.DeploymentUpdated,
    message: `Updated Deployment ${name} to match the WorkerPool`,
  };
}
