import type { QueueReading, WorkerHeartbeat } from '../signals/index.ts';

// Drain before delete, between the engine's decision and the reconciler. The engine decides how
// many replicas should SERVE; this stage turns that into how many the Deployment may have:
//   1. when fewer should serve, it chooses the pods to remove (fewest busy first) and asks each of
//      their workers, once, to stop taking jobs (quiet-request.ts sends it);
//   2. those pods stay in the Deployment while they finish their jobs: they count in its
//      replicas, never as serving capacity (the engine sees the pool without them);
//   3. a pod whose every worker says it drains with busy 0, or whose drain deadline passed, is
//      drained: the Deployment's replicas drop by exactly the drained pods, and the reconciler
//      gives them the lowest pod-deletion-cost, so the ReplicaSet removes exactly those.
// A pod with a worker that cannot be asked (a native worker older than remote drain) is chosen
// like any other, fewest busy first, but counts as drained at once: it leaves idle-first and
// finishes its jobs on SIGTERM, instead of holding the scale-down until the drain deadline.
// Pure: state in, state out, an injected clock; the autoscaler does the I/O around it.

/** A pod this stage asked to drain, until its heartbeats are gone. */
interface TrackedPod {
  requestedAtMs: number;
  /** Quiet keys of its workers a request was sent to (a worker started later gets its own). */
  asked: Set<string>;
  stage: 'draining' | 'drained' | 'released';
  timedOut: boolean;
  /** Chosen without a request: a worker of it cannot be asked, so it leaves idle-first. */
  unasked: boolean;
  /**
   * The replicas last published without this drained pod: once the Deployment has no more than
   * that, the ReplicaSet has taken it out (it terminates, and counts in no replicas).
   */
  excludedAt: number | undefined;
}

/** A worker to ask to stop taking jobs. */
export interface QuietTarget {
  pod: string;
  quietKey: string;
}

export interface DrainPlan {
  /** What the Deployment's replicas may be: the serving replicas plus the pods still draining. */
  replicas: number;
  /** Requests to send now: each worker of a newly chosen pod (and a new worker of a draining pod). */
  quiet: QuietTarget[];
  /** Pods that finished draining: the ReplicaSet must remove exactly these, cheapest first. */
  drained: string[];
  /** Of the drained pods, those let go because the drain deadline passed with jobs still running. */
  timedOut: string[];
  /** Of the drained pods, those chosen without a request because a worker of theirs cannot be asked. */
  unasked: string[];
  /** Pods asked to drain that still run jobs. */
  draining: string[];
  /** Pods with a heartbeat in the reading: any other pod of the Deployment runs no job we know of. */
  reported: string[];
}

export interface EngineView {
  reading: QueueReading | undefined;
  currentReplicas: number;
  readyReplicas: number;
}

const byPod = (reading: QueueReading | undefined): Map<string, WorkerHeartbeat[]> => {
  const pods = new Map<string, WorkerHeartbeat[]>();
  for (const worker of reading?.workers ?? []) pods.set(worker.pod, [...(pods.get(worker.pod) ?? []), worker]);
  return pods;
};

const sumBusy = (workers: readonly WorkerHeartbeat[]) => workers.reduce((sum, w) => sum + w.busy, 0);

/** Every worker of the pod has a key to ask it on. */
const canBeAsked = (workers: readonly WorkerHeartbeat[]) => workers.every((w) => w.quietKey !== undefined);

/** One pool's drains. */
export class PoolDrain {
  readonly #pods = new Map<string, TrackedPod>();

  /** Pods asked to drain that still count in the Deployment's replicas (draining, or drained and not yet removed). */
  #held(): number {
    return [...this.#pods.values()].filter((p) => p.stage !== 'released').length;
  }

  /**
   * Advances every tracked pod on a fresh reading: drained once all its workers say they drain
   * with busy 0, or once the deadline passed; released once the Deployment dropped it; forgotten
   * once its heartbeats are gone. Returns the pods whose deadline passed on this call.
   */
  observe(reading: QueueReading | undefined, liveReplicas: number, nowMs: number, deadlineMs: number): string[] {
    const pods = byPod(reading);
    const timedOut: string[] = [];
    for (const [pod, tracked] of this.#pods) {
      const workers = pods.get(pod);
      if (reading !== undefined && workers === undefined) {
        // Its heartbeats are gone: removed, or it died. Either way it holds no replica any more.
        this.#pods.delete(pod);
        continue;
      }
      if (tracked.stage === 'draining') {
        const quiet = workers !== undefined && workers.every((w) => w.draining) && sumBusy(workers) === 0;
        if (quiet) tracked.stage = 'drained';
        else if (nowMs - tracked.requestedAtMs >= deadlineMs) {
          tracked.stage = 'drained';
          tracked.timedOut = true;
          timedOut.push(pod);
        }
      } else if (
        tracked.stage === 'drained' &&
        tracked.excludedAt !== undefined &&
        liveReplicas <= tracked.excludedAt
      ) {
        tracked.stage = 'released';
      }
    }
    return timedOut;
  }

  /**
   * The pool as the engine must see it: without the pods asked to drain, in its workers and in the
   * Deployment's replicas, so that none of them counts as serving capacity.
   */
  engineView(reading: QueueReading | undefined, currentReplicas: number, readyReplicas: number): EngineView {
    const held = this.#held();
    const view = {
      currentReplicas: Math.max(0, currentReplicas - held),
      readyReplicas: Math.max(0, readyReplicas - held),
    };
    if (reading?.workers === undefined || this.#pods.size === 0) return { reading, ...view };
    const serving = reading.workers.filter((w) => !this.#pods.has(w.pod));
    const gone = reading.workers.filter((w) => this.#pods.has(w.pod));
    const filtered: QueueReading = { ...reading, workers: serving };
    if (reading.busy !== undefined) filtered.busy = Math.max(0, reading.busy - sumBusy(gone));
    if (reading.concurrency !== undefined) filtered.concurrency = serving.reduce((sum, w) => sum + w.concurrency, 0);
    return { reading: filtered, ...view };
  }

  /**
   * Turns the engine's serving replicas into the Deployment's, choosing pods to drain when fewer
   * should serve. `reading` is the latest good one (undefined: no new choice is made). A paused
   * pool (spec.paused) keeps the Deployment's replicas as they are, as pause promises: pods that
   * drained meanwhile stay, quiet, until the pool resumes (Sidekiq cannot un-quiet a process).
   */
  plan(
    servingDesired: number,
    reading: QueueReading | undefined,
    liveReplicas: number,
    nowMs: number,
    options: { paused?: boolean } = {},
  ): DrainPlan {
    const quiet: QuietTarget[] = [];
    const pods = byPod(reading);
    // A worker that started in a draining pod after the request (a restarted container) is asked too.
    for (const [pod, tracked] of this.#pods) {
      if (tracked.stage !== 'draining') continue;
      for (const worker of pods.get(pod) ?? []) {
        if (worker.quietKey === undefined || worker.draining || tracked.asked.has(worker.quietKey)) continue;
        tracked.asked.add(worker.quietKey);
        quiet.push({ pod, quietKey: worker.quietKey });
      }
    }
    const serving = Math.max(0, liveReplicas - this.#held());
    if (servingDesired < serving && options.paused !== true) {
      for (const [pod, workers] of this.#choose(pods, serving - servingDesired)) {
        const unasked = !canBeAsked(workers);
        const asked = new Set(unasked ? [] : workers.map((w) => w.quietKey ?? ''));
        this.#pods.set(pod, {
          requestedAtMs: nowMs,
          asked,
          stage: unasked ? 'drained' : 'draining',
          timedOut: false,
          unasked,
          excludedAt: undefined,
        });
        for (const key of asked) quiet.push({ pod, quietKey: key });
      }
    }
    const tracked = [...this.#pods.entries()];
    const draining = tracked.filter(([, p]) => p.stage === 'draining').map(([pod]) => pod);
    const drained = tracked.filter(([, p]) => p.stage === 'drained');
    let replicas: number;
    if (options.paused === true) {
      replicas = liveReplicas;
      for (const [, p] of drained) p.excludedAt = undefined;
    } else if (servingDesired > serving) {
      // Scaling up: drained pods stay until the next decision that does not add pods, so that the
      // ReplicaSet, which only adds now, does not have to remove them in the same breath.
      replicas = servingDesired + draining.length + drained.length;
      for (const [, p] of drained) p.excludedAt = undefined;
    } else {
      // Never lower by more than the drained pods and the pods that report no worker (starting,
      // crashing, or not ours to read): the ReplicaSet must take no pod that may run a job.
      const reporting = [...pods.keys()].filter((pod) => !this.#pods.has(pod)).length;
      const silent = Math.max(0, liveReplicas - this.#held() - reporting);
      replicas = Math.max(servingDesired + draining.length, liveReplicas - drained.length - silent);
      for (const [, p] of drained) p.excludedAt = replicas;
    }
    return {
      replicas,
      quiet,
      drained: drained.map(([pod]) => pod),
      timedOut: drained.filter(([, p]) => p.timedOut).map(([pod]) => pod),
      unasked: drained.filter(([, p]) => p.unasked).map(([pod]) => pod),
      draining,
      reported: [...pods.keys()],
    };
  }

  /** A request that could not be sent is sent again with the next plan. */
  quietFailed(target: QuietTarget): void {
    this.#pods.get(target.pod)?.asked.delete(target.quietKey);
  }

  /** Pods this stage tracks, for status and tests. */
  get tracked(): ReadonlyMap<string, Readonly<Pick<TrackedPod, 'stage' | 'timedOut' | 'unasked'>>> {
    return this.#pods;
  }

  /**
   * Pods not yet chosen and not already leaving, fewest busy first; between two as busy, the one
   * that can be asked goes first (its jobs are safe, an unasked pod's only on SIGTERM).
   */
  #choose(pods: Map<string, WorkerHeartbeat[]>, count: number): [string, WorkerHeartbeat[]][] {
    return [...pods.entries()]
      .filter(([pod, workers]) => !this.#pods.has(pod) && workers.every((w) => !w.draining))
      .sort(
        ([podA, a], [podB, b]) =>
          sumBusy(a) - sumBusy(b) || Number(!canBeAsked(a)) - Number(!canBeAsked(b)) || podA.localeCompare(podB),
      )
      .slice(0, count);
  }
}
