import type { V1Deployment } from '@kubernetes/client-node';
import type { WorkerPool } from '../api/workerpool-schema.ts';

// Which Deployment a pool scales: the one it owns (template mode, named after the pool) or the
// one its scaleTargetRef names. Every part of the operator asks here.

export function targetDeploymentName(pool: WorkerPool): string {
  return pool.spec.scaleTargetRef?.name ?? pool.metadata.name ?? '';
}

/** The pool's Deployment as the informer cache holds it, or undefined when it does not exist (yet). */
export type DeploymentOf = (pool: WorkerPool) => V1Deployment | undefined;
