// Labels and names the operator puts on what it creates. The WorkerPool's own labels are never
// copied wholesale onto children: GitOps tools track resources by labels such as
// app.kubernetes.io/instance, and a copied label would make Argo CD think it owns the child.

export const FIELD_MANAGER = 'workerpool-operator';
export const POOL_LABEL = 'workerpool.dev/pool';
export const MANAGED_BY = 'workerpool-operator';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

export function selectorLabels(poolName: string): Record<string, string> {
  return { [POOL_LABEL]: poolName };
}

export function childLabels(poolName: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'workerpool-worker',
    'app.kubernetes.io/instance': poolName,
    'app.kubernetes.io/component': 'worker',
    [MANAGED_BY_LABEL]: MANAGED_BY,
    ...selectorLabels(poolName),
  };
}

/** The serialized form the scale subresource's labelSelectorPath wants. */
export function serializeSelector(labels: Record<string, string>): string {
  return Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
