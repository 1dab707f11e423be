import type {
  V1Container,
  V1Deployment,
  V1PodSecurityContext,
  V1PodSpec,
  V1SecurityContext,
} from '@kubernetes/client-node';
import { API_VERSION, KIND, type WorkerPool } from '../api/workerpool-schema.ts';
import { childLabels, selectorLabels } from './labels.ts';

// Pure builders of what the operator applies: no I/O, so they are tested without a cluster.

/** Pod Security "restricted" defaults, filled in only where the template says nothing. */
export function withRestrictedPodDefaults(spec: V1PodSpec): V1PodSpec {
  const podSecurity: V1PodSecurityContext = {
    runAsNonRoot: true,
    ...spec.securityContext,
    seccompProfile: spec.securityContext?.seccompProfile ?? { type: 'RuntimeDefault' },
  };
  const harden = (container: V1Container): V1Container => {
    const security: V1SecurityContext = {
      allowPrivilegeEscalation: false,
      ...container.securityContext,
      capabilities: container.securityContext?.capabilities ?? { drop: ['ALL'] },
    };
    return { ...container, securityContext: security };
  };
  return {
    ...spec,
    securityContext: podSecurity,
    containers: spec.containers.map(harden),
    ...(spec.initContainers ? { initContainers: spec.initContainers.map(harden) } : {}),
  };
}

export function ownerReference(pool: WorkerPool) {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: pool.metadata.name ?? '',
    uid: pool.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * The worker Deployment of a template-mode pool, as an apply configuration: exactly the fields
 * the operator owns. Anything else on the live object (defaults, other managers' fields) is left alone.
 */
export function buildWorkerDeployment(
  pool: WorkerPool,
  replicas: number,
  extraEnv: V1Container['env'] = [],
): V1Deployment {
  const template = pool.spec.template;
  if (!template?.spec) throw new Error('buildWorkerDeployment needs a template-mode WorkerPool');
  const name = pool.metadata.name ?? '';
  const labels = childLabels(name);
  const podSpec = withRestrictedPodDefaults(template.spec);
  const [first, ...rest] = podSpec.containers;
  const containers = first && extraEnv.length > 0 ? [withEnv(first, extraEnv), ...rest] : podSpec.containers;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: pool.metadata.namespace ?? '', labels, ownerReferences: [ownerReference(pool)] },
    spec: {
      replicas,
      selector: { matchLabels: selectorLabels(name) },
      template: {
        metadata: { ...template.metadata, labels: { ...template.metadata?.labels, ...labels } },
        spec: { ...podSpec, containers },
      },
    },
  };
}

/** Adds variables the operator provides, without overriding any the user set. */
function withEnv(container: V1Container, extra: NonNullable<V1Container['env']>): V1Container {
  const own = new Set((container.env ?? []).map((variable) => variable.name));
  return { ...container, env: [...(container.env ?? []), ...extra.filter((variable) => !own.has(variable.name))] };
}

/** The apply configuration that sets only the replicas of a Deployment the operator does not own. */
export function buildReplicasOnlyApply(namespace: string, name: string, replicas: number): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: { replicas } as V1Deployment['spec'],
  };
}
