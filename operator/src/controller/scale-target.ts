import type { V1Deployment, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { WorkerPool } from '../api/workerpool-schema.ts';

// Which Deployment a pool scales: the one it owns (template mode, named after the pool) or the
// one its scaleTargetRef names. Every part of the operator asks here.

export function targetDeploymentName(pool: WorkerPool): string {
  return pool.spec.scaleTargetRef?.name ?? pool.metadata.name ?? '';
}

/** The pool's Deployment as the informer cache holds it, or undefined when it does not exist (yet). */
export type DeploymentOf = (pool: WorkerPool) => V1Deployment | undefined;

/**
 * Who else already drives the Deployment a scaleTargetRef pool names, as a message; undefined when
 * the pool may scale it. Two drivers of one Deployment's replicas undo each other on every pass
 * (and a forced apply would take the field from the other), so the Deployment belongs to the first
 * driver: any HorizontalPodAutoscaler naming it, else the oldest pool naming it (then by name).
 */
export function scaleTargetClaim(
  pool: WorkerPool,
  poolsInNamespace: readonly WorkerPool[],
  autoscalersInNamespace: readonly V2HorizontalPodAutoscaler[],
): string | undefined {
  const target = pool.spec.scaleTargetRef?.name;
  if (target === undefined) return undefined;
  const namespace = pool.metadata.namespace ?? '';
  const hpa = autoscalersInNamespace.find(
    (autoscaler) =>
      autoscaler.spec?.scaleTargetRef.kind === 'Deployment' &&
      autoscaler.spec.scaleTargetRef.name === target &&
      !autoscaler.metadata?.deletionTimestamp,
  );
  if (hpa)
    return `Deployment ${namespace}/${target} is already scaled by HorizontalPodAutoscaler ${namespace}/${hpa.metadata?.name ?? ''}; delete it, or point spec.scaleTargetRef elsewhere`;
  const first = poolsInNamespace
    .filter((other) => other.spec.scaleTargetRef?.name === target && !other.metadata.deletionTimestamp)
    .sort((a, b) => createdAtMs(a) - createdAtMs(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))[0];
  if (!first || first.metadata.name === pool.metadata.name) return undefined;
  return `Deployment ${namespace}/${target} is already scaled by WorkerPool ${namespace}/${first.metadata.name ?? ''} (the first pool to name it); point spec.scaleTargetRef elsewhere`;
}

/** When the pool was created: a string in what the watch delivers, a Date where a typed client parsed it. */
function createdAtMs(pool: WorkerPool): number {
  const time = pool.metadata.creationTimestamp;
  return time === undefined ? 0 : new Date(time).getTime();
}
