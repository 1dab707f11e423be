import type { QueueReading } from '../signals/queue-reading.ts';
import { poolCompletions, type SignalProfile } from '../signals/signal-profile.ts';
import { addToRate, rateOf } from './decayed-rate.ts';
import type { CompletionSpan, DecayedRate, SampleMemo, ScalerState, ServiceEstimate } from './types.ts';

// Turns successive readings into the three quantities the sizing needs: how fast jobs arrive,
// how long one job runs, and so how many jobs a replica completes per second, from what the
// format's signal profile provides (operator/src/signals/signal-profile.ts): a completion
// counter where the pool has its own, else the queue head advancing, else depth alone. Never
// from a guessed per-pod queue length. A counter that moves in lumps at heartbeats (Sidekiq's
// stat:processed) is read only over spans of at least a heartbeat, for the service time and the
// arrival rates; between span ends the rates stand (ADR 0004).

/** Arrivals react within a few polls: a burst must be sized before its backlog ages. */
export const ARRIVALS_FAST_HALF_LIFE_SECONDS = 6;
/** The slow arrival rate is the baseline the trend is measured against. */
export const ARRIVALS_SLOW_HALF_LIFE_SECONDS = 45;
/** Service time changes slowly; a long memory keeps heavy-tailed jobs from jolting it. */
export const SERVICE_HALF_LIFE_SECONDS = 120;
/** How far ahead a rising arrival rate is extrapolated, at most, in multiples of the lead time. */
export const TREND_HORIZON_CAP_SECONDS = 120;

/** What the engine knows besides the reading when it folds one in. */
export interface ObservationContext {
  /** Jobs that came due from the schedule since the previous sample (scheduledCameDue). */
  scheduledCameDue?: number;
  profile: SignalProfile;
  /** Job slots of the replicas serving now: what a non-empty queue keeps busy. */
  servingSlots: number;
}

export interface ObservedSignals {
  arrivalsFast: DecayedRate;
  arrivalsSlow: DecayedRate;
  service: DecayedRate;
  serviceEstimate: ServiceEstimate | undefined;
  /** Jobs that arrived since the previous sample, when they could be counted or estimated. */
  arrivedSinceLast: number | undefined;
  lastSample: SampleMemo;
  completionSpan: CompletionSpan | undefined;
}

/**
 * Jobs that arrived between two samples: every arrival is still waiting, running, or done, so
 * arrivals = Δdepth + Δbusy + Δcompleted. Undefined when a counter is missing or was reset.
 */
export function arrivalsBetween(previous: SampleMemo, current: SampleMemo): number | undefined {
  if (previous.completedTotal === undefined || current.completedTotal === undefined) return undefined;
  // A lump added at a heartbeat is not a burst of arrivals: such a counter counts none.
  if (current.completedGranularitySeconds !== undefined) return undefined;
  const completed = current.completedTotal - previous.completedTotal;
  if (completed < 0) return undefined;
  const busyChange = (current.busy ?? 0) - (previous.busy ?? 0);
  return Math.max(0, current.depth - previous.depth + busyChange + completed);
}

/**
 * Jobs that left the queue between two samples, from how far its head advanced: the oldest job
 * waiting at each sample arrived `age` seconds before it, and the waiting jobs are taken to have
 * arrived evenly since the oldest one (the queue only tells its length and its oldest age).
 * Undefined when it cannot be told: no age, or the queue empty at the second sample (everything
 * started, arrivals in between included, and those are not counted). Never less than the
 * backlog's shrink.
 */
export function startsFromHeadAdvance(previous: SampleMemo, current: SampleMemo): number | undefined {
  const ageBefore = previous.oldestAgeSeconds;
  const ageNow = current.oldestAgeSeconds;
  if (ageBefore === undefined || ageNow === undefined || current.depth <= 0) return undefined;
  const seconds = (current.atMs - previous.atMs) / 1000;
  // Seconds after the first sample at which the job now at the head arrived.
  const headNow = seconds - ageNow;
  const arrivingPerSecond = ageNow > 0 ? current.depth / ageNow : 0;
  if (previous.depth <= 0 || ageBefore <= 0) {
    // From an empty queue, the few jobs waiting now say little about the rate when they are much
    // younger than the interval (one job 0.01 s old is not 100 jobs/s).
    if (ageNow < seconds / 2) return undefined;
    return Math.max(0, arrivingPerSecond * headNow);
  }
  // However the jobs' ages are spread, a queue that shrank started at least what it lost: a
  // one-off burst enqueued at one instant keeps its head's age while it drains.
  const shrank = previous.depth - current.depth;
  if (headNow <= 0)
    return Math.max(shrank, previous.depth * Math.min(1, Math.max(0, (ageBefore + headNow) / ageBefore)));
  return Math.max(shrank, previous.depth + arrivingPerSecond * headNow);
}

export function memoOf(reading: QueueReading, profile: SignalProfile): SampleMemo {
  const completedTotal = poolCompletions(profile, reading);
  return {
    atMs: reading.observedAtMs,
    depth: reading.depth,
    busy: reading.busy,
    completedTotal,
    // The recorded run time is kept for the whole Redis, like the counter: the pool's under its condition.
    ...(reading.recordedRunTime === undefined || completedTotal === undefined
      ? {}
      : { recordedRunTime: reading.recordedRunTime }),
    ...(reading.completedGranularitySeconds === undefined
      ? {}
      : {
          completedGranularitySeconds: reading.completedGranularitySeconds,
          ...(reading.workers === undefined ? {} : { processes: reading.workers.length }),
          ...beatAges(reading),
        }),
    oldestAgeSeconds: reading.oldestJobAgeSeconds,
    ...(reading.upcoming === undefined
      ? {}
      : { upcoming: { horizonsSeconds: reading.upcoming.horizonsSeconds, dueWithin: reading.upcoming.dueWithin } }),
  };
}

/**
 * Scheduled jobs the previous sample counted as coming due within the time since: jobs that
 * arrive by schedule, not by a rise in the arrival rate. Read at the longest horizon within the
 * interval, so it never counts a job that may not be due yet.
 */
export function scheduledCameDue(previous: SampleMemo | undefined, nowMs: number): number {
  const upcoming = previous?.upcoming;
  if (previous === undefined || upcoming === undefined) return 0;
  const elapsed = (nowMs - previous.atMs) / 1000;
  let due = 0;
  upcoming.horizonsSeconds.forEach((horizon, index) => {
    if (horizon <= elapsed) due = upcoming.dueWithin[index] ?? due;
  });
  return due;
}

/**
 * Jobs and run seconds the workers recorded between two samples (QueueReading.recordedRunTime).
 * Sidekiq adds them at each process's heartbeat, like its counter, but the ratio needs no busy:
 * jobs that start and end between two beats, which busy never shows, are in it with the seconds
 * they ran (ADR 0004, "Sidekiq's own run time"). Undefined where either sample lacks it or it
 * went down (the reader began counting again).
 */
export function recordedRunTimeBetween(
  previous: SampleMemo,
  current: SampleMemo,
): { jobs: number; seconds: number } | undefined {
  const before = previous.recordedRunTime;
  const now = current.recordedRunTime;
  if (before === undefined || now === undefined || now.jobs < before.jobs || now.seconds < before.seconds)
    return undefined;
  return { jobs: now.jobs - before.jobs, seconds: now.seconds - before.seconds };
}

/** Folds one reading into the decayed rates of the state. */
export function observeReading(
  state: ScalerState,
  reading: QueueReading,
  context: ObservationContext,
): ObservedSignals {
  const current = memoOf(reading, context.profile);
  const previous = state.lastSample;
  const unchanged = {
    arrivalsFast: state.arrivalsFast,
    arrivalsSlow: state.arrivalsSlow,
    service: state.service,
    serviceEstimate: state.serviceEstimate,
    arrivedSinceLast: undefined,
    lastSample: current,
    completionSpan: openSpan(current),
  };
  if (previous === undefined || current.atMs <= previous.atMs) return unchanged;
  const seconds = (current.atMs - previous.atMs) / 1000;
  const flow = intervalFlow(previous, current, context, serviceTimeSeconds(state.service));
  const span = lumpyCounterSpan(
    state.completionSpan,
    previous,
    current,
    flow.inService,
    context.scheduledCameDue ?? 0,
    serviceTimeSeconds(state.service),
  );
  // Scheduled jobs coming due are known work, not a rate to plan the next start-up for.
  const arrived = flow.arrived === undefined ? undefined : Math.max(0, flow.arrived - (context.scheduledCameDue ?? 0));
  // A lumpy counter counts the arrivals of a whole span when it closes, and the rates take them
  // over the span's length; in between, the queue's estimate only tells whether anything arrived.
  const forRates =
    span === undefined
      ? arrived === undefined
        ? undefined
        : { jobs: arrived, seconds }
      : span.measured === undefined
        ? undefined
        : { jobs: span.measured.arrived, seconds: span.measured.seconds };
  const arrivalsFast =
    forRates === undefined
      ? state.arrivalsFast
      : addToRate(state.arrivalsFast, forRates.jobs, forRates.seconds, ARRIVALS_FAST_HALF_LIFE_SECONDS);
  const arrivalsSlow =
    forRates === undefined
      ? state.arrivalsSlow
      : addToRate(state.arrivalsSlow, forRates.jobs, forRates.seconds, ARRIVALS_SLOW_HALF_LIFE_SECONDS);
  // With a lumpy counter the service time is the counter's over whole spans, never the queue's.
  const service =
    span === undefined
      ? observeService(state.service, flow, seconds)
      : span.measured === undefined || (span.measured.busySeconds <= 0 && span.measured.completed === 0)
        ? state.service
        : addToRate(
            state.service,
            span.measured.completed,
            span.measured.busySeconds,
            SERVICE_HALF_LIFE_SECONDS,
            span.measured.seconds,
          );
  // What the workers recorded of their jobs' run time is the service time itself; the counter's
  // spans stay for the arrivals.
  const recorded = recordedRunTimeBetween(previous, current);
  const serviceNow =
    recorded === undefined
      ? service
      : recorded.jobs <= 0 && recorded.seconds <= 0
        ? state.service
        : addToRate(state.service, recorded.jobs, recorded.seconds, SERVICE_HALF_LIFE_SECONDS, seconds);
  const serviceEstimate =
    serviceNow === state.service
      ? state.serviceEstimate
      : recorded !== undefined
        ? 'recorded run time'
        : span === undefined
          ? flow.estimate
          : 'completions';
  return {
    arrivalsFast,
    arrivalsSlow,
    service: serviceNow,
    serviceEstimate,
    arrivedSinceLast: arrived,
    lastSample: current,
    completionSpan: span?.open,
  };
}

/**
 * Heartbeats a lumpy counter's span covers at least before it is read. One: on bench:scaling,
 * two heartbeats met 7 of 12 traces for the sidekiq profile against 8 for one (the arrivals lag
 * twice as far behind the load).
 */
export const COUNTER_SPAN_HEARTBEATS = 1;

/**
 * Seconds since each worker's last beat, summed, where every worker says when it beat. A beat
 * time comes from the worker host's clock (Sidekiq: Time.now), the reading's from Redis: each
 * age is kept within one heartbeat, since a live process beats once a heartbeat, so that a host
 * whose clock runs ahead or behind can skew the correction by at most one heartbeat's starts.
 */
function beatAges(reading: QueueReading): Pick<SampleMemo, 'beatAgeSeconds' | 'secondsSinceBeats'> {
  const workers = reading.workers;
  const heartbeatMs = (reading.completedGranularitySeconds ?? 0) * 1000;
  if (workers === undefined || workers.some((worker) => worker.beatAtMs === undefined)) return {};
  const ages = workers.map(
    (worker) => Math.min(heartbeatMs, Math.max(0, reading.observedAtMs - (worker.beatAtMs ?? 0))) / 1000,
  );
  return { beatAgeSeconds: ages.reduce((sum, age) => sum + age, 0), secondsSinceBeats: ages };
}

/**
 * How much nearer their last beats the processes must be at the next poll for a span that
 * covers a heartbeat to stay open for it (bench:scaling, sidekiq profile: 0.3 to 0.8 met the
 * same traces, 1.0 lost one; ADR 0004, "A span closes just after the beats").
 */
export const SPAN_CLOSE_AGE_GAIN = 0.5;

/**
 * Whether the next poll, `pollSeconds` on, would find the processes much nearer their last
 * beats than this one (SPAN_CLOSE_AGE_GAIN): beats that fall in step, as those of one scale-up's
 * pods do, are all about to land. A span closed where they are old is corrected by nearly a
 * whole span's starts, taken from the span's own rate, which counts its noise twice.
 */
export function beatsAboutToLand(current: SampleMemo, pollSeconds: number, heartbeatSeconds: number): boolean {
  const ages = current.secondsSinceBeats ?? [];
  let agesNow = 0;
  let agesAtNextPoll = 0;
  for (const age of ages) {
    const later = age + pollSeconds;
    agesNow += age;
    agesAtNextPoll += later >= heartbeatSeconds ? later - heartbeatSeconds : later;
  }
  return agesNow > 0 && agesAtNextPoll < SPAN_CLOSE_AGE_GAIN * agesNow;
}

/** A span that starts at this sample, where its counter is lumpy and the pool's. */
function openSpan(sample: SampleMemo): CompletionSpan | undefined {
  if (sample.completedGranularitySeconds === undefined || sample.completedTotal === undefined) return undefined;
  return {
    fromMs: sample.atMs,
    completedTotal: sample.completedTotal,
    busySeconds: 0,
    depth: sample.depth,
    busy: sample.busy ?? 0,
    cameDue: 0,
    ...(sample.processes === undefined ? {} : { processes: sample.processes }),
    ...(sample.beatAgeSeconds === undefined ? {} : { beatAgeSeconds: sample.beatAgeSeconds, processSeconds: 0 }),
  };
}

/**
 * A lumpy counter over the span since its last use: each process adds its count at its own
 * heartbeat, so the counter is behind by at most one heartbeat at either end of a span. Over a
 * span of at least one heartbeat that error is at most the span's own size, and it does not add
 * up: the next span starts where this one ended, so the lumps telescope and a decayed sum over
 * many spans is right. Each end is corrected by what the counter is expected to be behind
 * there (`unflushedCompletions`): the correction telescopes as well, so the sum stays exact,
 * and a span after a burst no longer counts the burst's last completions as its own arrivals.
 * Busy job-seconds are counted poll by poll over the same span. A counter that went down (a
 * reset) or stopped being the pool's drops the span.
 */
export function lumpyCounterSpan(
  open: CompletionSpan | undefined,
  previous: SampleMemo,
  current: SampleMemo,
  inService: number | undefined,
  cameDue: number,
  serviceSeconds: number | undefined,
): LumpyCounterSpan | undefined {
  const granularity = current.completedGranularitySeconds;
  const total = current.completedTotal;
  if (granularity === undefined || total === undefined) return undefined;
  const fresh = openSpan(current);
  if (
    open === undefined ||
    previous.completedTotal === undefined ||
    total < open.completedTotal ||
    inService === undefined
  )
    return { open: fresh, measured: undefined };
  const jobSeconds = (inService * (current.atMs - previous.atMs)) / 1000;
  const busySeconds = open.busySeconds + jobSeconds;
  const intoSpan = ((previous.atMs + current.atMs) / 2 - open.fromMs) / 1000;
  const busyMoment = (open.busyMoment ?? 0) + jobSeconds * intoSpan;
  const processes = Math.max(open.processes ?? 0, current.processes ?? 0);
  const dueSoFar = open.cameDue + cameDue;
  const processSeconds =
    open.processSeconds === undefined || previous.processes === undefined || current.processes === undefined
      ? undefined
      : open.processSeconds + (((previous.processes + current.processes) / 2) * (current.atMs - previous.atMs)) / 1000;
  const seconds = (current.atMs - open.fromMs) / 1000;
  // A span closes once it covers a heartbeat, a poll later where the beats are about to land,
  // and never past a heartbeat more.
  if (
    seconds < granularity * COUNTER_SPAN_HEARTBEATS ||
    (seconds < granularity * (COUNTER_SPAN_HEARTBEATS + 1) &&
      beatsAboutToLand(current, (current.atMs - previous.atMs) / 1000, granularity))
  )
    return {
      open: {
        ...open,
        busySeconds,
        busyMoment,
        processes,
        cameDue: dueSoFar,
        ...(processSeconds === undefined ? {} : { processSeconds }),
      },
      measured: undefined,
    };
  const completed = total - open.completedTotal;
  const seen = completed + (current.busy ?? 0) - open.busy;
  const unflushed =
    startsNotYetSeen({
      seen,
      processSeconds,
      beatAgeAtStart: open.beatAgeSeconds,
      beatAgeAtEnd: current.beatAgeSeconds,
    }) ??
    unflushedCompletions({
      busySeconds,
      busyMoment,
      spanSeconds: seconds,
      heartbeatSeconds: granularity,
      serviceSeconds,
      processesShare: processes > 0 && current.processes !== undefined ? current.processes / processes : 1,
    });
  // Scheduled jobs that came due late in one span may show in the counter only in the next: a
  // count below zero is carried over, not dropped, so that they are never counted as arrivals.
  const counted = current.depth - open.depth + seen + unflushed - (open.unflushed ?? 0) - dueSoFar - (open.owed ?? 0);
  const arrived = Math.max(0, counted);
  const next =
    fresh === undefined
      ? undefined
      : {
          ...fresh,
          unflushed,
          afterSpanWithoutBacklog: current.depth === 0,
          ...(counted < 0 ? { owed: -counted } : {}),
        };
  return { open: next, measured: { completed, busySeconds, seconds, arrived } };
}

/**
 * Completions the processes have made but not yet added to a lumpy counter, expected at a span's
 * end. A process adds its count at its heartbeat, so it is behind by what it finished since its
 * last beat; beats fall at phases spread over the period, so the time since a process's last beat
 * is uniform over one heartbeat, and the counter is behind by the throughput of the last
 * heartbeat weighted by 1 - age / heartbeat (the newest completions are missing from nearly every
 * process, those a heartbeat old from none). Throughput is busy over the service time (Little's
 * law), and the span, one heartbeat long, holds the busy job-seconds to weight. A process that
 * stopped added its count as it did (at_exit in 6.x, clear_heartbeat from 7.0): only the share of
 * the span's processes still live is behind. Zero until a service time is known.
 */
export function unflushedCompletions(span: {
  busySeconds: number;
  /** Busy job-seconds, each weighted by the seconds into the span it ran. */
  busyMoment: number;
  spanSeconds: number;
  heartbeatSeconds: number;
  serviceSeconds: number | undefined;
  /** Processes live at the span's end over the most the span saw. */
  processesShare: number;
}): number {
  if (span.serviceSeconds === undefined || span.serviceSeconds <= 0) return 0;
  const weighted =
    span.busySeconds * (1 - span.spanSeconds / span.heartbeatSeconds) + span.busyMoment / span.heartbeatSeconds;
  return (Math.max(0, weighted) * Math.min(1, Math.max(0, span.processesShare))) / span.serviceSeconds;
}

/**
 * Jobs the processes started that neither busy nor the counter show yet, at a span's end, where
 * both are written only at each process's heartbeat and every process says when it last beat
 * (Sidekiq: launcher.rb `❤` writes busy and adds its finished jobs in the same beat). busy plus
 * the counter is then every job a process started, as of its own last beat: behind by what it
 * started since. Over the span, busy plus the counter moved by the jobs started over exactly the
 * process-seconds the beats covered (the span's process-seconds, less the seconds since the beats
 * at its end, plus those at its start), which gives the rate per process-second; the processes
 * are behind by that rate over the seconds since their last beats, summed. Known ages, not
 * assumed ones: right whether the beats spread over the period or fall in step. Undefined where
 * an age is unknown or the beats covered nothing.
 */
export function startsNotYetSeen(span: {
  /** Δbusy + Δcompleted over the span, both as of each process's beat. */
  seen: number;
  processSeconds: number | undefined;
  beatAgeAtStart: number | undefined;
  beatAgeAtEnd: number | undefined;
}): number | undefined {
  const { processSeconds, beatAgeAtStart, beatAgeAtEnd } = span;
  if (processSeconds === undefined || beatAgeAtStart === undefined || beatAgeAtEnd === undefined) return undefined;
  const covered = processSeconds - beatAgeAtEnd + beatAgeAtStart;
  if (covered <= 0) return undefined;
  return (Math.max(0, span.seen) / covered) * beatAgeAtEnd;
}

export interface LumpyCounterSpan {
  /** The span to carry to the next poll. */
  open: CompletionSpan | undefined;
  /** A span that covered a heartbeat just closed: jobs it completed and busy job-seconds over it. */
  measured: { completed: number; busySeconds: number; seconds: number; arrived: number } | undefined;
}

interface IntervalFlow {
  arrived: number | undefined;
  /** Jobs completed, counted or estimated, for the service time. */
  completed: number | undefined;
  /** Mean jobs in service over the interval: counted, or every slot while jobs wait. */
  inService: number | undefined;
  estimate: ServiceEstimate | undefined;
}

/**
 * What happened between two samples, from what the profile provides. A completion counter
 * counts it; without one the head of the queue advancing counts the jobs that started; with
 * depth alone a shrinking backlog bounds them from below. While jobs wait, every serving slot
 * is busy, which stands in for a busy count the format does not keep.
 */
function intervalFlow(
  previous: SampleMemo,
  current: SampleMemo,
  context: ObservationContext,
  serviceSeconds: number | undefined,
): IntervalFlow {
  const seconds = (current.atMs - previous.atMs) / 1000;
  const busyKnown = previous.busy !== undefined && current.busy !== undefined;
  const saturated = previous.depth > 0 && current.depth > 0;
  const inService = busyKnown
    ? ((previous.busy ?? 0) + (current.busy ?? 0)) / 2
    : saturated
      ? context.servingSlots
      : undefined;
  const busyChange = busyKnown ? (current.busy ?? 0) - (previous.busy ?? 0) : 0;
  const depthChange = current.depth - previous.depth;
  const counted = arrivalsBetween(previous, current);
  if (counted !== undefined)
    return {
      arrived: counted,
      completed: (current.completedTotal ?? 0) - (previous.completedTotal ?? 0),
      inService: busyKnown ? inService : undefined,
      estimate: 'completions',
    };
  const headStarts = startsFromHeadAdvance(previous, current);
  const drained = !context.profile.oldestAge && saturated && depthChange < 0 ? -depthChange : undefined;
  const starts = headStarts ?? drained;
  const estimate: ServiceEstimate | undefined =
    headStarts !== undefined ? 'queue drain' : drained !== undefined ? 'depth drain' : undefined;
  // Only while jobs wait at both samples is the head's advance a good count of starts; at the
  // edges of a burst it is a small difference of large numbers, and one such sample would
  // throw the service time off by a multiple.
  const completed = starts === undefined || !saturated ? undefined : Math.max(0, starts - busyChange);
  if (headStarts !== undefined)
    return { arrived: Math.max(0, depthChange + headStarts), completed, inService, estimate };
  // Jobs in service complete at inService / service time (Little's law read the other way).
  if (inService !== undefined && serviceSeconds !== undefined)
    return {
      arrived: Math.max(0, depthChange + busyChange + (inService * seconds) / serviceSeconds),
      completed,
      inService,
      estimate,
    };
  // Depth alone and an empty queue: nothing seen arriving. An idle pool and one that keeps up
  // look the same; counting nothing lets an idle pool shrink, and a backlog regrows it.
  if (!context.profile.inFlight && current.depth <= 0)
    return { arrived: Math.max(0, depthChange), completed, inService, estimate };
  return { arrived: undefined, completed, inService, estimate };
}

/**
 * Little's law on the jobs in service: mean busy = throughput × service time, so the service
 * time is busy job-seconds over completions. Kept as decayed sums (events = completions,
 * seconds = busy job-seconds). Intervals with nothing running carry no information.
 */
function observeService(service: DecayedRate, flow: IntervalFlow, seconds: number): DecayedRate {
  if (flow.completed === undefined || flow.completed < 0 || flow.inService === undefined) return service;
  const busySeconds = flow.inService * seconds;
  if (busySeconds <= 0 && flow.completed === 0) return service;
  return addToRate(service, flow.completed, busySeconds, SERVICE_HALF_LIFE_SECONDS, seconds);
}

/**
 * Whether a heartbeat counter's lump landed between two samples: some process finished jobs in
 * the heartbeat before its beat. Where busy too is written only at the heartbeat (Sidekiq), jobs
 * shorter than a heartbeat never show in it, and the lump is the only sign that the pool worked
 * since: such a pool was not idle.
 */
export function lumpLanded(previous: SampleMemo | undefined, current: SampleMemo): boolean {
  if (current.completedGranularitySeconds === undefined || current.completedTotal === undefined) return false;
  return previous?.completedTotal !== undefined && current.completedTotal > previous.completedTotal;
}

/**
 * Whether the arrival rates are counted rather than estimated: every poll where the counter
 * counts each completion as it happens; with a lumpy counter, from the poll where a span that
 * ended with no job waiting closed (its arrivals, measured over a whole heartbeat, are the load:
 * a backlog it drained is in its Δdepth and Δcompleted alike, and the completions the counter
 * was still behind by at the span's start are taken off by `unflushedCompletions`).
 */
export function arrivalsCounted(countsEveryCompletion: boolean, span: CompletionSpan | undefined): boolean {
  return countsEveryCompletion || span?.afterSpanWithoutBacklog === true;
}

/** Mean seconds one job runs, or undefined until a completion was seen. */
export function serviceTimeSeconds(service: DecayedRate): number | undefined {
  if (service.events < 0.5) return undefined;
  const perJob = service.seconds / service.events;
  return perJob > 0 ? perJob : undefined;
}

/** How many standard deviations below the slow rate the fast one must fall to count as a real drop. */
export const RATE_DROP_SIGMAS = 2;

/**
 * Poisson noise on an exponentially weighted rate counted poll by poll is that of a count over
 * 2 τ, τ its mean age (a relative deviation of 1 / sqrt(2 λ τ)).
 */
export const FAST_RATE_COUNTED_SECONDS = (2 * ARRIVALS_FAST_HALF_LIFE_SECONDS) / Math.LN2;

/**
 * Seconds of arrivals whose count the fast rate is as noisy as. Where the arrivals are counted
 * over a lumpy counter's spans (one heartbeat each, which the fast rate's half-life keeps little
 * of the span before), each end of a span is an estimate of what the beats have not shown yet
 * (startsNotYetSeen, over beat ages of half a heartbeat on average), as noisy as a count over
 * those ages: the span's count and its two ends together are as noisy as a count over half a
 * heartbeat. Taking that as 2 τ let the sidekiq profile's heavy-tail take 50 scale events
 * against the oracle's 15, the span rate's noise read as drops (ADR 0004, "A span's rate is
 * noisier").
 */
export function arrivalsCountedOverSeconds(observed: Pick<ObservedSignals, 'completionSpan' | 'lastSample'>): number {
  const heartbeat = observed.lastSample.completedGranularitySeconds;
  return observed.completionSpan === undefined || heartbeat === undefined
    ? FAST_RATE_COUNTED_SECONDS
    : Math.min(FAST_RATE_COUNTED_SECONDS, heartbeat / 2);
}

/**
 * The slow rate, unless the fast one has clearly dropped below it: beyond RATE_DROP_SIGMAS of
 * the Poisson noise of a count over `countedOverSeconds` (arrivalsCountedOverSeconds). Noise
 * must not shrink the pool (each shrink and regrowth pays a drain and a start-up), but after a
 * burst the pool should not wait for the slow average to forget it.
 */
export function sustainedRate(fast: number, slow: number, countedOverSeconds = FAST_RATE_COUNTED_SECONDS): number {
  if (fast >= slow) return slow;
  const relativeNoise = 1 / Math.sqrt(Math.max(1, slow * countedOverSeconds));
  return fast < slow * (1 - RATE_DROP_SIGMAS * relativeNoise) ? fast : slow;
}

/** Whether the fast rate has fallen clearly (beyond its noise) below the slow one: a real drop. */
export function arrivalsDropping(
  fast: DecayedRate,
  slow: DecayedRate,
  countedOverSeconds = FAST_RATE_COUNTED_SECONDS,
): boolean {
  const recent = rateOf(fast);
  const baseline = rateOf(slow);
  if (recent === undefined || baseline === undefined) return false;
  return sustainedRate(recent, baseline, countedOverSeconds) < baseline;
}

/**
 * The arrival rates to plan for: the recent one (for deadlines) and the sustained one (for the
 * steady floor, which then changes less often), each plus, when arrivals are rising, the rise
 * extrapolated over the time new capacity needs to arrive. A falling rate is not extrapolated:
 * under-sizing costs the SLO, over-sizing only costs until the next poll.
 */
export function plannedArrivalRate(
  fast: DecayedRate,
  slow: DecayedRate,
  leadSeconds: number,
  countedOverSeconds = FAST_RATE_COUNTED_SECONDS,
): { current: number; planned: number; sustained: number } {
  const current = rateOf(fast) ?? 0;
  const baseline = rateOf(slow) ?? current;
  // The fast and slow averages lag the truth by about their mean ages (half-life / ln 2).
  const lagGap = (ARRIVALS_SLOW_HALF_LIFE_SECONDS - ARRIVALS_FAST_HALF_LIFE_SECONDS) / Math.LN2;
  const slope = Math.max(0, (current - baseline) / lagGap);
  const horizon = Math.min(TREND_HORIZON_CAP_SECONDS, leadSeconds + ARRIVALS_FAST_HALF_LIFE_SECONDS / Math.LN2);
  const rise = slope * horizon;
  return { current, planned: current + rise, sustained: sustainedRate(current, baseline, countedOverSeconds) + rise };
}
