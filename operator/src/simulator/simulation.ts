import { UPCOMING_HORIZONS_SECONDS, type QueueReading, type WorkerHeartbeat } from '../signals/queue-reading.ts';
import { MinHeap } from './min-heap.ts';

// A discrete-event simulation of one WorkerPool on virtual time: jobs arrive into one FIFO
// queue, ready replicas run up to `concurrency` jobs each, new replicas take jobs only after
// the pod start-up delay. A scale-down removes pods the way the ReplicaSet controller picks them
// (pods not ready first, then — without pod-deletion-cost — the most recently ready; with it,
// the least busy), and a removed pod drains: it takes no new job, its running jobs may finish
// within the termination grace period, and those still running then are interrupted, put back
// at the head of the queue and run again from the start. A scaling policy is asked every
// intervalSeconds and sees the queue exactly as a signal reader would (a QueueReading).
//
// Jobs leave the queue in arrival order, so the queue is the index range
// [nextToStart, nextToArrive) of the arrival array, after the re-queued jobs at its head.

export interface PolicyObservation {
  nowMs: number;
  reading: QueueReading;
  /** Replicas the Deployment runs (starting and ready, draining ones excluded). */
  currentReplicas: number;
  readyReplicas: number;
  /** Jobs enqueued since the start: what a producer-side counter (CloudWatch NumberOfMessagesSent) reports. */
  arrivedTotal: number;
  view: SimulatorView;
}

export interface PolicyDecision {
  replicas: number;
  reason?: string;
}

/**
 * Which ready pods a scale-down removes: the ReplicaSet controller's default (the most recently
 * ready first), or the least busy first, which pod-deletion-cost set from heartbeats gives.
 */
export type ScaleDownOrder = 'newest-ready' | 'idle-first';

export interface ScalingPolicy {
  name: string;
  intervalSeconds: number;
  /** How the pool's pods are picked for removal (default newest-ready, as KEDA and the HPA run). */
  scaleDownOrder?: ScaleDownOrder;
  decide(observation: PolicyObservation): PolicyDecision;
}

/** Read access to the simulated world, for the offline oracle that plans with full knowledge. */
export interface SimulatorView {
  nowSeconds(): number;
  /** Index of the first job not started yet; jobs up to arrivedCount() - 1 are waiting. */
  firstWaitingJob(): number;
  arrivedCount(): number;
  /** Every job of the run, arrived or not: the oracle knows the future. */
  jobCount(): number;
  arrivalSeconds(job: number): number;
  serviceSeconds(job: number): number;
  /** For each serving (ready, not draining) replica: when each of its busy slots frees up. */
  servingSlotEnds(): number[][];
}

export interface SimulationConfig {
  arrivals: Float64Array;
  services: Float64Array;
  /**
   * When each job was put in the schedule set, to come due at its arrival (undefined: every job
   * is enqueued when it arrives). A reading counts the scheduled jobs not due yet, as readers do.
   */
  scheduledSince?: Float64Array;
  concurrency: number;
  podStartupSeconds: number;
  initialReplicas: number;
  /** The simulation stops here; jobs not started by then are counted with the wait so far. */
  endSeconds: number;
  policy: ScalingPolicy;
  /** Epoch milliseconds of virtual second 0, for the readings' timestamps. */
  epochMs?: number;
  /** terminationGracePeriodSeconds: how long a removed pod may finish its jobs (default 30, Kubernetes'). */
  gracePeriodSeconds?: number;
  /**
   * Each pod writes what the reading shows of it only at its heartbeat, this many seconds apart
   * (at the phase heartbeatPhases says), as Sidekiq does (launcher.rb `❤`): the completion counter moves at
   * each beat and once more when the pod stops (stat:processed), and the pod's busy is the
   * count of its last beat (its `busy` field; its running set, `<identity>:work`, likewise).
   * Undefined: every completion counts at once and busy is live (native, BullMQ, a stream group).
   */
  completionHeartbeatSeconds?: number;
  /**
   * Where in its period each pod beats. `cohorts` (the default): pods that become ready at one
   * moment beat within BOOT_JITTER_SECONDS of each other, as real Sidekiq pods of one scale-up
   * do (measured on the test node: five pods of one scale-up within 0.17 s, six within 0.67 s,
   * of a 5 s beat), each cohort at a phase of its own. `spread`: each pod at a phase of its own,
   * spread over the period (heartbeatPhase). A number in [0, 1): every pod in step at that part
   * of the period on the simulation's clock.
   */
  heartbeatPhases?: HeartbeatPhases;
}

export const DEFAULT_GRACE_PERIOD_SECONDS = 30;

export type HeartbeatPhases = 'cohorts' | 'spread' | number;

/**
 * How far apart the first beats of pods ready at one moment fall: their processes boot a few
 * hundred milliseconds apart, and each beats as it boots, then every period (launcher.rb).
 */
export const BOOT_JITTER_SECONDS = 0.3;

export interface ScaleChange {
  atSeconds: number;
  from: number;
  to: number;
  reason: string | undefined;
}

export interface ReplicaPoint {
  atSeconds: number;
  replicas: number;
}

export interface SimulationResult {
  policy: string;
  /** Seconds each job waited before it started (censored at the end for jobs never started). */
  waits: Float64Array;
  /**
   * Pod lifetimes summed, from creation to deletion or the end of its drain, plus the work left
   * undone at the end at its cheapest (service seconds / concurrency): a policy that leaves
   * jobs waiting past the end must not look cheaper for it.
   */
  replicaSeconds: number;
  scaleChanges: ScaleChange[];
  /** Replicas the Deployment ran, at every change. */
  replicas: ReplicaPoint[];
  endSeconds: number;
  /** Jobs cut off by a scale-down (grace period over) and run again; a job cut twice counts twice. */
  interruptedJobs: number;
  /** Seconds of work those jobs had done when they were cut off, done again. */
  rerunSeconds: number;
}

/**
 * The n-th of a sequence of parts of a period, in [0, 1), spread evenly whatever how many are
 * taken (the golden-ratio sequence): a pod's phase for `spread`, a cohort's for `cohorts`.
 */
export function heartbeatPhase(n: number): number {
  return (n * 0.6180339887498949) % 1;
}

type PodPhase = 'starting' | 'ready' | 'draining' | 'gone';

interface Run {
  job: number;
  startedAt: number;
  endsAt: number;
}

interface Pod {
  id: number;
  createdAt: number;
  readyAt: number;
  phase: PodPhase;
  busy: number;
  goneAt: number;
  /** The jobs it runs. */
  running: Run[];
  /** Jobs it finished since its last heartbeat, not in the counter yet (completionHeartbeatSeconds). */
  unflushed: number;
  /** Seconds those jobs ran, not in the recorded run time yet. */
  unflushedRunSeconds: number;
  /**
   * The jobs it ran at its last heartbeat: what a reader sees of it (completionHeartbeatSeconds).
   * Zero before its first beat in the simulator's schedule: a process writes its first heartbeat
   * as it boots, with nothing running yet.
   */
  beatBusy: number;
  /** When it last beat: its readiness until the first beat of its schedule (it beat as it booted). */
  beatAt: number;
}

type SimEvent =
  | { kind: 'complete'; pod: Pod; run: Run }
  | { kind: 'ready'; pod: Pod }
  | { kind: 'grace-over'; pod: Pod }
  | { kind: 'heartbeat'; pod: Pod };

export function simulate(config: SimulationConfig): SimulationResult {
  return new Simulation(config).run();
}

class Simulation {
  private readonly config: SimulationConfig;
  private readonly events = new MinHeap<SimEvent>();
  private readonly pods: Pod[] = [];
  /** Serving pods with a free slot, in the order their slots freed (workers block on the queue in turn). */
  private readonly withFreeSlot = new Set<Pod>();
  private readonly starts: Float64Array;
  private now = 0;
  private nextToArrive = 0;
  private nextToStart = 0;
  private completed = 0;
  /** Completions the counter shows: all of them, or those flushed at heartbeats. */
  private counted = 0;
  /** Seconds the counted jobs ran, as the workers record them (Sidekiq 7+): flushed with the counter. */
  private recordedRunSeconds = 0;
  /** Moments at which pods became ready so far, and the last: each such cohort beats together. */
  private cohorts = 0;
  private lastCohortAt = Number.NaN;
  /** Interrupted jobs, back at the head of the queue (oldest arrival first). */
  private requeued: number[] = [];
  private interruptedJobs = 0;
  private rerunSeconds = 0;
  private nextPodId = 0;
  private readonly scaleChanges: ScaleChange[] = [];
  private readonly replicaPoints: ReplicaPoint[] = [];

  constructor(config: SimulationConfig) {
    this.config = config;
    this.starts = new Float64Array(config.arrivals.length).fill(-1);
  }

  run(): SimulationResult {
    const { config } = this;
    for (let index = 0; index < config.initialReplicas; index += 1) this.addPod(0, true);
    this.replicaPoints.push({ atSeconds: 0, replicas: this.activeCount() });
    let nextTick = 0;
    const arrivals = config.arrivals;
    for (;;) {
      const nextArrival = this.nextToArrive < arrivals.length ? (arrivals[this.nextToArrive] as number) : Infinity;
      const nextEvent = this.events.peekKey();
      const next = Math.min(nextArrival, nextEvent, nextTick);
      if (next > config.endSeconds) break;
      this.now = next;
      if (nextEvent <= next) this.handle(this.events.pop() as SimEvent);
      else if (nextArrival <= next) this.arrive();
      else {
        this.tick();
        nextTick += config.policy.intervalSeconds;
      }
    }
    this.now = config.endSeconds;
    return this.result();
  }

  private arrive(): void {
    this.nextToArrive += 1;
    this.dispatch();
  }

  private handle(event: SimEvent): void {
    const pod = event.pod;
    if (event.kind === 'ready') {
      if (pod.phase !== 'starting') return;
      this.becomeReady(pod);
      return;
    }
    if (event.kind === 'heartbeat') {
      this.heartbeat(pod);
      return;
    }
    if (event.kind === 'grace-over') {
      if (pod.phase === 'draining') this.interrupt(pod);
      return;
    }
    const slot = pod.running.indexOf(event.run);
    // A job interrupted by the end of a grace period does not complete.
    if (slot < 0) return;
    pod.running.splice(slot, 1);
    pod.busy -= 1;
    this.completed += 1;
    const ran = event.run.endsAt - event.run.startedAt;
    if (this.config.completionHeartbeatSeconds === undefined) {
      this.counted += 1;
      this.recordedRunSeconds += ran;
    } else {
      pod.unflushed += 1;
      pod.unflushedRunSeconds += ran;
    }
    if (pod.phase === 'draining') {
      if (pod.busy === 0) this.remove(pod);
      return;
    }
    this.withFreeSlot.add(pod);
    this.dispatch();
  }

  private waitingCount(): number {
    return this.requeued.length + this.nextToArrive - this.nextToStart;
  }

  /** The next job to start: an interrupted one at the head, else the oldest not started. */
  private takeNextJob(): number {
    const requeued = this.requeued.shift();
    if (requeued !== undefined) return requeued;
    const job = this.nextToStart;
    this.nextToStart += 1;
    // A job's wait ends at its first start; a re-run is charged as interrupted work instead.
    this.starts[job] = this.now;
    return job;
  }

  /** Starts waiting jobs on free slots, oldest job first. */
  private dispatch(): void {
    const { concurrency, services } = this.config;
    while (this.waitingCount() > 0 && this.withFreeSlot.size > 0) {
      const pod = this.withFreeSlot.values().next().value as Pod;
      const job = this.takeNextJob();
      const run: Run = { job, startedAt: this.now, endsAt: this.now + (services[job] as number) };
      pod.busy += 1;
      pod.running.push(run);
      this.events.push(run.endsAt, { kind: 'complete', pod, run });
      if (pod.busy >= concurrency) this.withFreeSlot.delete(pod);
    }
  }

  /** The grace period is over: the pod is killed, its running jobs go back to the queue's head. */
  private interrupt(pod: Pod): void {
    for (const run of pod.running) {
      this.interruptedJobs += 1;
      this.rerunSeconds += this.now - run.startedAt;
      this.requeued.push(run.job);
    }
    this.requeued.sort((a, b) => a - b);
    pod.running = [];
    pod.busy = 0;
    this.remove(pod);
    this.dispatch();
  }

  private tick(): void {
    const observation: PolicyObservation = {
      nowMs: (this.config.epochMs ?? 0) + this.now * 1000,
      reading: this.reading(),
      currentReplicas: this.activeCount(),
      readyReplicas: this.pods.filter((pod) => pod.phase === 'ready').length,
      arrivedTotal: this.nextToArrive,
      view: this.view(),
    };
    const decision = this.config.policy.decide(observation);
    const desired = Math.max(0, Math.round(decision.replicas));
    const current = observation.currentReplicas;
    if (desired === current) return;
    this.scaleChanges.push({ atSeconds: this.now, from: current, to: desired, reason: decision.reason });
    this.scaleTo(desired);
    this.replicaPoints.push({ atSeconds: this.now, replicas: desired });
  }

  /** What a reader of the queue would report now. */
  private reading(): QueueReading {
    const waiting = this.waitingCount();
    const head = this.requeued[0] ?? this.nextToStart;
    const oldest = waiting > 0 ? this.now - (this.config.arrivals[head] as number) : 0;
    const workers: WorkerHeartbeat[] = [];
    let concurrency = 0;
    for (const pod of this.pods) {
      if (pod.phase !== 'ready' && pod.phase !== 'draining') continue;
      workers.push({
        pod: `pod-${pod.id}`,
        busy: this.shownBusy(pod),
        concurrency: this.config.concurrency,
        draining: pod.phase === 'draining',
        ...(this.config.completionHeartbeatSeconds === undefined
          ? {}
          : { beatAtMs: (this.config.epochMs ?? 0) + pod.beatAt * 1000 }),
      });
      concurrency += this.config.concurrency;
    }
    return {
      observedAtMs: (this.config.epochMs ?? 0) + this.now * 1000,
      depth: waiting,
      oldestJobAgeSeconds: oldest,
      dueScheduled: 0,
      ...this.upcoming(),
      busy: workers.reduce((sum, worker) => sum + worker.busy, 0),
      concurrency,
      workers,
      completedTotal: this.counted,
      // No simulated job fails, so the jobs with a recorded run time are the counted ones.
      recordedRunTime: { jobs: this.counted, seconds: this.recordedRunSeconds },
      ...(this.config.completionHeartbeatSeconds === undefined
        ? {}
        : { completedGranularitySeconds: this.config.completionHeartbeatSeconds }),
    };
  }

  /** A pod's busy as a reader sees it: live, or as of its last heartbeat where it writes busy only then. */
  private shownBusy(pod: Pod): number {
    return this.config.completionHeartbeatSeconds === undefined ? pod.busy : pod.beatBusy;
  }

  /** The scheduled jobs not due yet, counted at the readers' horizons. */
  private upcoming(): Pick<QueueReading, 'upcoming'> {
    const since = this.config.scheduledSince;
    if (since === undefined) return {};
    const horizons = UPCOMING_HORIZONS_SECONDS;
    const last = horizons[horizons.length - 1] as number;
    const dueWithin = horizons.map(() => 0);
    const earliestDueInSeconds = horizons.map((_, index) => horizons[index - 1] ?? 0);
    const seen = horizons.map(() => false);
    const { arrivals } = this.config;
    for (let job = this.nextToArrive; job < arrivals.length; job += 1) {
      const dueIn = (arrivals[job] as number) - this.now;
      if (dueIn > last) break;
      if ((since[job] as number) > this.now) continue;
      const first = horizons.findIndex((horizon) => dueIn <= horizon);
      // Jobs come in due order: the first one counted in an interval is its earliest.
      if (!seen[first]) earliestDueInSeconds[first] = dueIn;
      seen[first] = true;
      for (let index = first; index < horizons.length; index += 1) dueWithin[index] = (dueWithin[index] as number) + 1;
    }
    return { upcoming: { horizonsSeconds: horizons, dueWithin, earliestDueInSeconds } };
  }

  private view(): SimulatorView {
    return {
      nowSeconds: () => this.now,
      firstWaitingJob: () => this.nextToStart,
      arrivedCount: () => this.nextToArrive,
      jobCount: () => this.config.arrivals.length,
      arrivalSeconds: (job) => this.config.arrivals[job] as number,
      serviceSeconds: (job) => this.config.services[job] as number,
      servingSlotEnds: () =>
        this.pods.filter((pod) => pod.phase === 'ready').map((pod) => pod.running.map((run) => run.endsAt)),
    };
  }

  private activeCount(): number {
    let count = 0;
    for (const pod of this.pods) if (pod.phase === 'starting' || pod.phase === 'ready') count += 1;
    return count;
  }

  private addPod(at: number, alreadyReady: boolean): void {
    const pod: Pod = {
      id: this.nextPodId,
      createdAt: at,
      readyAt: NaN,
      phase: 'starting',
      busy: 0,
      goneAt: NaN,
      running: [],
      unflushed: 0,
      unflushedRunSeconds: 0,
      beatBusy: 0,
      beatAt: NaN,
    };
    this.nextPodId += 1;
    this.pods.push(pod);
    if (alreadyReady || this.config.podStartupSeconds <= 0) {
      this.becomeReady(pod);
    } else {
      this.events.push(at + this.config.podStartupSeconds, { kind: 'ready', pod });
    }
  }

  /**
   * Scales to `desired`. A scale-down removes pods that are still starting first (the
   * ReplicaSet deletes unready pods first), then ready ones in the policy's order; they drain
   * for the grace period.
   */
  private scaleTo(desired: number): void {
    const active = this.pods.filter((pod) => pod.phase === 'starting' || pod.phase === 'ready');
    for (let index = active.length; index < desired; index += 1) this.addPod(this.now, false);
    if (desired >= active.length) return;
    const idleFirst = this.config.policy.scaleDownOrder === 'idle-first';
    const order = active.sort(
      (a, b) =>
        phaseRank(a) - phaseRank(b) || (idleFirst ? a.busy - b.busy : 0) || b.readyAt - a.readyAt || b.id - a.id,
    );
    const grace = this.config.gracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_SECONDS;
    for (const pod of order.slice(0, active.length - desired)) {
      this.withFreeSlot.delete(pod);
      if (pod.busy === 0) this.remove(pod);
      else {
        pod.phase = 'draining';
        this.events.push(this.now + grace, { kind: 'grace-over', pod });
      }
    }
  }

  private becomeReady(pod: Pod): void {
    pod.phase = 'ready';
    pod.readyAt = this.now;
    pod.beatAt = this.now;
    this.withFreeSlot.add(pod);
    // A Sidekiq process beats as it boots, then every heartbeat period (firstBeat).
    const beat = this.config.completionHeartbeatSeconds;
    if (beat !== undefined) this.events.push(this.firstBeat(pod, beat), { kind: 'heartbeat', pod });
    this.dispatch();
  }

  /**
   * When a pod ready now beats first: with the pods ready at the same moment (its cohort, at a
   * phase of the cohort's own, since the simulator's whole-second start-ups would otherwise put
   * every beat on a poll), at a phase of its own, or on the period all pods share.
   */
  private firstBeat(pod: Pod, beat: number): number {
    const phases = this.config.heartbeatPhases ?? 'cohorts';
    if (phases === 'spread') return this.now + beat * heartbeatPhase(pod.id);
    if (phases === 'cohorts') {
      if (this.now !== this.lastCohortAt) {
        this.lastCohortAt = this.now;
        this.cohorts += 1;
      }
      return this.now + beat * heartbeatPhase(this.cohorts) + BOOT_JITTER_SECONDS * heartbeatPhase(pod.id);
    }
    return (Math.ceil(this.now / beat - phases) + phases) * beat;
  }

  /**
   * The pod adds what it finished since its last beat to the counter, writes its busy, and beats
   * again later.
   */
  private heartbeat(pod: Pod): void {
    this.flush(pod);
    pod.beatBusy = pod.busy;
    pod.beatAt = this.now;
    const beat = this.config.completionHeartbeatSeconds;
    if (pod.phase !== 'gone' && beat !== undefined) this.events.push(this.now + beat, { kind: 'heartbeat', pod });
  }

  private flush(pod: Pod): void {
    this.counted += pod.unflushed;
    this.recordedRunSeconds += pod.unflushedRunSeconds;
    pod.unflushed = 0;
    pod.unflushedRunSeconds = 0;
  }

  private remove(pod: Pod): void {
    pod.phase = 'gone';
    pod.goneAt = this.now;
    this.withFreeSlot.delete(pod);
    // Sidekiq flushes its counts as it stops (at_exit in 6.x, clear_heartbeat from 7.0).
    this.flush(pod);
  }

  /** Service seconds still to run at the end: jobs never started and the rest of running ones. */
  private deferredWorkSeconds(): number {
    let seconds = 0;
    for (let job = this.nextToStart; job < this.config.arrivals.length; job += 1)
      seconds += this.config.services[job] as number;
    for (const job of this.requeued) seconds += this.config.services[job] as number;
    for (const pod of this.pods) for (const run of pod.running) seconds += Math.max(0, run.endsAt - this.now);
    return seconds;
  }

  private result(): SimulationResult {
    const { arrivals, endSeconds } = this.config;
    const waits = new Float64Array(arrivals.length);
    for (let job = 0; job < arrivals.length; job += 1) {
      const start = this.starts[job] as number;
      const arrival = arrivals[job] as number;
      waits[job] = start >= 0 ? start - arrival : Math.max(0, endSeconds - arrival);
    }
    let replicaSeconds = this.deferredWorkSeconds() / this.config.concurrency;
    for (const pod of this.pods) replicaSeconds += (pod.phase === 'gone' ? pod.goneAt : endSeconds) - pod.createdAt;
    return {
      policy: this.config.policy.name,
      waits,
      replicaSeconds,
      scaleChanges: this.scaleChanges,
      replicas: this.replicaPoints,
      endSeconds,
      interruptedJobs: this.interruptedJobs,
      rerunSeconds: this.rerunSeconds,
    };
  }
}

function phaseRank(pod: Pod): number {
  return pod.phase === 'starting' ? 0 : 1;
}
