import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Every metric the operator exports, as typed handles on one registry of its own, so that a
// misspelt metric is a compile error rather than a silently missing series.

export interface OperatorMetrics {
  registry: Registry;
  reconcileTotal: Counter<'result'>;
  reconcileErrors: Counter<'reason'>;
  reconcileDuration: Histogram<'result'>;
  workQueueDepth: Gauge;
  queueDepth: Gauge<'namespace' | 'pool'>;
  queueOldestJobAgeSeconds: Gauge<'namespace' | 'pool'>;
  queueBusy: Gauge<'namespace' | 'pool'>;
  queueThroughput: Gauge<'namespace' | 'pool'>;
  signalReadErrors: Counter<'namespace' | 'pool' | 'reason'>;
  /** 1 when the last read of the pool's queue signals succeeded, 0 while they cannot be read. */
  signalsAvailable: Gauge<'namespace' | 'pool'>;
  desiredReplicas: Gauge<'namespace' | 'pool'>;
  /** The pool's spec, as series, so that dashboards and alerts compare readings with it. */
  readyReplicas: Gauge<'namespace' | 'pool'>;
  maxReplicas: Gauge<'namespace' | 'pool'>;
  targetLatencySeconds: Gauge<'namespace' | 'pool'>;
  scaleDecisions: Counter<'namespace' | 'pool' | 'direction' | 'reason'>;
  apiWrites: Counter<'kind' | 'verb'>;
  informerRelists: Counter<'informer'>;
  secretReads: Counter;
  isLeader: Gauge;
}

export function createOperatorMetrics(): OperatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'workerpool_operator_' });
  const pool = ['namespace', 'pool'] as const;
  return {
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
    queueDepth: new Gauge({
      name: 'workerpool_queue_depth',
      help: "Jobs waiting in the pool's queues.",
      labelNames: pool,
      registers: [registry],
    }),
    queueOldestJobAgeSeconds: new Gauge({
      name: 'workerpool_queue_oldest_job_age_seconds',
      help: 'Age of the oldest waiting job.',
      labelNames: pool,
      registers: [registry],
    }),
    queueBusy: new Gauge({
      name: 'workerpool_queue_busy',
      help: 'Jobs running now, where the format records it.',
      labelNames: pool,
      registers: [registry],
    }),
    queueThroughput: new Gauge({
      name: 'workerpool_queue_throughput_per_second',
      help: 'Jobs completed per second.',
      labelNames: pool,
      registers: [registry],
    }),
    signalReadErrors: new Counter({
      name: 'workerpool_signal_read_errors_total',
      help: 'Queue signal reads that failed.',
      labelNames: [...pool, 'reason'],
      registers: [registry],
    }),
    signalsAvailable: new Gauge({
      name: 'workerpool_signals_available',
      help: "1 when the last read of the pool's queue signals succeeded.",
      labelNames: pool,
      registers: [registry],
    }),
    desiredReplicas: new Gauge({
      name: 'workerpool_desired_replicas',
      help: 'Replicas the operator decided on.',
      labelNames: pool,
      registers: [registry],
    }),
    readyReplicas: new Gauge({
      name: 'workerpool_ready_replicas',
      help: "Ready replicas of the pool's Deployment.",
      labelNames: pool,
      registers: [registry],
    }),
    maxReplicas: new Gauge({
      name: 'workerpool_max_replicas',
      help: 'spec.scaling.maxReplicas of the pool.',
      labelNames: pool,
      registers: [registry],
    }),
    targetLatencySeconds: new Gauge({
      name: 'workerpool_target_latency_seconds',
      help: 'spec.scaling.targetLatencySeconds: how long a job may wait to start.',
      labelNames: pool,
      registers: [registry],
    }),
    scaleDecisions: new Counter({
      name: 'workerpool_scale_decisions_total',
      help: 'Scale changes made, by direction and reason code.',
      labelNames: [...pool, 'direction', 'reason'],
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
