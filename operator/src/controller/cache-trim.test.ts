import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { templatePool } from '../testing/fixtures.ts';
import { trimDeployment, trimPool } from './cache-trim.ts';
import { buildWorkerDeployment } from './desired-deployment.ts';
import {
  MAX_TEMPLATE_BYTES,
  oversizedTemplate,
  packedTemplateBytes,
  unpackTemplate,
  withTemplate,
} from './packed-template.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A pool whose first container carries `variables` environment variables of 100 characters each. */
function poolWithEnv(variables: number) {
  const pool = templatePool('billing', 'mailers');
  pool.metadata.generation = 1;
  const container = pool.spec.template?.spec?.containers[0];
  if (container)
    container.env = Array.from({ length: variables }, (_, i) => ({
      name: `SETTING_${i}`,
      value: `${i}`.padStart(100, 'abcdefghij'),
    }));
  return pool;
}

describe('trimDeployment', () => {
  it('drops the pod template of a Deployment the operator did not create, keeping what it reads', () => {
    const foreign: V1Deployment = {
      metadata: {
        name: 'web',
        namespace: 'shop',
        generation: 3,
        annotations: { [LAST_APPLIED]: '{"big":"x"}', team: 'shop' },
      },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: 'web' } },
        template: { spec: { containers: [{ name: 'web', image: 'shop/web:1', env: [{ name: 'A', value: 'x' }] }] } },
      },
      status: { replicas: 4, readyReplicas: 4 },
    };
    trimDeployment(foreign);
    expect(foreign).toEqual({
      metadata: { name: 'web', namespace: 'shop', generation: 3, annotations: { team: 'shop' } },
      spec: {
        replicas: 4,
        selector: { matchLabels: { app: 'web' } },
        template: { spec: { containers: [{ name: 'web' }] } },
      },
      status: { replicas: 4, readyReplicas: 4 },
    });
  });

  it("keeps, bounded, how a foreign Deployment's pods leave: the grace period and shutdown flags", () => {
    const sidekiq: V1Deployment = {
      metadata: { name: 'sidekiq', namespace: 'shop' },
      spec: {
        selector: { matchLabels: { app: 'sidekiq' } },
        template: {
          spec: {
            terminationGracePeriodSeconds: 40,
            containers: [
              {
                name: 'sidekiq',
                image: 'shop/rails:1',
                command: ['bundle', 'exec', 'sidekiq'],
                args: ['-t', '30', ...Array.from({ length: 100 }, () => 'y'.repeat(1_000))],
                env: [
                  { name: 'SIDEKIQ_TIMEOUT', value: '30' },
                  { name: 'SECRET_KEY_BASE', value: 'not for the cache' },
                ],
              },
              { name: 'sidecar', image: 'shop/proxy:1' },
            ],
            volumes: [{ name: 'v', emptyDir: {} }],
          },
        },
      },
    };
    trimDeployment(sidekiq);
    const container = sidekiq.spec?.template.spec?.containers[0];
    expect(sidekiq.spec?.template.spec?.terminationGracePeriodSeconds).toBe(40);
    expect(sidekiq.spec?.template.spec?.containers).toHaveLength(1);
    expect(container?.command).toEqual(['bundle', 'exec', 'sidekiq']);
    expect(container?.args?.slice(0, 2)).toEqual(['-t', '30']);
    expect(container?.env).toEqual([{ name: 'SIDEKIQ_TIMEOUT', value: '30' }]);
    expect(JSON.stringify(sidekiq.spec?.template).length).toBeLessThan(5_000);
  });

  it("packs the operator's own worker Deployment's template, and a reconcile gets it back whole", () => {
    const own = buildWorkerDeployment(poolWithEnv(50), 2, []);
    const cached = structuredClone(own);
    trimDeployment(cached);
    expect(() => cached.spec?.template.spec).toThrow(/packed: read it with unpackTemplate/);
    expect(packedTemplateBytes(cached.spec?.template)).toBeGreaterThan(0);
    expect(withTemplate(cached)).toEqual(own);
  });

  it('reuses the packed template of the previous version when the generation is the same (a status update)', () => {
    const built = buildWorkerDeployment(poolWithEnv(5), 2, []);
    const own = { ...built, metadata: { ...built.metadata, generation: 4 } };
    const first = structuredClone(own);
    trimDeployment(first);
    const statusUpdate = { ...structuredClone(own), status: { readyReplicas: 2 } };
    trimDeployment(statusUpdate, first);
    expect(statusUpdate.spec?.template).toBe(first.spec?.template);
    const edited = structuredClone(own);
    edited.metadata.generation = 5;
    trimDeployment(edited, first);
    expect(edited.spec?.template).not.toBe(first.spec?.template);
  });
});

describe('trimPool', () => {
  it('keeps the spec but packs the template compressed and drops the last-applied copy', () => {
    const pool = poolWithEnv(400);
    pool.metadata.annotations = { [LAST_APPLIED]: JSON.stringify(pool), team: 'billing' };
    const original = structuredClone(pool);
    trimPool(pool);
    expect(pool.metadata.annotations).toEqual({ team: 'billing' });
    expect(pool.spec.queue).toEqual(original.spec.queue);
    const json = JSON.stringify(original.spec.template).length;
    // 40 KB of repetitive settings: the cache holds a small fraction of it, outside the V8 heap.
    expect(json).toBeGreaterThan(40_000);
    expect(packedTemplateBytes(pool.spec.template)).toBeLessThan(json / 4);
    expect(unpackTemplate(pool.spec.template)).toEqual(original.spec.template);
    expect(oversizedTemplate(pool.spec.template)).toBeUndefined();
  });

  it('keeps nothing of a template above the bound but its size, and says why it is refused', () => {
    const pool = poolWithEnv(Math.ceil(MAX_TEMPLATE_BYTES / 100));
    const bytes = Buffer.byteLength(JSON.stringify(pool.spec.template));
    trimPool(pool);
    expect(packedTemplateBytes(pool.spec.template)).toBe(0);
    expect(oversizedTemplate(pool.spec.template)).toBe(
      `spec.template is ${bytes} bytes as JSON, above the ${MAX_TEMPLATE_BYTES} bytes (128 KiB) the operator accepts`,
    );
    expect(() => unpackTemplate(pool.spec.template)).toThrow(/spec\.template is \d+ bytes/);
  });
});
