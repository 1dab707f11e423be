import type { V1Pod } from '@kubernetes/client-node';
import type { DrainView } from './scale-decisions.ts';

// The last step of drain before delete: lowering replicas so that the ReplicaSet removes exactly
// the drained pods. The ReplicaSet controller ranks its victims by, in order: not scheduled,
// pending, not ready, and only then pod-deletion-cost (kubernetes.io, "ReplicaSet", "Pod deletion
// cost"; ActivePodsWithRanks in pkg/controller/controller_utils.go). So a drained pod with the
// lowest cost still loses to any pod that is not scheduled, running and ready, and that pod may be
// running jobs. We therefore detect and wait: replicas go down only while every pod that reports
// workers is scheduled, running and ready, or drained. Pods that report no worker (starting,
// crashing) run no job we know of: they may go, after the drained ones.

/** The lowest pod-deletion-cost there is (an int32): drained pods go before any other. */
export const DRAINED_POD_COST = -2147483648;
/** Pods that report no worker go next: after the drained, before any pod that reports one. */
export const SILENT_POD_COST = DRAINED_POD_COST + 1;

export interface DrainedScaleDown {
  /** Why replicas must stay where they are for now; undefined when the scale-down may go ahead. */
  hold: string | undefined;
  /** pod-deletion-cost each pod must have before replicas go down. */
  costs: Map<string, number>;
}

const nameOf = (pod: V1Pod) => pod.metadata?.name ?? '';

function scheduledRunningReady(pod: V1Pod): boolean {
  return (
    pod.spec?.nodeName !== undefined &&
    pod.status?.phase === 'Running' &&
    pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true
  );
}

/**
 * Whether going down to `replicas` takes only drained or silent pods (or replicas that have no pod
 * yet), and the costs that make it so: drained pods the lowest, then silent ones, then every other
 * pod its busy count.
 */
export function drainedScaleDown(
  pods: readonly V1Pod[],
  drain: DrainView,
  replicas: number,
  busyByPod: ReadonlyMap<string, number> | undefined,
): DrainedScaleDown {
  const active = pods.filter((pod) => !pod.metadata?.deletionTimestamp);
  const drained = new Set(drain.drained);
  const reported = new Set(drain.reported);
  const kind = (pod: V1Pod) =>
    drained.has(nameOf(pod)) ? 'drained' : reported.has(nameOf(pod)) ? 'reporting' : 'silent';
  const costs = new Map(
    active.map((pod) => {
      const k = kind(pod);
      const cost =
        k === 'drained' ? DRAINED_POD_COST : k === 'silent' ? SILENT_POD_COST : (busyByPod?.get(nameOf(pod)) ?? 0);
      return [nameOf(pod), cost];
    }),
  );
  const kept = active.filter((pod) => kind(pod) === 'reporting').length;
  if (kept > replicas)
    return {
      hold: `${kept} pods report workers and were not drained, more than the ${replicas} replicas to keep`,
      costs,
    };
  const unready = active.filter((pod) => kind(pod) === 'reporting' && !scheduledRunningReady(pod)).map(nameOf);
  if (unready.length > 0)
    return {
      hold: `pod ${unready.sort().join(', ')} is not scheduled, running and ready: the ReplicaSet would remove it before a drained pod`,
      costs,
    };
  return { hold: undefined, costs };
}
