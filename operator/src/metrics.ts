import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Every metric the operator exports, as typed handles on one registry of its own, so that a
// misspelt metric is a compile error rather than a silently missing series.
//
// The per-pool gauges are filled when they are read (a scrape), from the autoscaler's latest
// readings and decisions, not set on every poll: at 1,000 pools and a 5 s poll that was some
// 1,400 labelled sets a second for a Prometheus that reads them every 15 s. Filled from what
// the autoscaler tracks, they also lose a deleted pool's series with no bookkeeping of their own.

/** One pool's gauge values at the moment of a scrape; undefined leaves the series out. */
export interface PoolGaugeValues {
  namespace: string;
  pool: string;
  queueDepth: number | undefined;
  queueOldestJobAgeSeconds: number | undefined;
  queueBusy: number | undefined;
  queueUnreadableHeartbeats: number | undefined;
  queueThroughput: number | undefined;
  signalsAvailable: number | undefined;
  desiredReplicas: number | undefined;
  readyReplicas: number | undefined;
  maxReplicas: number | undefined;
  targetLatencySeconds: number | undefined;
  /** scaling.predictive shadow or enabled: the highest arrival rate forecast within a start-up and a poll. */
  forecastArrivalRate: number | undefined;
  /** ...and the model's recent forecast error (mean |forecast - actual| / mean actual). */
  forecastErrorRatio: number | undefined;
}

type PoolGaugeName = Exclude<keyof PoolGaugeValues, 'namespace' | 'pool'>;

export interface OperatorMetrics {
  registry: Registry;
  reconcileTotal: Counter<'result'>;
  reconcileErrors: Counter<'reason'>;
  reconcileDuration: Histogram<'result'>;
  workQueueDepth: Gauge;
  queueDepth: Gauge<'namespace' | 'pool'>;
  queueOldestJobAgeSeconds: Gauge<'namespace' | 'pool'>;
  queueBusy: Gauge<'namespace' | 'pool'>;
  /** Live worker heartbeats the reader could not use at the last poll, left out of busy and concurrency. */
  queueUnreadableHeartbeats: Gauge<'namespace' | 'pool'>;
  queueThroughput: Gauge<'namespace' | 'pool'>;
  signalReadErrors: Counter<'namespace' | 'pool' | 'reason'>;
  /** Polls of Redis endpoints finished, read or not: the poll loops are turning while it rises. */
  signalPolls: Counter;
  /** 1 when the last read of the pool's queue signals succeeded, 0 while they cannot be read. */
  signalsAvailable: Gauge<'namespace' | 'pool'>;
  desiredReplicas: Gauge<'namespace' | 'pool'>;
  /** The pool's spec, as series, so that dashboards and alerts compare readings with it. */
  readyReplicas: Gauge<'namespace' | 'pool'>;
  maxReplicas: Gauge<'namespace' | 'pool'>;
  targetLatencySeconds: Gauge<'namespace' | 'pool'>;
  forecastArrivalRate: Gauge<'namespace' | 'pool'>;
  forecastErrorRatio: Gauge<'namespace' | 'pool'>;
  scaleDecisions: Counter<'namespace' | 'pool' | 'direction' | 'reason'>;
  /** Quiet requests sent to workers of pods chosen for removal (drain before delete). */
  drainRequests: Counter<'namespace' | 'pool'>;
  /** Pods removed because their drain deadline passed while they still ran jobs. */
  drainDeadlineExceeded: Counter<'namespace' | 'pool'>;
  apiWrites: Counter<'kind' | 'verb'>;
  informerRelists: Counter<'informer'>;
  secretReads: Counter;
  isLeader: Gauge;
  /** Where the per-pool gauges read their values at each scrape (the autoscaler). */
  readPoolGaugesFrom(source: () => Iterable<PoolGaugeValues>): void;
}

export function createOperatorMetrics(): OperatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'workerpool_operator_' });
  const pool = ['namespace', 'pool'] as const;
  let poolGaugeSource: () => Iterable<PoolGaugeValues> = () => [];
  const poolGauge = (name: string, help: string, field: PoolGaugeName) =>
    new Gauge({
      name,
      help,
      labelNames: pool,
      registers: [registry],
      collect() {
        this.reset();
        for (const values of poolGaugeSource()) {
          const value = values[field];
          if (value !== undefined) this.set({ namespace: values.namespace, pool: values.pool }, value);
        }
      },
    });
  return {
    readPoolGaugesFrom: (source) => {
      poolGaugeSource = source;
    },
    registry,
    reconcileTotal: new Counter({
      name: 'workerpool_reconcile_total',
      help: 'Reconciles finished, by result.',
      labelNames: ['result'],
      registers: [registry],
    }),
    reconcileErrors: new Counter({
      name: 'workerpool_reconcile_errors_total',
      help: 'Reconciles that failed, by reason.',
      labelNames: ['reason'],
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: 'workerpool_reconcile_duration_seconds',
      help: 'Time one reconcile took.',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    workQueueDepth: new Gauge({
      name: 'workerpool_workqueue_depth',
      help: 'Keys waiting in the reconcile work queue.',
      registers: [registry],
    }),
    queueDepth: poolGauge('workerpool_queue_depth', "Jobs waiting in the pool's queues.", 'queueDepth'),
    queueOldestJobAgeSeconds: poolGauge(
      'workerpool_queue_oldest_job_age_seconds',
      'Age of the oldest waiting job.',
      'queueOldestJobAgeSeconds',
    ),
    queueBusy: poolGauge('workerpool_queue_busy', 'Jobs running now, where the format records it.', 'queueBusy'),
    queueUnreadableHeartbeats: poolGauge(
      'workerpool_queue_unreadable_heartbeats',
      'Live worker heartbeats the reader could not use, left out of busy and concurrency.',
      'queueUnreadableHeartbeats',
    ),
    queueThroughput: poolGauge(
      'workerpool_queue_throughput_per_second',
      'Jobs completed per second.',
      'queueThroughput',
    ),
    signalReadErrors: new Counter({
      name: 'workerpool_signal_read_errors_total',
      help: 'Queue signal reads that failed.',
      labelNames: [...pool, 'reason'],
      registers: [registry],
    }),
    signalPolls: new Counter({
      name: 'workerpool_signal_polls_total',
      help: 'Polls of Redis endpoints finished (every pool of an endpoint is read in one poll).',
      registers: [registry],
    }),
    signalsAvailable: poolGauge(
      'workerpool_signals_available',
      "1 when the last read of the pool's queue signals succeeded.",
      'signalsAvailable',
    ),
    desiredReplicas: poolGauge('workerpool_desired_replicas', 'Replicas the operator decided on.', 'desiredReplicas'),
    readyReplicas: poolGauge('workerpool_ready_replicas', "Ready replicas of the pool's Deployment.", 'readyReplicas'),
    maxReplicas: poolGauge('workerpool_max_replicas', 'spec.scaling.maxReplicas of the pool.', 'maxReplicas'),
    targetLatencySeconds: poolGauge(
      'workerpool_target_latency_seconds',
      'spec.scaling.targetLatencySeconds: how long a job may wait to start.',
      'targetLatencySeconds',
    ),
    forecastArrivalRate: poolGauge(
      'workerpool_forecast_arrival_rate',
      'scaling.predictive shadow or enabled: the highest arrival rate (jobs/s) the learned pattern forecasts within a pod start-up and a poll.',
      'forecastArrivalRate',
    ),
    forecastErrorRatio: poolGauge(
      'workerpool_forecast_error_ratio',
      'scaling.predictive shadow or enabled: recent forecast error, mean |forecast - actual| over mean actual per minute (about 3 hours); the forecast acts (enabled) only while it is at most 0.35.',
      'forecastErrorRatio',
    ),
    scaleDecisions: new Counter({
      name: 'workerpool_scale_decisions_total',
      help: 'Scale changes made, by direction and reason code.',
      labelNames: [...pool, 'direction', 'reason'],
      registers: [registry],
    }),
    drainRequests: new Counter({
      name: 'workerpool_drain_requests_total',
      help: 'Requests to stop taking jobs sent to workers of pods chosen for removal (Sidekiq TSTP, native drain).',
      labelNames: [...pool],
      registers: [registry],
    }),
    drainDeadlineExceeded: new Counter({
      name: 'workerpool_drain_deadline_exceeded_total',
      help: 'Pods removed because their drain deadline passed while they still ran jobs.',
      labelNames: [...pool],
      registers: [registry],
    }),
    apiWrites: new Counter({
      name: 'workerpool_api_writes_total',
      help: 'Writes the operator sent to the Kubernetes API.',
      labelNames: ['kind', 'verb'],
      registers: [registry],
    }),
    informerRelists: new Counter({
      name: 'workerpool_informer_relists_total',
      help: 'Full re-lists of a watched resource after its watch expired (410 Gone).',
      labelNames: ['informer'],
      registers: [registry],
    }),
    secretReads: new Counter({
      name: 'workerpool_secret_reads_total',
      help: 'Secrets read for Redis credentials: at registration, on a reference change, and after a failure; none in steady state.',
      registers: [registry],
    }),
    isLeader: new Gauge({
      name: 'workerpool_leader',
      help: '1 while this instance holds the leader lease.',
      registers: [registry],
    }),
  };
}
