import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { templatePool } from '../testing/fixtures.ts';
import { trimForeignDeployment } from './controller.ts';
import { buildWorkerDeployment } from './desired-deployment.ts';

describe('trimForeignDeployment', () => {
  it('drops the pod template of a Deployment the operator did not create, keeping what it reads', () => {
    const foreign: V1Deployment = {
      metadata: {
        name: 'web',
        namespace: 'shop',
        generation: 3,
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"x"}', team: 'shop' },
      },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: 'web' } },
        template: { spec: { containers: [{ name: 'web', image: 'shop/web:1', env: [{ name: 'A', value: 'x' }] }] } },
      },
      status: { replicas: 4, readyReplicas: 4 },
    };
    trimForeignDeployment(foreign);
    expect(foreign).toEqual({
      metadata: { name: 'web', namespace: 'shop', generation: 3, annotations: { team: 'shop' } },
      spec: { replicas: 4, selector: { matchLabels: { app: 'web' } }, template: {} },
      status: { replicas: 4, readyReplicas: 4 },
    });
  });

  it("keeps the operator's own worker Deployments whole: each reconcile compares their template", () => {
    const own = buildWorkerDeployment(templatePool('billing', 'mailers'), 2, []);
    const copy = structuredClone(own);
    trimForeignDeployment(copy);
    expect(copy).toEqual(own);
  });
});
