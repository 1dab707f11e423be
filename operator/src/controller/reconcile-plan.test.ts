import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { WorkerPool } from '../api/workerpool-schema.ts';
import { SCALE_REASONS, type ScaleReasonCode } from '../scaling/index.ts';
import { templatePool } from '../testing/fixtures.ts';
import { ConditionType, Reason } from './conditions.ts';
import { buildWorkerDeployment } from './desired-deployment.ts';
import { EventReason, planDeployment, planStatus, scalesDown } from './reconcile-plan.ts';
import type { PoolScaleView } from './scale-decisions.ts';

// The pure part of a reconcile, case by case: from (pool, Deployment, decision) to what is
// applied, and from what the apply returned to the status and Events written. No API server is
// needed, and none is faked: the reconciler's I/O is covered by the cluster tests.

const NOW = new Date('2026-12-06T10:00:00Z');

const decision = (replicas: number, extra: Partial<PoolScaleView> = {}): PoolScaleView => ({
  generation: 1,
  replicas,
  reasonCode: SCALE_REASONS.latency,
  reason: `oldest job 45s > target 30s: -> ${replicas}`,
  conditions: [{ type: ConditionType.SignalsAvailable, status: 'True', reason: Reason.SignalsRead, message: 'read' }],
  ...extra,
});

function pool(extra: (p: WorkerPool) => void = () => undefined): WorkerPool {
  const p = templatePool('billing', 'mailers');
  p.metadata.generation = 1;
  p.metadata.uid = 'uid-1';
  extra(p);
  return p;
}

function scaleTargetPool(): WorkerPool {
  return pool((p) => {
    delete p.spec.template;
    p.spec.scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'sidekiq' };
  });
}

/** The Deployment the API server would hold after applying the pool's own at `replicas`, rolled out. */
function ownDeployment(p: WorkerPool, replicas: number): V1Deployment {
  const built = buildWorkerDeployment(p, replicas, []);
  return {
    ...built,
    metadata: { ...built.metadata, generation: 1 },
    status: {
      observedGeneration: 1,
      replicas,
      updatedReplicas: replicas,
      readyReplicas: replicas,
      availableReplicas: replicas,
    },
  };
}

const foreignDeployment = (replicas: number): V1Deployment => ({
  metadata: { name: 'sidekiq', namespace: 'billing', generation: 1 },
  spec: { replicas, selector: { matchLabels: { app: 'sidekiq' } }, template: {} },
  status: { observedGeneration: 1, replicas, updatedReplicas: replicas, availableReplicas: replicas },
});

describe('planDeployment', () => {
  const cases: {
    name: string;
    pool: WorkerPool;
    live: V1Deployment | undefined;
    replicas: number;
    expectApplyReplicas: number | undefined;
    expectSelector: string | undefined;
    expectMissingTarget: RegExp | undefined;
    expectScaleDown: boolean;
  }[] = [
    {
      name: 'template mode, no Deployment yet: the whole Deployment is applied',
      pool: pool(),
      live: undefined,
      replicas: 2,
      expectApplyReplicas: 2,
      expectSelector: 'workerpool.dev/pool=mailers',
      expectMissingTarget: undefined,
      expectScaleDown: false,
    },
    {
      name: 'template mode, the Deployment already matches: nothing is applied',
      pool: pool(),
      live: ownDeployment(pool(), 3),
      replicas: 3,
      expectApplyReplicas: undefined,
      expectSelector: 'workerpool.dev/pool=mailers',
      expectMissingTarget: undefined,
      expectScaleDown: false,
    },
    {
      name: 'template mode, a lower decision: applied, and it is a scale-down',
      pool: pool(),
      live: ownDeployment(pool(), 5),
      replicas: 2,
      expectApplyReplicas: 2,
      expectSelector: 'workerpool.dev/pool=mailers',
      expectMissingTarget: undefined,
      expectScaleDown: true,
    },
    {
      name: 'template mode, a new image at the same size: applied, not a scale-down',
      pool: pool((p) => {
        const container = p.spec.template?.spec?.containers[0];
        if (container) container.image = 'registry.example/mailer:2.0';
      }),
      live: ownDeployment(pool(), 3),
      replicas: 3,
      expectApplyReplicas: 3,
      expectSelector: 'workerpool.dev/pool=mailers',
      expectMissingTarget: undefined,
      expectScaleDown: false,
    },
    {
      name: 'scaleTargetRef, target missing: nothing to apply, and the plan names it',
      pool: scaleTargetPool(),
      live: undefined,
      replicas: 4,
      expectApplyReplicas: undefined,
      expectSelector: undefined,
      expectMissingTarget: /^Deployment billing\/sidekiq named in spec.scaleTargetRef does not exist$/,
      expectScaleDown: false,
    },
    {
      name: "scaleTargetRef at the decided size: nothing to apply, the target's own selector published",
      pool: scaleTargetPool(),
      live: foreignDeployment(4),
      replicas: 4,
      expectApplyReplicas: undefined,
      expectSelector: 'app=sidekiq',
      expectMissingTarget: undefined,
      expectScaleDown: false,
    },
    {
      name: 'scaleTargetRef, a higher decision: only the replicas are applied',
      pool: scaleTargetPool(),
      live: foreignDeployment(1),
      replicas: 6,
      expectApplyReplicas: 6,
      expectSelector: 'app=sidekiq',
      expectMissingTarget: undefined,
      expectScaleDown: false,
    },
  ];

  it.each(cases)('$name', (c) => {
    const plan = planDeployment({ pool: c.pool, live: c.live, scale: decision(c.replicas), workerEnv: [] });
    expect(plan.apply?.spec?.replicas).toBe(c.expectApplyReplicas);
    expect(plan.selector).toBe(c.expectSelector);
    if (c.expectMissingTarget) expect(plan.missingTarget).toMatch(c.expectMissingTarget);
    else expect(plan.missingTarget).toBeUndefined();
    expect(scalesDown(plan, c.live)).toBe(c.expectScaleDown);
  });

  it('applies only the replicas to a Deployment the operator does not own', () => {
    const plan = planDeployment({
      pool: scaleTargetPool(),
      live: foreignDeployment(1),
      scale: decision(6),
      workerEnv: [],
    });
    expect(plan.apply).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'sidekiq', namespace: 'billing' },
      spec: { replicas: 6 },
    });
  });

  it('applies nothing to a claimed Deployment, in either mode, and says who holds it', () => {
    const claimedBy = 'Deployment billing/mailers is already scaled by HorizontalPodAutoscaler billing/web';
    for (const [p, live] of [
      [pool(), ownDeployment(pool(), 2)],
      [scaleTargetPool(), foreignDeployment(2)],
    ] as const) {
      const plan = planDeployment({ pool: p, live, scale: decision(6), workerEnv: [], claimedBy });
      expect(plan.apply).toBeUndefined();
      expect(plan.claimedBy).toBe(claimedBy);
    }
  });
});

describe('planStatus', () => {
  const readyReasonOf = (status: ReturnType<typeof planStatus>['status']) =>
    status?.conditions?.find((c) => c.type === ConditionType.Ready);

  const cases: {
    name: string;
    pool: WorkerPool;
    reasonCode: ScaleReasonCode;
    before: V1Deployment | undefined;
    after: V1Deployment | undefined;
    applied: boolean;
    rejection?: string;
    expectEvents: string[];
    expectReady: { status: string; reason: string };
    expectLastScaleReason: string | undefined;
  }[] = [
    {
      name: 'a first apply creates the Deployment and says so',
      pool: pool(),
      reasonCode: SCALE_REASONS.wakeFromZero,
      before: undefined,
      after: ownDeployment(pool(), 3),
      applied: true,
      expectEvents: [EventReason.DeploymentCreated],
      expectReady: { status: 'True', reason: Reason.Available },
      expectLastScaleReason: undefined,
    },
    {
      name: 'a rescale records SuccessfulRescale and the decision as lastScaleReason',
      pool: pool(),
      reasonCode: SCALE_REASONS.latency,
      before: ownDeployment(pool(), 1),
      after: {
        ...ownDeployment(pool(), 3), // Three pods updated to the template, one of them available so far.
        status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 1 },
      },
      applied: true,
      expectEvents: [EventReason.SuccessfulRescale],
      expectReady: { status: 'False', reason: Reason.Scaling },
      expectLastScaleReason: 'oldest job 45s > target 30s: -> 3',
    },
    {
      name: 'a rejected apply stalls the pool and warns once with the API server’s words',
      pool: pool(),
      reasonCode: SCALE_REASONS.latency,
      before: ownDeployment(pool(), 3),
      after: ownDeployment(pool(), 3),
      applied: true,
      rejection: 'spec.template.spec.containers[0].image: Required value',
      expectEvents: [EventReason.ApplyRejected],
      expectReady: { status: 'False', reason: Reason.ApplyRejected },
      expectLastScaleReason: undefined,
    },
    {
      name: 'a pause the engine follows is reported as Paused',
      pool: pool((p) => (p.spec.paused = true)),
      reasonCode: SCALE_REASONS.paused,
      before: ownDeployment(pool(), 3),
      after: ownDeployment(pool(), 3),
      applied: false,
      expectEvents: [],
      expectReady: { status: 'True', reason: Reason.Paused },
      expectLastScaleReason: undefined,
    },
    {
      name: 'paused and pinned: the pin the engine follows is reported, not the pause',
      pool: pool((p) => {
        p.spec.paused = true;
        p.spec.replicas = 3;
      }),
      reasonCode: SCALE_REASONS.pinned,
      before: ownDeployment(pool(), 3),
      after: ownDeployment(pool(), 3),
      applied: false,
      expectEvents: [],
      expectReady: { status: 'True', reason: Reason.Pinned },
      expectLastScaleReason: undefined,
    },
  ];

  it.each(cases)('$name', (c) => {
    const scale = decision(c.after?.spec?.replicas ?? 0, { reasonCode: c.reasonCode });
    const plan = planDeployment({ pool: c.pool, live: c.before, scale, workerEnv: [] });
    const { status, events } = planStatus({
      pool: c.pool,
      scale,
      plan: c.applied ? plan : { ...plan, apply: undefined },
      before: c.before,
      after: c.after,
      rejection: c.rejection,
      now: NOW,
    });
    expect(events.map((e) => e.reason)).toEqual(c.expectEvents);
    expect(readyReasonOf(status)).toMatchObject(c.expectReady);
    expect(status?.lastScaleReason).toBe(c.expectLastScaleReason);
  });

  it('writes nothing when the API server already holds the status it would write', () => {
    const p = pool();
    const live = ownDeployment(p, 3);
    const scale = decision(3);
    const plan = planDeployment({ pool: p, live, scale, workerEnv: [] });
    const first = planStatus({ pool: p, scale, plan, before: live, after: live, rejection: undefined, now: NOW });
    expect(first.status).toBeDefined();
    const written = { ...p, status: first.status };
    const again = planStatus({ pool: written, scale, plan, before: live, after: live, rejection: undefined, now: NOW });
    expect(again).toEqual({ status: undefined, events: [] });
  });

  it('holds a refused Deployment back while its retry is not due, still stalled, with no second Warning', () => {
    const p = pool();
    const scale = decision(2);
    const refusal =
      'spec.template.spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit';
    const tried = planDeployment({ pool: p, live: undefined, scale, workerEnv: [] });
    const first = planStatus({
      pool: p,
      scale,
      plan: tried,
      before: undefined,
      after: undefined,
      rejection: refusal,
      now: NOW,
    });
    expect(first.events.map((e) => e.reason)).toEqual([EventReason.ApplyRejected]);

    const stalled = { ...p, status: first.status };
    const held = planDeployment({ pool: stalled, live: undefined, scale, workerEnv: [], heldRejection: refusal });
    expect(held.apply).toBeUndefined();
    const holding = planStatus({
      pool: stalled,
      scale,
      plan: held,
      before: undefined,
      after: undefined,
      rejection: undefined,
      now: NOW,
    });
    expect(holding).toEqual({ status: undefined, events: [] }); // still Stalled, as written: nothing to write

    // The retry comes due and is refused again: the stall goes on, without a second Warning.
    const again = planStatus({
      pool: stalled,
      scale,
      plan: tried,
      before: undefined,
      after: undefined,
      rejection: refusal,
      now: NOW,
    });
    expect(again.events).toEqual([]);
  });

  it('stalls a pool whose template is above the bound without building or applying anything, warning once', () => {
    const p = pool();
    const scale = decision(2);
    const tooLarge = 'spec.template is 200000 bytes as JSON, above the 131072 bytes (128 KiB) the operator accepts';
    const plan = planDeployment({ pool: p, live: undefined, scale, workerEnv: [], templateTooLarge: tooLarge });
    expect(plan.apply).toBeUndefined();
    const first = planStatus({
      pool: p,
      scale,
      plan,
      before: undefined,
      after: undefined,
      rejection: undefined,
      now: NOW,
    });
    expect(first.events).toEqual([{ type: 'Warning', reason: EventReason.TemplateTooLarge, message: tooLarge }]);
    expect(first.status?.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'TemplateTooLarge',
      message: tooLarge,
    });
    const stalled = { ...p, status: first.status };
    const again = planStatus({
      pool: stalled,
      scale,
      plan,
      before: undefined,
      after: undefined,
      rejection: undefined,
      now: NOW,
    });
    expect(again).toEqual({ status: undefined, events: [] });
  });

  it('warns once when a missing scale target is first seen, not on every pass', () => {
    const p = scaleTargetPool();
    const scale = decision(4);
    const plan = planDeployment({ pool: p, live: undefined, scale, workerEnv: [] });
    const first = planStatus({
      pool: p,
      scale,
      plan,
      before: undefined,
      after: undefined,
      rejection: undefined,
      now: NOW,
    });
    expect(first.events.map((e) => e.reason)).toEqual([EventReason.ScaleTargetNotFound]);
    expect(first.status?.conditions?.find((c) => c.type === ConditionType.Stalled)?.reason).toBe(
      Reason.ScaleTargetNotFound,
    );
    const stalled = { ...p, status: first.status };
    const second = planStatus({
      pool: stalled,
      scale,
      plan,
      before: undefined,
      after: undefined,
      rejection: undefined,
      now: NOW,
    });
    expect(second.events).toEqual([]);
  });

  it('warns, on the apply that removes them, of pods let go past their drain deadline and of pods that could not be asked', () => {
    const p = pool();
    const live = ownDeployment(p, 4);
    const drain = {
      drained: ['mailers-b', 'mailers-c'],
      timedOut: ['mailers-b'],
      unasked: ['mailers-c'],
      draining: [],
      reported: ['mailers-a', 'mailers-b', 'mailers-c', 'mailers-d'],
    };
    const scale = decision(2, { drain });
    const lowered = planDeployment({ pool: p, live, scale, workerEnv: [] });
    const removed = planStatus({
      pool: p,
      scale,
      plan: lowered,
      before: live,
      after: ownDeployment(p, 2),
      rejection: undefined,
      now: NOW,
    });
    const warnings = removed.events.filter((e) => e.type === 'Warning');
    expect(warnings.map((e) => e.reason)).toEqual([EventReason.DrainDeadlineExceeded, EventReason.DrainNotSupported]);
    expect(warnings[1]?.message).toMatch(/^removed pod mailers-c idle-first, without a drain request/);
    // While replicas have not gone down yet, nobody was removed: nothing to warn of.
    const waiting = planStatus({
      pool: p,
      scale,
      plan: lowered,
      before: live,
      after: live,
      rejection: undefined,
      now: NOW,
    });
    expect(waiting.events.filter((e) => e.type === 'Warning')).toEqual([]);
  });

  it('tells of a drained scale-down held by a pod that is not ready once when it starts to wait, not on every retry', () => {
    const p = pool();
    const live = ownDeployment(p, 3);
    const drain = { drained: ['mailers-c'], timedOut: [], draining: [], reported: ['mailers-a', 'mailers-b'] };
    const scale = decision(2, { drain });
    const hold =
      'pod mailers-b is not scheduled, running and ready: the ReplicaSet would remove it before a drained pod';
    // The reconciler leaves replicas where they are while it waits (reconciler.ts).
    const held = planDeployment({ pool: p, live, scale: { ...scale, replicas: 3 }, workerEnv: [] });
    const pass = (current: WorkerPool, drainHold: string | undefined, plan = held, after = live) =>
      planStatus({ pool: current, scale, plan, before: live, after, rejection: undefined, drainHold, now: NOW });

    const first = pass(p, hold);
    expect(first.events).toEqual([
      { type: 'Normal', reason: EventReason.DrainedScaleDownHeld, message: `drained pods wait to be removed: ${hold}` },
    ]);
    const reconciling = first.status?.conditions?.find((c) => c.type === ConditionType.Reconciling);
    expect([reconciling?.status, reconciling?.reason]).toEqual(['True', Reason.DrainedScaleDownHeld]);

    // Retried every 2 s while the pod stays unready: status already says so, so nothing is written or told.
    let current: WorkerPool = { ...p, status: first.status };
    for (let retry = 0; retry < 5; retry++) expect(pass(current, hold)).toEqual({ status: undefined, events: [] });

    // The pod becomes ready: replicas go down, which the rescale Event tells.
    const lowered = planDeployment({ pool: p, live, scale, workerEnv: [] });
    const done = pass(current, undefined, lowered, ownDeployment(p, 2));
    expect(done.events.map((e) => e.reason)).toEqual([EventReason.SuccessfulRescale]);
    current = { ...p, status: done.status };
    // A later scale-down that waits again is a new transition: told once more.
    expect(pass(current, hold).events.map((e) => e.reason)).toEqual([EventReason.DrainedScaleDownHeld]);
  });
});
