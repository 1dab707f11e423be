import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { createWorkerMetrics, type ReservationOperation, type WorkerMetrics } from '../metrics/metrics.ts';
import {
  ackAndReserve,
  maintainQueue,
  publishHeartbeat,
  recordFailure,
  releaseJobs,
  type ReservedJob,
} from '../protocol/commands.ts';
import { DEAD_REASONS, type DeadReason } from '../protocol/dead-letter.ts';
import { entryJobId, reservationEntry } from '../protocol/entry.ts';
import { encodeHeartbeat } from '../protocol/heartbeat.ts';
import { decodeRecord, encodeRecord, type JobRecord } from '../protocol/job-record.ts';
import { DEFAULT_KEY_PREFIX, queueKeys, type QueueKeys } from '../protocol/keys.ts';
import { openConnection } from '../redis/connection.ts';
import { checkEvictionPolicy } from '../redis/eviction-policy.ts';
import { runCloseStep } from './close-step.ts';
import { describeError } from './errors.ts';
import { decideFailure } from './failure-policy.ts';
import type { Handlers, Job } from './job.ts';
import { Periodic } from './periodic.ts';
import { prefetchCount, RunTimeAverage } from './prefetch.ts';
import { runHandler } from './run-handler.ts';
import { WakeSignal } from './wake-signal.ts';
import { MAX_BATCH, resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './worker-options.ts';

export interface WorkerEvents {
  /** The worker stopped taking jobs: asked to drain by the operator, or closing. */
  draining: [];
  closing: [];
  closed: [];
  completed: [job: Job];
  failed: [job: Job, error: unknown];
  dead: [jobId: string, reason: DeadReason];
  error: [error: unknown];
}

interface InFlight {
  /** `<token>:<entry>`: the reservation this worker acks, fails, releases and extends. */
  readonly reservation: string;
  readonly controller: AbortController;
  /** Returned to the queue while draining: whatever the handler does later is ignored. */
  released: boolean;
}

/** Seconds a worker blocks waiting for a job before it looks again (a job arriving wakes it at once). */
const BLOCK_SECONDS = 5;
/** Pause after a failed round trip, so a broken Redis is not hammered. */
const ERROR_PAUSE_MS = 500;
/** Bound of each Redis step of close(): a dead Redis must not hold the pod until SIGKILL. */
const CLOSE_STEP_TIMEOUT_MS = 5_000;
const MAINTAIN_LIMIT = 1_000;
/** A heartbeat lives this many intervals: one or two late beats do not make a worker look gone. */
const HEARTBEAT_LIFETIME_INTERVALS = 3;

/**
 * How long without any maintenance (by any worker) means Redis or every worker was away rather than
 * one worker dying: well above the maintenance interval, and below the visibility timeout less a
 * heartbeat, the least a pause must last to let a live reservation expire.
 */
function maintenanceGapMs(opts: ResolvedWorkerOptions): number {
  return Math.max(opts.visibilityTimeoutMs / 2, 3 * opts.maintenanceIntervalMs);
}
/** At most one extra heartbeat a second for a worker that goes idle -> busy over and over on sparse load. */
const IDLE_TO_BUSY_BEAT_MIN_GAP_MS = 1_000;
/** How long a job that ends a worker's idle spell waits for the heartbeat announcing it: a slow Redis must not stall jobs. */
const BUSY_ANNOUNCEMENT_WAIT_MS = 1_000;

/**
 * Runs the jobs of one queue: reserves batches, runs handlers with bounded concurrency, acks, retries,
 * buries, heartbeats, and drains on close(). See PROTOCOL.md for what happens in Redis.
 */
export class Worker extends EventEmitter<WorkerEvents> {
  readonly queue: string;
  readonly workerId: string;
  readonly keys: QueueKeys;
  private readonly opts: ResolvedWorkerOptions;
  private readonly handlers: Handlers;
  private readonly redis: Redis;
  private readonly ownsRedis: boolean;
  private readonly blocking: Redis;
  private readonly metrics: WorkerMetrics;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly random: () => number;
  /** Running jobs by reservation. */
  private readonly inFlight = new Map<string, InFlight>();
  /**
   * Reservation tokens: a random stem of this worker and a counter, one token per reserving call.
   * A token starts with a letter, never a digit as a ready time does (see maintain-10.lua).
   */
  private readonly tokenStem = `r${randomBytes(6).toString('hex')}`;
  private tokenCount = 0;
  private lastBeatAt = 0;
  /** The busy count the last published heartbeat gave. */
  private lastBeatBusy = 0;
  private deferredBusyBeat: NodeJS.Timeout | undefined;
  /** Reserved, not started yet (see prefetch.ts). */
  private readonly prefetched: ReservedJob[] = [];
  private readonly runTime = new RunTimeAverage();
  /** Reservations of finished jobs, acknowledged with the next round trip. */
  private readonly acks: string[] = [];
  private readonly wakeUp = new WakeSignal();
  private readonly heartbeat: Periodic;
  private readonly maintenance: Periodic;
  private readonly startedAt: number;
  private arrival: Promise<void> | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private closePromise: Promise<void> | undefined;
  private quietPromise: Promise<void> | undefined;
  /** Takes no new job (a drain request, or close). The fetch loop still acks what finishes. */
  private draining = false;
  /** close() began: the fetch loop ends. */
  private stopping = false;
  private started = false;
  /** The last maintenance found the queue in a grace after a gap (logged once per grace). */
  private inGrace = false;

  constructor(queue: string, options: WorkerOptions) {
    super();
    this.opts = resolveWorkerOptions(options);
    this.queue = queue;
    this.keys = queueKeys(options.prefix ?? DEFAULT_KEY_PREFIX, queue);
    this.handlers = options.handlers;
    const { redis, owned } = openConnection(options.connection);
    this.redis = redis;
    this.ownsRedis = owned;
    // Blocking commands need a connection of their own, or they would stall acks behind them.
    this.blocking = redis.duplicate();
    this.blocking.on('error', (err) => this.log.debug({ err }, 'blocking connection error'));
    this.metrics = options.metrics ?? createWorkerMetrics();
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ queue });
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.workerId = `${this.opts.podName}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.startedAt = this.now();
    this.heartbeat = new Periodic(
      this.opts.heartbeatIntervalMs,
      () => this.beat(false),
      (err) => this.reportError('heartbeat failed', err),
    );
    this.maintenance = new Periodic(
      this.opts.maintenanceIntervalMs,
      () => this.maintain(),
      (err) => this.reportError('maintenance failed', err),
    );
  }

  /** Jobs running now. */
  get busy(): number {
    return this.inFlight.size;
  }

  get concurrency(): number {
    return this.opts.concurrency;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** close() began: the worker stops, as opposed to a drain on request, after which it lives on. */
  get isClosing(): boolean {
    return this.stopping;
  }

  /**
   * Checks that Redis will not evict the queue, publishes the first heartbeat, then starts fetching.
   * Throws EvictionPolicyError when Redis may evict keys and evictionPolicyCheck is `refuse`.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error(`worker ${this.workerId} was already started`);
    this.started = true;
    const warning = await checkEvictionPolicy(this.redis, this.opts.evictionPolicyCheck);
    if (warning) this.log.warn(warning);
    await this.beat(false);
    this.heartbeat.start(this.opts.heartbeatIntervalMs);
    // Spread the workers' housekeeping over the interval instead of all at once.
    this.maintenance.start(Math.floor(this.random() * this.opts.maintenanceIntervalMs));
    this.loopDone = this.fetchLoop();
    this.metrics.concurrency.set({ queue: this.queue }, this.opts.concurrency);
    this.log.info({ workerId: this.workerId, concurrency: this.opts.concurrency }, 'worker started');
  }

  /**
   * Stops taking jobs and lets the running ones finish, staying alive: heartbeats go on (saying
   * `draining` and the busy count), finished jobs are acked, prefetched ones go back to the queue.
   * The operator asks for this through the drain request key before it removes the pod (PROTOCOL.md,
   * "Remote drain"); close() follows when the pod is deleted. Idempotent.
   */
  quiet(): Promise<void> {
    this.quietPromise ??= this.stopTakingJobs();
    return this.quietPromise;
  }

  private async stopTakingJobs(): Promise<void> {
    this.draining = true;
    this.emit('draining');
    this.metrics.draining.set({ queue: this.queue }, 1);
    this.log.info({ inFlight: this.inFlight.size, drainTimeoutMs: this.opts.drainTimeoutMs }, 'draining');
    this.wakeUp.wake();
    if (!this.stopping) await this.step('publish draining', () => this.heartbeat.runNow());
  }

  /**
   * Drains and stops: no more fetching, in-flight jobs get until the drain deadline, unfinished ones
   * go back to the head of the queue. Idempotent: every call returns the same promise.
   */
  close(): Promise<void> {
    this.closePromise ??= this.shutdown();
    return this.closePromise;
  }

  private async fetchLoop(): Promise<void> {
    while (!this.stopping) {
      // A reserving round trip in flight when the drain began may still bring jobs: back they go.
      if (this.draining && this.prefetched.length > 0)
        await this.step('return prefetched jobs', () => this.releasePrefetched());
      const capacity = this.opts.concurrency + prefetchCount(this.opts.concurrency, this.runTime.ms);
      const free = this.draining ? 0 : Math.min(capacity - this.inFlight.size - this.prefetched.length, MAX_BATCH);
      if (free <= 0 && this.acks.length === 0) {
        await this.wakeUp.wait();
        // Let the other jobs finishing in this turn queue their acks: one round trip for all of them.
        await nextTurn();
        continue;
      }
      const reserved = await this.cycle(Math.max(free, 0));
      if (reserved === undefined) {
        await sleep(ERROR_PAUSE_MS);
      } else if (reserved < free && !this.draining) {
        await Promise.race([this.wakeUp.wait(), this.waitForArrival()]);
      }
    }
  }

  /** Acks what finished and reserves up to `count` jobs in one round trip; undefined on failure. */
  private async cycle(count: number): Promise<number | undefined> {
    const acks = this.acks.splice(0, MAX_BATCH);
    const stopTimer = this.metrics.fetchDuration.startTimer({ queue: this.queue });
    try {
      const result = await ackAndReserve(this.redis, this.keys, {
        visibilityTimeoutMs: this.opts.visibilityTimeoutMs,
        count,
        token: this.nextToken(),
        acks,
      });
      stopTimer();
      this.countStale('ack', acks.length - result.completed);
      this.countMissing(result.missing);
      this.prefetched.push(...result.reserved);
      this.fillSlots();
      return result.reserved.length;
    } catch (err) {
      this.acks.unshift(...acks);
      this.reportError('ack-and-reserve failed', err);
      return undefined;
    }
  }

  private nextToken(): string {
    return `${this.tokenStem}${(this.tokenCount++).toString(36)}`;
  }

  /** A refused attempt means this worker stalled long enough to lose jobs: they may run twice. */
  private countStale(operation: ReservationOperation, stale: number): void {
    if (stale <= 0) return;
    this.metrics.staleReservations.inc({ queue: this.queue, operation }, stale);
    this.log.warn({ operation, stale }, 'reservations were reclaimed from this worker while it stalled');
  }

  /** A job record gone from Redis means eviction (or a hand): loud, because the job cannot run. */
  private countMissing(missing: number): void {
    if (missing <= 0) return;
    this.metrics.jobsMissing.inc({ queue: this.queue }, missing);
    this.log.error(
      { missing },
      'job records were gone from Redis (evicted?): the jobs are kept as dead letters with reason missing-record',
    );
  }

  /** Resolves when a job may have arrived: BLMOVE from the list to itself wakes without taking anything. */
  private waitForArrival(): Promise<void> {
    this.arrival ??= this.blocking
      .blmove(this.keys.wait, this.keys.wait, 'RIGHT', 'RIGHT', BLOCK_SECONDS)
      .then(
        () => undefined,
        async (err: unknown) => {
          if (!this.draining) {
            this.reportError('waiting for jobs failed', err);
            await sleep(ERROR_PAUSE_MS);
          }
        },
      )
      .finally(() => {
        this.arrival = undefined;
      });
    return this.arrival;
  }

  /** Starts reserved jobs while slots are free; nothing new starts once draining. */
  private fillSlots(): void {
    while (!this.draining && this.inFlight.size < this.opts.concurrency) {
      const next = this.prefetched.shift();
      if (!next) return;
      this.startJob(next);
    }
  }

  private startJob(reserved: ReservedJob): void {
    const state: InFlight = { reservation: reserved.reservation, controller: new AbortController(), released: false };
    const wasIdle = this.inFlight.size === 0;
    this.inFlight.set(reserved.reservation, state);
    const announced = wasIdle ? this.announceBusy() : undefined;
    this.metrics.jobsInFlight.inc({ queue: this.queue });
    void this.processJob(reserved, state, announced).finally(() => {
      this.inFlight.delete(reserved.reservation);
      this.metrics.jobsInFlight.dec({ queue: this.queue });
      this.fillSlots();
      this.wakeUp.wake();
      // A drained worker says so at once: the operator removes its pod when it reads busy 0.
      if (this.draining && !this.stopping && this.inFlight.size === 0) void this.heartbeat.runNow();
    });
  }

  /**
   * An idle worker that takes a job says so before the job runs, not at its next heartbeat: the
   * operator's idle-first scale-down reads busy counts from heartbeats, and must not take this pod
   * for idle while its job runs. Within the minimum gap after a heartbeat that said idle, the
   * announcement is deferred to the end of the gap, never dropped.
   */
  private announceBusy(): Promise<void> | undefined {
    if (this.lastBeatBusy > 0 || this.deferredBusyBeat) return undefined;
    const wait = this.lastBeatAt + IDLE_TO_BUSY_BEAT_MIN_GAP_MS - this.now();
    if (wait <= 0) return this.heartbeat.runNow();
    this.deferredBusyBeat = setTimeout(() => {
      this.deferredBusyBeat = undefined;
      if (this.inFlight.size > 0 && this.lastBeatBusy === 0) void this.heartbeat.runNow();
    }, wait);
    this.deferredBusyBeat.unref();
    return undefined;
  }

  private async processJob(reserved: ReservedJob, state: InFlight, announced?: Promise<void>): Promise<void> {
    if (announced) await Promise.race([announced, sleep(BUSY_ANNOUNCEMENT_WAIT_MS, undefined, { ref: false })]);
    let record: JobRecord;
    try {
      record = decodeRecord(reserved.record);
    } catch (err) {
      await this.bury(reserved.reservation, reserved.record, DEAD_REASONS.malformed, 0, describeError(err), '');
      return;
    }
    const handler = Object.hasOwn(this.handlers, record.name) ? this.handlers[record.name] : undefined;
    if (!handler) {
      const known = Object.keys(this.handlers).join(', ');
      await this.bury(
        reserved.reservation,
        encodeRecord(record),
        DEAD_REASONS.noHandler,
        record.attempt,
        `no handler for job name "${record.name}" (handlers: ${known})`,
        record.name,
      );
      return;
    }
    const job = this.toJob(record, state.controller.signal);
    const labels = { queue: this.queue, name: record.name };
    const stopTimer = this.metrics.jobDuration.startTimer(labels);
    try {
      await runHandler(handler, job, state.controller, record.timeoutMs);
      this.runTime.observe(stopTimer() * 1000);
      if (state.released) return;
      this.acks.push(reserved.reservation);
      this.metrics.jobsProcessed.inc(labels);
      this.emit('completed', job);
    } catch (err) {
      this.runTime.observe(stopTimer() * 1000);
      if (state.released) return;
      await this.fail(reserved.reservation, record, job, err);
    }
  }

  private toJob(record: JobRecord, signal: AbortSignal): Job {
    return {
      id: record.id,
      name: record.name,
      queue: this.queue,
      data: record.data,
      attempt: record.attempt + 1,
      attempts: record.attempts,
      enqueuedAt: record.enqueuedAt,
      signal,
    };
  }

  private async fail(reservation: string, record: JobRecord, job: Job, err: unknown): Promise<void> {
    const labels = { queue: this.queue, name: record.name };
    this.metrics.jobsFailed.inc(labels);
    this.emit('failed', job, err);
    const decision = decideFailure(record, err, this.random);
    if (decision.kind === 'dead') {
      await this.bury(
        reservation,
        encodeRecord(decision.record),
        decision.reason,
        decision.record.attempt,
        decision.record.lastError ?? '',
        record.name,
      );
      return;
    }
    try {
      const held = await recordFailure(this.redis, this.keys, {
        reservation,
        jobId: entryJobId(reservationEntry(reservation)),
        record: encodeRecord(decision.record),
        outcome: { kind: 'retry', delayMs: decision.delayMs },
      });
      if (!held) {
        this.countStale('fail', 1);
        return;
      }
      this.metrics.jobsRetried.inc(labels);
      this.log.warn(
        { jobId: record.id, name: record.name, attempt: job.attempt, retryInMs: decision.delayMs, err },
        'job failed, will retry',
      );
    } catch (redisErr) {
      // The reservation stays; it expires and the job is reclaimed, so nothing is lost.
      this.reportError('recording a failed job failed', redisErr);
    }
  }

  private async bury(
    reservation: string,
    record: string,
    reason: DeadReason,
    attempts: number,
    lastError: string,
    name: string,
  ): Promise<void> {
    const jobId = entryJobId(reservationEntry(reservation));
    try {
      const held = await recordFailure(this.redis, this.keys, {
        reservation,
        jobId,
        record,
        outcome: { kind: 'dead', info: { reason, attempts, lastError } },
      });
      if (!held) {
        this.countStale('fail', 1);
        return;
      }
      this.metrics.jobsDead.inc({ queue: this.queue, name, reason });
      this.log.error({ jobId, name, reason, attempts, lastError }, 'job moved to the dead letters');
      this.emit('dead', jobId, reason);
    } catch (redisErr) {
      this.reportError('moving a job to the dead letters failed', redisErr);
    }
  }

  private async beat(leaving: boolean): Promise<void> {
    const now = this.now();
    this.lastBeatAt = now;
    this.lastBeatBusy = this.inFlight.size;
    const heartbeat = encodeHeartbeat({
      workerId: this.workerId,
      pod: this.opts.podName,
      pid: process.pid,
      busy: this.inFlight.size,
      concurrency: this.opts.concurrency,
      draining: this.draining,
      beatAt: now,
      startedAt: this.startedAt,
      remoteDrain: true,
    });
    const running = [...this.inFlight.values()].filter((s) => !s.released).map((s) => s.reservation);
    const reservations = running.concat(this.prefetched.map((job) => job.reservation));
    const { drainRequested, lost } = await publishHeartbeat(this.redis, this.keys, {
      workerId: this.workerId,
      ttlMs: leaving ? 0 : HEARTBEAT_LIFETIME_INTERVALS * this.opts.heartbeatIntervalMs,
      heartbeat,
      visibilityTimeoutMs: this.opts.visibilityTimeoutMs,
      reservations,
    });
    this.countStale('extend', lost.length);
    // Not awaited: quiet() publishes a heartbeat of its own, after this one.
    if (drainRequested && !this.draining) void this.quiet();
  }

  private async maintain(): Promise<void> {
    const result = await maintainQueue(this.redis, this.keys, {
      maxStalls: this.opts.maxStalls,
      limit: MAINTAIN_LIMIT,
      visibilityTimeoutMs: this.opts.visibilityTimeoutMs,
      gapMs: maintenanceGapMs(this.opts),
      deadLetterMaxAgeMs: this.opts.deadLetterMaxAgeMs,
      deadLetterMaxCount: this.opts.deadLetterMaxCount,
    });
    if (result.reclaimed > 0 || result.buried > 0) this.log.warn(result, 'reclaimed reservations of dead workers');
    this.countMissing(result.missing);
    if (result.graceUntil > 0 && !this.inGrace)
      this.log.warn(
        { graceUntil: result.graceUntil },
        'no maintenance ran for a while (Redis or every worker was away): nothing is reclaimed until live workers have extended their jobs',
      );
    this.inGrace = result.graceUntil > 0;
  }

  private async shutdown(): Promise<void> {
    this.emit('closing');
    this.stopping = true;
    await this.quiet();
    // A worker drained earlier waits in its fetch loop for acks: wake it to see that it stops.
    this.wakeUp.wake();
    await this.step('stop fetching', async () => {
      this.blocking.disconnect();
      await this.loopDone;
    });
    await this.step('return prefetched jobs', () => this.releasePrefetched());
    await this.step('publish draining', () => this.heartbeat.runNow());
    await this.step(
      'wait for in-flight jobs',
      () => this.waitForInFlight(),
      this.opts.drainTimeoutMs + CLOSE_STEP_TIMEOUT_MS,
    );
    // Release first: it marks the stragglers synchronously, so none of them can slip an ack in later.
    await this.step('return unfinished jobs', () => this.releaseUnfinished());
    await this.step('acknowledge finished jobs', () => this.flushAcks());
    await this.step('stop timers', async () => {
      clearTimeout(this.deferredBusyBeat);
      await this.heartbeat.stop();
      await this.maintenance.stop();
    });
    await this.step('remove heartbeat', () => this.beat(true));
    await this.step('close connection', async () => {
      if (this.ownsRedis) await this.redis.quit();
    });
    this.log.info('worker closed');
    this.emit('closed');
  }

  private step(name: string, run: () => Promise<void>, limitMs: number = CLOSE_STEP_TIMEOUT_MS): Promise<void> {
    return runCloseStep(name, run, limitMs, (message, err) => this.reportError(message, err));
  }

  private async waitForInFlight(): Promise<void> {
    const deadline = this.now() + this.opts.drainTimeoutMs;
    while (this.inFlight.size > 0) {
      const left = deadline - this.now();
      if (left <= 0) return;
      await Promise.race([this.wakeUp.wait(), sleep(Math.min(left, 1_000))]);
    }
  }

  private async flushAcks(): Promise<void> {
    while (this.acks.length > 0) {
      const acks = this.acks.splice(0, MAX_BATCH);
      const { completed } = await ackAndReserve(this.redis, this.keys, {
        visibilityTimeoutMs: this.opts.visibilityTimeoutMs,
        count: 0,
        token: this.nextToken(),
        acks,
      });
      this.countStale('ack', acks.length - completed);
    }
  }

  /** At once, not after the drain: another worker can run them while this one finishes its own. */
  private async releasePrefetched(): Promise<void> {
    const reservations = this.prefetched.splice(0).map((job) => job.reservation);
    const returned = await releaseJobs(this.redis, this.keys, reservations);
    this.countStale('release', reservations.length - returned);
  }

  /** In reservation order (a Map keeps insertion order), so the oldest job is the next to run. */
  private async releaseUnfinished(): Promise<void> {
    const unfinished = [...this.inFlight.values()].filter((s) => !s.released);
    if (unfinished.length === 0) return;
    for (const state of unfinished) {
      state.released = true;
      state.controller.abort(new Error('the worker is shutting down; the job was returned to the queue'));
    }
    const returned = await releaseJobs(
      this.redis,
      this.keys,
      unfinished.map((s) => s.reservation),
    );
    this.countStale('release', unfinished.length - returned);
    this.log.warn({ returned, unfinished: unfinished.length }, 'returned unfinished jobs to the head of the queue');
  }

  private reportError(message: string, err: unknown): void {
    this.log.error({ err }, message);
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}
