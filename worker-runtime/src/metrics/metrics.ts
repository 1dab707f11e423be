import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric name starts with this, so dashboards can find the runtime's series at a glance. */
export const METRIC_PREFIX = 'workerpool_';

type QueueLabel = 'queue';
type JobLabels = 'queue' | 'name';

/** The runtime's metrics as typed handles: a misspelt metric is a compile error, not a silent no-op. */
export interface WorkerMetrics {
  readonly registry: Registry;
  /** Jobs whose handler succeeded. */
  readonly jobsProcessed: Counter<JobLabels>;
  /** Runs that failed (each failed attempt counts). */
  readonly jobsFailed: Counter<JobLabels>;
  /** Failed runs that were scheduled to run again. */
  readonly jobsRetried: Counter<JobLabels>;
  /** Jobs that became dead letters. */
  readonly jobsDead: Counter<JobLabels | 'reason'>;
  readonly jobDuration: Histogram<JobLabels>;
  readonly jobsInFlight: Gauge<QueueLabel>;
  /** Jobs this worker runs at once at most: with jobsInFlight, how busy it is. */
  readonly concurrency: Gauge<QueueLabel>;
  /** One ack-and-reserve round trip (a batch of acks and fetches). */
  readonly fetchDuration: Histogram<QueueLabel>;
  /** 1 while the worker drains after SIGTERM. */
  readonly draining: Gauge<QueueLabel>;
  /**
   * Acks, failures, releases and extensions refused because the reservation was no longer this
   * worker's: it stalled past its visibility timeout and the job was reclaimed (maybe run elsewhere).
   */
  readonly staleReservations: Counter<QueueLabel | 'operation'>;
  /** Jobs whose record was gone (evicted by Redis) when this worker reserved or reclaimed them. */
  readonly jobsMissing: Counter<QueueLabel>;
}

/** What a worker tried to do with a reservation it no longer held (the `operation` label). */
export const RESERVATION_OPERATIONS = ['ack', 'fail', 'release', 'extend'] as const;
export type ReservationOperation = (typeof RESERVATION_OPERATIONS)[number];

/** A fresh Registry per call: two workers in one process (or tests) never clash on registration. */
export function createWorkerMetrics(options: { defaultMetrics?: boolean } = {}): WorkerMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  const registers = [registry];
  return {
    registry,
    jobsProcessed: new Counter({
      name: `${METRIC_PREFIX}jobs_processed_total`,
      help: 'Jobs whose handler succeeded',
      labelNames: ['queue', 'name'],
      registers,
    }),
    jobsFailed: new Counter({
      name: `${METRIC_PREFIX}jobs_failed_total`,
      help: 'Job runs that failed (every failed attempt)',
      labelNames: ['queue', 'name'],
      registers,
    }),
    jobsRetried: new Counter({
      name: `${METRIC_PREFIX}jobs_retried_total`,
      help: 'Failed runs scheduled to run again',
      labelNames: ['queue', 'name'],
      registers,
    }),
    jobsDead: new Counter({
      name: `${METRIC_PREFIX}jobs_dead_total`,
      help: 'Jobs moved to the dead letters',
      labelNames: ['queue', 'name', 'reason'],
      registers,
    }),
    jobDuration: new Histogram({
      name: `${METRIC_PREFIX}job_duration_seconds`,
      help: 'Handler run time, successful or not',
      labelNames: ['queue', 'name'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    }),
    jobsInFlight: new Gauge({
      name: `${METRIC_PREFIX}jobs_in_flight`,
      help: 'Jobs running now',
      labelNames: ['queue'],
      registers,
    }),
    concurrency: new Gauge({
      name: `${METRIC_PREFIX}worker_concurrency`,
      help: 'Jobs the worker runs at once at most',
      labelNames: ['queue'],
      registers,
    }),
    fetchDuration: new Histogram({
      name: `${METRIC_PREFIX}fetch_duration_seconds`,
      help: 'Latency of one ack-and-reserve round trip to Redis',
      labelNames: ['queue'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers,
    }),
    draining: new Gauge({
      name: `${METRIC_PREFIX}worker_draining`,
      help: '1 while the worker drains before exit',
      labelNames: ['queue'],
      registers,
    }),
    jobsMissing: new Counter({
      name: `${METRIC_PREFIX}jobs_missing_total`,
      help: 'Jobs whose record was gone (evicted by Redis) when reserved or reclaimed; each is kept as a dead letter (missing-record)',
      labelNames: ['queue'],
      registers,
    }),
    staleReservations: new Counter({
      name: `${METRIC_PREFIX}stale_reservations_total`,
      help: 'Acks, failures, releases and extensions refused: the reservation was reclaimed from this worker after a stall',
      labelNames: ['queue', 'operation'],
      registers,
    }),
  };
}
