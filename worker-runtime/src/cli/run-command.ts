import type { Logger } from 'pino';
import type { RunConfig } from '../config/config.ts';
import { startHealthServer, type HealthServer } from '../http/health-server.ts';
import { createWorkerMetrics } from '../metrics/metrics.ts';
import { connectRedis, redactUrl } from '../redis/connection.ts';
import { Worker } from '../worker/worker.ts';
import { loadHandlers } from './load-handlers.ts';

/** A running worker process: one Worker per queue, one Redis connection, one health/metrics server. */
export interface RunningWorkers {
  readonly workers: readonly Worker[];
  readonly server: HealthServer;
  /** Drains every worker, then closes the server and the connection. Idempotent. */
  close(): Promise<void>;
}

export async function startWorkers(config: RunConfig, log: Logger): Promise<RunningWorkers> {
  const handlers = await loadHandlers(config.handlersPath);
  const redis = connectRedis(
    config.redis.url,
    config.redis.password === undefined ? {} : { password: config.redis.password },
  );
  redis.on('error', (err: Error) =>
    log.warn({ err: err.message, redis: redactUrl(config.redis.url) }, 'redis connection error'),
  );
  const metrics = createWorkerMetrics({ defaultMetrics: true });
  const workers = config.queues.map(
    (queue) =>
      new Worker(queue, {
        connection: redis,
        handlers,
        prefix: config.redis.keyPrefix,
        concurrency: config.concurrency,
        visibilityTimeoutMs: config.visibilityTimeoutMs,
        heartbeatIntervalMs: config.heartbeatIntervalMs,
        drainTimeoutMs: config.drainTimeoutMs,
        maxStalls: config.maxStalls,
        deadLetterMaxAgeMs: config.deadLetterMaxAgeMs,
        deadLetterMaxCount: config.deadLetterMaxCount,
        evictionPolicyCheck: config.evictionPolicyCheck,
        podName: config.podName,
        metrics,
        logger: log,
      }),
  );
  const server = await startHealthServer({
    port: config.metricsPort,
    host: config.metricsHost,
    registry: metrics.registry,
    // Not ready once closing (SIGTERM). A worker drained on the operator's request stays ready: the
    // ReplicaSet removes not-ready pods before it looks at pod-deletion-cost, and that pod must
    // not be taken before the drained ones (operator/src/controller/drained-scale-down.ts).
    isReady: () => redis.status === 'ready' && workers.every((w) => !w.isClosing),
  });
  await Promise.all(workers.map((w) => w.start()));
  log.info(
    {
      queues: config.queues,
      concurrency: config.concurrency,
      handlers: Object.keys(handlers),
      redis: redactUrl(config.redis.url),
      metricsPort: server.port,
    },
    'workers running',
  );
  let closing: Promise<void> | undefined;
  const close = async () => {
    await Promise.all(workers.map((w) => w.close()));
    await server.close().catch((err: unknown) => log.warn({ err }, 'closing the metrics server failed'));
    await redis.quit().catch(() => redis.disconnect());
  };
  return { workers, server, close: () => (closing ??= close()) };
}
