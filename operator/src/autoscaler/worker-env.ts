import type { V1EnvVar } from '@kubernetes/client-node';
import type { WorkerPool } from '../api/workerpool-schema.ts';

// What the operator tells worker-runtime pods about their queue (native format only: Sidekiq
// and BullMQ workers are configured by their own teams). The names are the worker-runtime's
// documented settings. A password goes in as a reference to its Secret, never as a value.

const DRAIN_MARGIN_SECONDS = 5;
const DEFAULT_GRACE_SECONDS = 30;

export function nativeWorkerEnv(pool: WorkerPool): V1EnvVar[] {
  const queue = pool.spec.queue;
  if (queue.format !== 'native' || !queue.redis.url) return [];
  const grace = pool.spec.template?.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
  const env: V1EnvVar[] = [
    { name: 'REDIS_URL', value: queue.redis.url },
    { name: 'WORKERPOOL_QUEUES', value: queue.names.join(',') },
    { name: 'WORKERPOOL_CONCURRENCY', value: String(pool.spec.scaling.concurrency) },
    // Drain finishes before the kubelet's SIGKILL, so that scaling down never kills a job.
    { name: 'WORKERPOOL_DRAIN_TIMEOUT_SECONDS', value: String(Math.max(1, grace - DRAIN_MARGIN_SECONDS)) },
    { name: 'WORKERPOOL_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  ];
  if (queue.keyPrefix) env.push({ name: 'WORKERPOOL_KEY_PREFIX', value: queue.keyPrefix });
  const password = queue.redis.passwordSecretRef;
  if (password) env.push({ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: password.name, key: password.key } } });
  return env;
}
