import { describe, expect, it } from 'vitest';
import { templatePool } from '@workerpool/operator/testing/fixtures';
import { OPERATOR_POLL, useOperatorNamespace } from '@workerpool/operator/testing/operator-namespace';
import { argoHealth } from './argocd-health.ts';
import { fluxHealth } from './flux-health.ts';

// What GitOps tools conclude about WorkerPools the real operator wrote to the real API server,
// computed by their own libraries: Flux's kstatus (sigs.k8s.io/cli-utils) and Argo CD's Lua VM
// (gopher-lua) running manifests/argocd/health.lua. Progressing while the pool reconciles, healthy
// once it is ready, failed when it is stalled.

const ns = useOperatorNamespace();
const POLL = OPERATOR_POLL;

/** Both verdicts on the pool as it is now on the API server, e.g. "InProgress / Progressing". */
async function verdicts(name: string): Promise<string> {
  const pool = await ns.getPool(name);
  return `${fluxHealth(pool).status} / ${argoHealth(pool).status}`;
}

describe('Flux (kstatus) and Argo CD (gopher-lua) on the statuses the operator writes', () => {
  it('a new pool is InProgress / Progressing until its workers are ready, then Current / Healthy', async () => {
    await ns.createPool(templatePool(ns.name, 'mailers', { scaling: { minReplicas: 2 } }));
    await expect.poll(() => verdicts('mailers'), POLL).toBe('InProgress / Progressing');
    const pool = await ns.getPool('mailers');
    expect(fluxHealth(pool).message).not.toBe('');

    await ns.completeRollout('mailers', { replicas: 2, image: 'registry.example/mailer:1.0' });
    await expect.poll(() => verdicts('mailers'), POLL).toBe('Current / Healthy');
  });

  it('a new worker image is InProgress / Progressing again until it has rolled out', async () => {
    const image = 'registry.example/mailer:1.1';
    await ns.patchPool('mailers', { spec: { template: { spec: { containers: [{ name: 'worker', image }] } } } });
    await expect.poll(() => verdicts('mailers'), POLL).toBe('InProgress / Progressing');
    await ns.completeRollout('mailers', { replicas: 2, image });
    await expect.poll(() => verdicts('mailers'), POLL).toBe('Current / Healthy');
  });

  it('a paused pool is Suspended for Argo CD; for Flux it is Current: frozen on purpose, not failing', async () => {
    await ns.patchPool('mailers', { spec: { paused: true } });
    await expect.poll(() => verdicts('mailers'), POLL).toBe('Current / Suspended');
  });

  it('a pool both paused and pinned is sized by the pin, and Ready, Flux and Argo CD all say so', async () => {
    // The engine's rule: spec.replicas beats spec.paused. Status must not call the pool frozen.
    await ns.patchPool('mailers', { spec: { paused: true, replicas: 3 } });
    await expect.poll(() => ns.replicas('mailers'), POLL).toBe(3);
    await ns.completeRollout('mailers', { replicas: 3 });
    await expect.poll(() => verdicts('mailers'), POLL).toBe('Current / Healthy');
    const ready = await ns.condition('mailers', 'Ready');
    expect(ready).toMatchObject({ status: 'True', reason: 'Pinned' });
    expect(ready?.message).toMatch(/^pinned to 3 replicas by spec\.replicas \(spec\.paused has no effect/);
    expect(argoHealth(await ns.getPool('mailers')).message).toMatch(/^Pinned: pinned to 3 replicas/);
  });

  it('a pool whose scale target does not exist is Failed / Degraded, with the reason in both messages', async () => {
    const pool = templatePool(ns.name, 'orphan');
    delete pool.spec.template;
    pool.spec.scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'missing' };
    await ns.createPool(pool);
    await expect.poll(() => verdicts('orphan'), POLL).toBe('Failed / Degraded');
    const live = await ns.getPool('orphan');
    expect(fluxHealth(live).message).toMatch(/missing/);
    expect(argoHealth(live).message).toMatch(/^ScaleTargetNotFound: .*missing/);
  });
});
