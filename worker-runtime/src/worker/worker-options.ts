import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { WorkerMetrics } from '../metrics/metrics.ts';
import type { Connection } from '../redis/connection.ts';
import { EVICTION_POLICY_CHECKS, type EvictionPolicyCheck } from '../redis/eviction-policy.ts';
import type { Handlers } from './job.ts';

export interface WorkerOptions {
  readonly connection: Connection;
  readonly handlers: Handlers;
  readonly prefix?: string;
  /** Jobs run at once (default 10). */
  readonly concurrency?: number;
  /** A reservation not extended for this long is reclaimed by another worker (default 30 s). */
  readonly visibilityTimeoutMs?: number;
  /** Heartbeat and reservation extension period (default 5 s); the heartbeat expires after 3 periods. */
  readonly heartbeatIntervalMs?: number;
  /** Promotion of due delayed jobs and reclaim of expired reservations (default 1 s). */
  readonly maintenanceIntervalMs?: number;
  /** How long close() waits for in-flight jobs before returning them to the queue (default 25 s). */
  readonly drainTimeoutMs?: number;
  /** A job whose reservation expires more often than this becomes a dead letter (default 3). */
  readonly maxStalls?: number;
  /** Dead letters older than this are deleted (default 180 days, as Sidekiq's dead set). */
  readonly deadLetterMaxAgeMs?: number;
  /** At most this many dead letters are kept per queue, the oldest deleted first (default 10,000, as Sidekiq's). */
  readonly deadLetterMaxCount?: number;
  /**
   * At start, when Redis's maxmemory-policy is not noeviction: `refuse` to start (default), or
   * `warn` and run (see redis/eviction-policy.ts).
   */
  readonly evictionPolicyCheck?: EvictionPolicyCheck;
  /** Published in heartbeats so the operator knows which pod is idle (default: the host name). */
  readonly podName?: string;
  readonly metrics?: WorkerMetrics;
  readonly logger?: Logger;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface ResolvedWorkerOptions {
  readonly concurrency: number;
  readonly visibilityTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maintenanceIntervalMs: number;
  readonly drainTimeoutMs: number;
  readonly maxStalls: number;
  readonly deadLetterMaxAgeMs: number;
  readonly deadLetterMaxCount: number;
  readonly evictionPolicyCheck: EvictionPolicyCheck;
  readonly podName: string;
}

export const WORKER_DEFAULTS = {
  concurrency: 10,
  visibilityTimeoutMs: 30_000,
  heartbeatIntervalMs: 5_000,
  maintenanceIntervalMs: 1_000,
  drainTimeoutMs: 25_000,
  maxStalls: 3,
  deadLetterMaxAgeMs: 180 * 24 * 3_600_000,
  deadLetterMaxCount: 10_000,
  evictionPolicyCheck: 'refuse',
} as const;

/** One script call reserves at most this many jobs: bounds Lua's unpack and a single reply's size. */
export const MAX_BATCH = 1_000;

function positiveInt(value: number | undefined, field: string, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min)
    throw new Error(`worker option ${field} must be an integer >= ${min}, got ${String(v)}`);
  return v;
}

export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  const resolved = {
    concurrency: positiveInt(options.concurrency, 'concurrency', WORKER_DEFAULTS.concurrency),
    visibilityTimeoutMs: positiveInt(
      options.visibilityTimeoutMs,
      'visibilityTimeoutMs',
      WORKER_DEFAULTS.visibilityTimeoutMs,
    ),
    heartbeatIntervalMs: positiveInt(
      options.heartbeatIntervalMs,
      'heartbeatIntervalMs',
      WORKER_DEFAULTS.heartbeatIntervalMs,
    ),
    maintenanceIntervalMs: positiveInt(
      options.maintenanceIntervalMs,
      'maintenanceIntervalMs',
      WORKER_DEFAULTS.maintenanceIntervalMs,
    ),
    drainTimeoutMs: positiveInt(options.drainTimeoutMs, 'drainTimeoutMs', WORKER_DEFAULTS.drainTimeoutMs, 0),
    maxStalls: positiveInt(options.maxStalls, 'maxStalls', WORKER_DEFAULTS.maxStalls, 0),
    deadLetterMaxAgeMs: positiveInt(
      options.deadLetterMaxAgeMs,
      'deadLetterMaxAgeMs',
      WORKER_DEFAULTS.deadLetterMaxAgeMs,
    ),
    deadLetterMaxCount: positiveInt(
      options.deadLetterMaxCount,
      'deadLetterMaxCount',
      WORKER_DEFAULTS.deadLetterMaxCount,
      0,
    ),
    evictionPolicyCheck: options.evictionPolicyCheck ?? WORKER_DEFAULTS.evictionPolicyCheck,
    podName: options.podName ?? hostname(),
  };
  if (!EVICTION_POLICY_CHECKS.includes(resolved.evictionPolicyCheck))
    throw new Error(
      `worker option evictionPolicyCheck must be one of ${EVICTION_POLICY_CHECKS.join(', ')}, got ${String(resolved.evictionPolicyCheck)}`,
    );
  if (resolved.heartbeatIntervalMs >= resolved.visibilityTimeoutMs) {
    throw new Error(
      `worker option heartbeatIntervalMs (${resolved.heartbeatIntervalMs}) must be below visibilityTimeoutMs (${resolved.visibilityTimeoutMs}), or live jobs would be reclaimed`,
    );
  }
  return resolved;
}
