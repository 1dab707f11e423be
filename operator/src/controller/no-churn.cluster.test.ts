import { describe, expect, it } from 'vitest';
import { kubectl } from '@workerpool/testkit/cluster';
import { templatePool } from '../testing/fixtures.ts';
import { metricTotal } from '../testing/metric-total.ts';
import { mergePatch, OPERATOR_POLL, useOperatorNamespace } from '../testing/operator-namespace.ts';

// A template written as people write YAML (`cpu: 1`, `cpu: 0.5`, `memory: 1G`) comes back from the
// API server as "1", "500m", "1G". Compared as written, it differed from the live Deployment on
// every reconcile: a re-apply and a DeploymentUpdated Event each pass, forever. Ten passes over an
// unchanged pool must send nothing.

const ns = useOperatorNamespace({ redis: {} });
const POOL = 'quantities';
const PASSES = 10;
const RESOURCES_AS_WRITTEN = { limits: { cpu: 1, memory: '1G' }, requests: { cpu: 0.5, memory: '1000M' } };

describe('a pool whose template writes quantities as numbers and in non-canonical units', () => {
  it('is applied once, then ten reconcile passes send no Deployment write and record no Event', async () => {
    const { metrics } = ns.operator;
    const pool = templatePool(ns.name, POOL, {
      queue: { format: 'native', names: [POOL], redis: { url: ns.redis.url } },
      scaling: { minReplicas: 1, maxReplicas: 3, pollIntervalSeconds: 1 },
    });
    // As a person writes it in YAML and kubectl sends it: the numbers stay numbers in the stored pool.
    const asWritten = structuredClone(pool) as unknown as {
      spec: { template: { spec: { containers: Record<string, unknown>[] } } };
    };
    Object.assign(asWritten.spec.template.spec.containers[0] ?? {}, { resources: RESOURCES_AS_WRITTEN });
    const applied = kubectl(['apply', '-f', '-'], JSON.stringify(asWritten));
    expect(applied.stderr).toBe('');
    await expect.poll(() => ns.replicas(POOL), OPERATOR_POLL).toBe(1);
    const [container] = (await ns.deployment(POOL))?.spec?.template.spec?.containers ?? [];
    // What the API server made of it: the spellings every later pass is compared with.
    expect(container?.resources).toEqual({
      limits: { cpu: '1', memory: '1G' },
      requests: { cpu: '500m', memory: '1G' },
    });
    await ns.completeRollout(POOL);
    await expect.poll(async () => (await ns.condition(POOL, 'Ready'))?.status, OPERATOR_POLL).toBe('True');

    const applies = () => metricTotal(metrics.apiWrites, { kind: 'Deployment' });
    const passes = () => metricTotal(metrics.reconcileTotal);
    const events = async () => (await ns.events(POOL)).length;
    const [appliesBefore, eventsBefore] = [await applies(), await events()];
    for (let touch = 1; touch <= PASSES; touch++) {
      const passesBefore = await passes();
      // A change of someone else's field wakes the owning pool: one more full reconcile pass.
      await ns.apps.patchNamespacedDeployment(
        {
          name: POOL,
          namespace: ns.name,
          body: { metadata: { annotations: { 'test.example/touch': String(touch) } } },
        },
        mergePatch,
      );
      await expect
        .poll(passes, { ...OPERATOR_POLL, message: `reconcile pass ${touch} of ${PASSES} never came` })
        .toBeGreaterThan(passesBefore);
    }
    expect(await applies()).toBe(appliesBefore);
    expect(await events()).toBe(eventsBefore);
  });
});
