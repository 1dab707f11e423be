import type { KubernetesObject, V1Container, V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { WorkerPool } from '../api/workerpool-schema.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from './labels.ts';
import { packTemplate } from './packed-template.ts';

// What the informer caches keep of each object: what the operator reads, and no more. The caches
// hold every pool and every Deployment in scope for as long as the operator runs, so anything a
// tenant can make large is either dropped or packed (packed-template.ts).

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** `kubectl apply` keeps a copy of the whole object it applied, template and all; nothing reads it here. */
function dropLastApplied(object: KubernetesObject): void {
  if (object.metadata?.annotations?.[LAST_APPLIED] !== undefined) delete object.metadata.annotations[LAST_APPLIED];
}

/** The same generation means the same spec: the previous version's packed template still holds. */
const sameGeneration = (object: KubernetesObject, previous: KubernetesObject | undefined) =>
  object.metadata?.generation !== undefined && previous?.metadata?.generation === object.metadata.generation;

/**
 * A pool keeps its spec and status; its template, read only when a reconcile builds the
 * Deployment, is packed. The previous version's packed template is reused when the generation
 * is the same (a status update): the operator's own status writes cost no recompression.
 */
export function trimPool(pool: WorkerPool, previous?: WorkerPool): void {
  dropLastApplied(pool);
  const template = pool.spec?.template;
  if (template === undefined) return;
  const same = sameGeneration(pool, previous);
  pool.spec.template = packTemplate(template, same ? previous?.spec.template : undefined);
}

/** How many of the first container's command and args words are kept, and how long each may be. */
const EXIT_WORDS = 32;
const EXIT_WORD_CHARS = 128;

/**
 * Of a pod template the operator did not write, what tells how its pods leave: the grace period
 * and the first container's command, args and env values that name a shutdown timeout (Sidekiq's
 * -t, the runtime's drain timeout). Drain before delete and the GracePeriod condition read them
 * (autoscaler/drain-settings.ts); a few hundred bytes at most, whatever the template holds.
 */
function podExitFacts(template: V1PodTemplateSpec): V1PodTemplateSpec {
  const grace = template.spec?.terminationGracePeriodSeconds;
  const first = template.spec?.containers?.[0];
  const words = (list: string[] | undefined) => list?.slice(0, EXIT_WORDS).map((w) => w.slice(0, EXIT_WORD_CHARS));
  const container: V1Container = { name: first?.name ?? '' };
  const command = words(first?.command);
  const args = words(first?.args);
  const env = first?.env
    ?.filter((e) => /TIMEOUT/.test(e.name) && e.value !== undefined)
    .slice(0, 4)
    .map((e) => ({ name: e.name.slice(0, EXIT_WORD_CHARS), value: (e.value ?? '').slice(0, EXIT_WORD_CHARS) }));
  if (command) container.command = command;
  if (args) container.args = args;
  if (env?.length) container.env = env;
  return {
    spec: {
      ...(grace === undefined ? {} : { terminationGracePeriodSeconds: grace }),
      containers: first ? [container] : [],
    },
  };
}

/**
 * A Deployment the operator did not create is read for its name, replicas, selector and status
 * (a scaleTargetRef target, or one of the cluster's thousands of others), and for how its pods
 * leave (podExitFacts): the rest of its pod template is dropped. The operator's own keep their
 * template, which a reconcile compares with the desired one, packed; a new generation is packed
 * afresh, a status update reuses the previous Buffer.
 */
export function trimDeployment(deployment: V1Deployment, previous?: V1Deployment): void {
  dropLastApplied(deployment);
  const spec = deployment.spec;
  if (!spec) return;
  if (deployment.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY) {
    spec.template = podExitFacts(spec.template);
    return;
  }
  const same = sameGeneration(deployment, previous);
  spec.template = packTemplate(spec.template, same ? previous?.spec?.template : undefined);
}
