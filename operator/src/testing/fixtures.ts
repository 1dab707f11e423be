import { randomBytes } from 'node:crypto';
import { API_VERSION, KIND, type WorkerPool } from '../api/workerpool-schema.ts';
import { applySpecDefaults, type WorkerPoolSpecInput } from '../api/defaults.ts';

/** A template-mode native pool as a first-time user would write it, with defaults applied. */
export function templatePool(namespace: string, name: string, spec: Partial<WorkerPoolSpecInput> = {}): WorkerPool {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace, labels: { 'app.kubernetes.io/instance': 'argocd-app-billing', team: 'billing' } },
    spec: applySpecDefaults({
      template: {
        metadata: { labels: { tier: 'background' } },
        spec: { containers: [{ name: 'worker', image: 'registry.example/mailer:1.0' }] },
      },
      queue: { format: 'native', names: ['mailers'], redis: { url: 'redis://redis.billing.svc:6379/0' } },
      ...spec,
    }),
  };
}

/**
 * A pod template of about `bytes` bytes of JSON, in the shape a large real one takes (containers
 * with many settings) but with random values, which compress as little as a tenant could make
 * them: the worst case for the operator's packed caches. It stays within the CRD's bounds.
 */
export function largeTemplate(bytes: number): NonNullable<WorkerPool['spec']['template']> {
  const VALUE = 1_000;
  const PER_CONTAINER = 60; // 60 KB of env values, within the CRD's 64 KiB per container
  const variables = Math.max(1, Math.round(bytes / (VALUE + 40)));
  const containers = Array.from({ length: Math.ceil(variables / PER_CONTAINER) }, (_, c) => ({
    name: c === 0 ? 'worker' : `sidecar-${c}`,
    image: 'registry.example/mailer:1.0',
    env: Array.from({ length: Math.min(PER_CONTAINER, variables - c * PER_CONTAINER) }, (_, i) => ({
      name: `SETTING_${i}`,
      value: randomBytes((VALUE * 3) / 4).toString('base64'),
    })),
  }));
  return { metadata: { labels: { tier: 'background' } }, spec: { containers } };
}
