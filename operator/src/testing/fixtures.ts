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
