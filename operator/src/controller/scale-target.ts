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
 * Who else already drives the Deployment a pool scales, as a message; undefined when the pool may
 * scale it. Two drivers of one Deployment's replicas undo each other on every pass (and a forced
 * apply would take the field from the other), so the Deployment belongs to its first driver: any
 * HorizontalPodAutoscaler naming it, else the template-mode pool that owns it (it bears that pool's
 * name), else the oldest scaleTargetRef pool naming it (then by name). This holds in both modes: an
 * HPA pointed at a template-mode pool's own Deployment would fight the operator just the same.
 */
export function scaleTargetClaim(
  pool: WorkerPool,
  poolsInNamespace: readonly WorkerPool[],
  autoscalersInNamespace: readonly V2HorizontalPodAutoscaler[],
): string | undefined {
  const target = targetDeploymentName(pool);
  const namespace = pool.metadata.namespace ?? '';
  const hpa = autoscalersInNamespace.find(
    (autoscaler) =>
      autoscaler.spec?.scaleTargetRef.kind === 'Deployment' &&
      autoscaler.spec.scaleTargetRef.name === target &&
      !autoscaler.metadata?.deletionTimestamp,
  );
  if (hpa) {
    const remedy = pool.spec.scaleTargetRef
      ? 'delete it, or point spec.scaleTargetRef elsewhere'
      : 'delete it: the WorkerPool scales the Deployment it builds';
    return `Deployment ${namespace}/${target} is already scaled by HorizontalPodAutoscaler ${namespace}/${hpa.metadata?.name ?? ''}; ${remedy}`;
  }
  if (!pool.spec.scaleTargetRef) return undefined;
  const owner = poolsInNamespace.find(
    (other) => !other.spec.scaleTargetRef && other.metadata.name === target && !other.metadata.deletionTimestamp,
  );
  if (owner)
    return `Deployment ${namespace}/${target} is owned by WorkerPool ${namespace}/${target} (built from its template); point spec.scaleTargetRef elsewhere`;
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
