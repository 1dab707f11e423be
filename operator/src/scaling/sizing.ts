// How many replicas the pool needs so that every job starts within the target, from queueing
// arithmetic rather than a per-pod queue length:
//
// - steady state (Little's law): replicas × (concurrency / service time) must match the sustained
//   arrival rate — or a little less while the queue can buffer the difference (see
//   steadyFloorFraction), because a job may wait up to the target at no cost;
// - deadlines: for every horizon h ahead, the jobs that must have started by then (the waiting
//   ones older than target − h, then every arrival older than the target) must not exceed the
//   jobs the pool can start by then. Ready replicas start jobs now, starting replicas when they
//   become ready, and new ones only after the pod start-up delay. The largest shortfall over the
//   horizons is what new replicas must cover.

/** The least fraction of the arrival rate the pool serves when its queue can buffer the rest. */
export const QUEUE_BUFFER_FLOOR = 0.88;
/** The deadlines are planned this much inside the target, so that noise does not break it. */
export const DEADLINE_PLANNING_FRACTION = 0.8;
/** Deadline horizons checked between the lead time and the end of the planning window. */
export const DEADLINE_HORIZON_STEPS = 24;

export interface SizingInput {
  targetSeconds: number;
  pollSeconds: number;
  startupSeconds: number;
  concurrencyPerReplica: number;
  /** Arrival rate to plan the deadlines for (jobs per second): recent, with the rising trend. */
  arrivalRate: number;
  /** Sustained arrival rate the steady-state floor follows (a slower average: less noise, fewer changes). */
  sustainedArrivalRate: number;
  serviceTimeSeconds: number;
  /** Jobs waiting to start, due scheduled jobs included. */
  waiting: number;
  oldestAgeSeconds: number | undefined;
  busy: number | undefined;
  readyReplicas: number;
  /** Replicas asked for but not ready yet. */
  startingReplicas: number;
  /** Seconds until the starting replicas are expected to take jobs. */
  startingReadyInSeconds: number;
  /**
   * The starting replicas by when each was asked for, when known: those asked for earlier take
   * jobs sooner than startingReadyInSeconds (the latest scale-up's) says.
   */
  startingBatches?: readonly StartingBatch[];
  /**
   * Scheduled jobs not due yet, by when they come due: known work starts when it is due, with no
   * wait allowed, so that pods are ready for it rather than a start-up late.
   */
  scheduled?: readonly ScheduledJobs[];
}

export interface ScheduledJobs {
  /** Seconds from now when these jobs come due (the earliest they may). */
  dueInSeconds: number;
  /** ...and the latest: the reader's horizon that counted them. */
  dueWithinSeconds: number;
  jobs: number;
}

export interface StartingBatch {
  replicas: number;
  readyInSeconds: number;
}

export const SIZING_BINDINGS = ['latency', 'backlog', 'arrivalRate', 'idle'] as const;
export type SizingBinding = (typeof SIZING_BINDINGS)[number];

export interface Sizing {
  replicas: number;
  /** What a scale-down may go to: replicas with SCALE_DOWN_HEADROOM over the need. */
  keepReplicas: number;
  binding: SizingBinding;
  perReplicaJobsPerSecond: number;
}

/** The target the engine plans for: a job can wait up to one poll before the engine sees it. */
export function effectiveTargetSeconds(targetSeconds: number, pollSeconds: number): number {
  return Math.max(targetSeconds / 2, targetSeconds - pollSeconds);
}

/**
 * How far below the arrival rate the pool may run while the queue absorbs the difference: the
 * deadline constraints add replicas before the backlog ages past the target. That needs time to
 * react, so the floor rises to the full rate as the lead time approaches the target (with pods
 * that start slower than the target, the queue cannot buffer anything).
 */
export function steadyFloorFraction(targetSeconds: number, leadSeconds: number): number {
  const room = Math.min(1, Math.max(0, (targetSeconds - leadSeconds) / targetSeconds));
  return 1 - (1 - QUEUE_BUFFER_FLOOR) * room;
}

/** Replicas for the arrival rate alone (Little's law): random excess is the queue's to absorb. */
export function steadyStateReplicas(arrivalRate: number, perReplica: number): number {
  return arrivalRate <= 0 ? 0 : arrivalRate / perReplica;
}

/**
 * Waiting jobs older than `age`, assuming the waiting jobs arrived evenly since the oldest one
 * (the queue only tells its length and its oldest age).
 */
export function waitingOlderThan(waiting: number, oldestAge: number, age: number): number {
  if (age <= 0) return waiting;
  if (oldestAge <= age) return 0;
  return (waiting * (oldestAge - age)) / oldestAge;
}

interface DeadlineModel {
  target: number;
  waiting: number;
  oldestAge: number;
  arrivalRate: number;
}

/** Jobs that must have started within `h` seconds from now. */
function jobsDueWithin(model: DeadlineModel, h: number): number {
  return (
    waitingOlderThan(model.waiting, model.oldestAge, model.target - h) +
    model.arrivalRate * Math.max(0, h - model.target)
  );
}

/** Jobs one replica that takes work from `readyIn` seconds can start within `h` seconds. */
function startsByOneReplica(h: number, readyIn: number, concurrency: number, perReplica: number): number {
  return h < readyIn ? 0 : concurrency + perReplica * (h - readyIn);
}

/**
 * A scale-down goes only as low as the need plus this headroom: a pool that needs 7.9 replicas
 * keeps 8 until the need falls under 7.3, so noise around a whole number does not remove a pod
 * and ask it back a poll later (the HPA's 10 % tolerance plays the same part).
 */
export const SCALE_DOWN_HEADROOM = 0.1;

/** Time-sharing a replica needs its slots to turn over this often within the target. */
export const TIME_SHARE_MIN_TURNOVERS = 12;

/** Below this many replicas, rounding the steady floor up costs more than the tolerance. */
export const TIME_SHARED_FLOOR_BELOW_REPLICAS = 2;

/**
 * The steady floor in whole replicas. A small pool that needs 1.5 replicas pays a third more
 * for the second one; while pods start well within the target (the queue may buffer half of
 * it or more) it runs the whole replicas and lets the deadlines add the fraction when the
 * backlog needs it, as the oracle does — when jobs are short enough for a slot to turn over
 * many times within the target. Larger pools, long jobs and slow starters round up.
 */
function roundSteadyFloor(steady: number, floorFraction: number, headroom: number, turnoversPerTarget: number): number {
  const timeShare =
    steady < TIME_SHARED_FLOOR_BELOW_REPLICAS &&
    floorFraction <= 1 - (1 - QUEUE_BUFFER_FLOOR) / 2 &&
    turnoversPerTarget >= TIME_SHARE_MIN_TURNOVERS;
  return timeShare ? Math.floor(steady + 1e-9) : Math.ceil(steady * headroom - 1e-9);
}

export function sizeReplicas(input: SizingInput): Sizing {
  const service = input.serviceTimeSeconds;
  const existing = input.readyReplicas + input.startingReplicas;
  const perReplica = input.concurrencyPerReplica / service;
  const target = effectiveTargetSeconds(input.targetSeconds, input.pollSeconds);
  const oldestAge = input.oldestAgeSeconds ?? estimatedOldestAge(input.waiting, input.arrivalRate, target);
  const model: DeadlineModel = {
    target: target * DEADLINE_PLANNING_FRACTION,
    waiting: input.waiting,
    oldestAge,
    arrivalRate: input.arrivalRate,
  };
  const floorFraction = steadyFloorFraction(target, input.startupSeconds + input.pollSeconds);
  const steady = floorFraction * steadyStateReplicas(input.sustainedArrivalRate, perReplica);
  const deadline = deadlineReplicas(input, model, perReplica, existing);
  // The epsilon keeps float noise (7.0000000001) from costing a replica.
  const turnovers = input.targetSeconds / service;
  const scheduled = scheduledReplicas(input, perReplica, model.target);
  const replicas = Math.max(
    0,
    roundSteadyFloor(steady, floorFraction, 1, turnovers),
    Math.ceil(deadline - 1e-9),
    Math.ceil(scheduled - 1e-9),
  );
  const keepReplicas = Math.max(
    replicas,
    roundSteadyFloor(steady, floorFraction, 1 + SCALE_DOWN_HEADROOM, turnovers),
    Math.ceil(deadline * (1 + SCALE_DOWN_HEADROOM) - 1e-9),
    Math.ceil(scheduled * (1 + SCALE_DOWN_HEADROOM) - 1e-9),
  );
  if (replicas === 0) return { replicas, keepReplicas, binding: 'idle', perReplicaJobsPerSecond: perReplica };
  const binding: SizingBinding =
    deadline > steady
      ? input.oldestAgeSeconds !== undefined && input.oldestAgeSeconds > target / 2
        ? 'latency'
        : 'backlog'
      : 'arrivalRate';
  return { replicas, keepReplicas, binding, perReplicaJobsPerSecond: perReplica };
}

/**
 * Replicas that must be ready when scheduled jobs come due. A scheduled job cannot start before
 * it is due, so capacity before then does nothing for it; from then on it may wait the planned
 * target like any job, so a replica ready at its due time starts a slot's worth at once and
 * `perReplica` a second after. Only jobs due within a start-up and a poll count: replicas for
 * later ones are asked for at a later poll, a start-up before those are due. On top of what the
 * arrival rate already keeps busy.
 */
function scheduledReplicas(input: SizingInput, perReplica: number, plannedTarget: number): number {
  const batches = input.scheduled ?? [];
  const lead = input.startupSeconds + input.pollSeconds;
  let jobs = 0;
  for (const batch of batches) if (batch.dueInSeconds <= lead) jobs += batch.jobs;
  if (jobs <= 0) return 0;
  const startsEach = input.concurrencyPerReplica + perReplica * plannedTarget;
  return steadyStateReplicas(input.arrivalRate, perReplica) + jobs / startsEach;
}

/** Without a latency reading, the oldest job is about as old as the queue takes to fill. */
function estimatedOldestAge(waiting: number, arrivalRate: number, target: number): number {
  if (waiting <= 0) return 0;
  return arrivalRate > 0 ? waiting / arrivalRate : target;
}

/** Jobs the starting replicas can start within `h` seconds, each from when it becomes ready. */
function startsByStarting(input: SizingInput, h: number, perReplica: number): number {
  const concurrency = input.concurrencyPerReplica;
  const batches = input.startingBatches ?? [
    { replicas: input.startingReplicas, readyInSeconds: input.startingReadyInSeconds },
  ];
  let starts = 0;
  for (const batch of batches)
    starts += batch.replicas * startsByOneReplica(h, batch.readyInSeconds, concurrency, perReplica);
  return starts;
}

/**
 * Replicas the deadlines need. Above the existing replicas, new ones count only after the
 * start-up delay; at or below them, every kept replica counts at once (a scale-down removes
 * idle replicas and never delays a start).
 */
function deadlineReplicas(input: SizingInput, model: DeadlineModel, perReplica: number, existing: number): number {
  if (model.waiting <= 0 && model.arrivalRate <= 0) return 0;
  const concurrency = input.concurrencyPerReplica;
  const freeSlots = Math.max(0, input.readyReplicas * concurrency - (input.busy ?? 0));
  const lead = input.startupSeconds;
  const end = model.target + lead + input.pollSeconds;
  // A kept replica has, on average, the free slots the ready ones have now.
  const freePerReplica = input.readyReplicas > 0 ? freeSlots / input.readyReplicas : 0;
  let extra = -Infinity;
  let kept = 0;
  for (let step = 0; step <= DEADLINE_HORIZON_STEPS; step += 1) {
    const h = Math.max(input.pollSeconds, (end * step) / DEADLINE_HORIZON_STEPS);
    const due = jobsDueWithin(model, h);
    const fromExisting = freeSlots + input.readyReplicas * perReplica * h + startsByStarting(input, h, perReplica);
    if (h >= lead) extra = Math.max(extra, (due - fromExisting) / startsByOneReplica(h, lead, concurrency, perReplica));
    kept = Math.max(kept, due / (perReplica * h + freePerReplica));
  }
  return extra > 0 ? existing + extra : Math.min(existing, kept);
}
