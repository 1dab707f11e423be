import {
  FORECAST_STATUS_REFRESH_SECONDS,
  QUEUE_STATUS_REFRESH_SECONDS,
  type ForecastStatus,
  type QueueStatus,
  type WorkerPool,
} from '../api/workerpool-schema.ts';
import { persistSeasonalModel, restoreSeasonalModel, type SeasonalModel } from '../scaling/index.ts';
import { ConditionType, Reason, type ConditionInput } from '../controller/conditions.ts';
import { readerFor, type PoolReadResult, type QueueReading, type ReportedReading } from '../signals/index.ts';
import type { DrainSettings } from './drain-settings.ts';
import type { RegistrationProblem } from './pool-registry.ts';

// What the autoscaler shows in a pool's status, and the one rule for when it is worth a write.
// Status is for people and GitOps tools: a change of the decision or of a condition is written at
// once, the readings themselves at most every QUEUE_STATUS_REFRESH_SECONDS. Metrics carry every
// poll. The reconciler writes what was published here, and nothing when it equals what the API
// server already holds (status.ts statusChanged).

export interface Published {
  queue: QueueStatus | undefined;
  conditions: ConditionInput[];
  desiredReplicas: number;
  /** The readings at the precision status shows them, without observedAt. */
  readingKey: string;
  atMs: number;
  /** The learned arrival pattern as status keeps it, and when that copy was taken. */
  forecast?: ForecastStatus | undefined;
  forecastAtMs?: number | undefined;
}

const round = (value: number) => Math.round(value * 100) / 100;
const timestamp = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function queueStatusOf(reported: ReportedReading, throughputPerSecond: number | undefined): QueueStatus {
  const reading = reported.reading;
  const queue: QueueStatus = {
    depth: reading.depth,
    dueScheduled: reading.dueScheduled,
    observedAt: timestamp(reading.observedAtMs),
    stale: reported.stale,
  };
  if (reading.oldestJobAgeSeconds !== undefined) queue.oldestJobAgeSeconds = round(reading.oldestJobAgeSeconds);
  if (reading.latencyUnavailableReason) queue.latencyUnavailableReason = reading.latencyUnavailableReason;
  if (reading.busy !== undefined) queue.busy = reading.busy;
  if (reading.concurrency !== undefined) queue.concurrency = reading.concurrency;
  if (reading.unreadableHeartbeats !== undefined) {
    queue.unreadableHeartbeats = reading.unreadableHeartbeats.count;
    if (reading.unreadableHeartbeats.first !== undefined)
      queue.firstUnreadableHeartbeat = reading.unreadableHeartbeats.first.slice(0, 1024);
  }
  if (throughputPerSecond !== undefined) queue.throughputPerSecond = round(throughputPerSecond);
  return queue;
}

export function readingKeyOf(queue: QueueStatus | undefined): string {
  if (!queue) return '';
  const { observedAt: _observedAt, ...rest } = queue;
  return JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
}

const conditionKey = (conditions: readonly ConditionInput[]) =>
  JSON.stringify(conditions.map((c) => [c.type, c.status, c.reason]));

/**
 * What status should show from now on, given what was published last, or undefined when no write
 * is due. It runs on every poll of every pool, so the readings are only built once they could be due.
 * A new copy of the learned pattern (`forecastOf`, scaling.predictive) is due every
 * FORECAST_STATUS_REFRESH_SECONDS, and is carried unchanged by the writes in between.
 */
export function nextPublished(
  previous: Published | undefined,
  next: Pick<Published, 'conditions' | 'desiredReplicas'>,
  queueOf: () => QueueStatus | undefined,
  nowMs: number,
  forecastOf: () => ForecastStatus | undefined = () => undefined,
): Published | undefined {
  const urgent =
    !previous ||
    previous.desiredReplicas !== next.desiredReplicas ||
    conditionKey(previous.conditions) !== conditionKey(next.conditions);
  const forecastDue =
    previous?.forecastAtMs === undefined || nowMs - previous.forecastAtMs >= FORECAST_STATUS_REFRESH_SECONDS * 1000;
  const fresh = forecastDue ? forecastOf() : undefined;
  const forecast =
    fresh === undefined
      ? { forecast: previous?.forecast, forecastAtMs: previous?.forecastAtMs }
      : { forecast: fresh, forecastAtMs: nowMs };
  if (!urgent && fresh === undefined && nowMs - previous.atMs < QUEUE_STATUS_REFRESH_SECONDS * 1000) return undefined;
  const queue = queueOf();
  const readingKey = readingKeyOf(queue);
  if (!urgent && fresh === undefined && readingKey === previous.readingKey) return undefined;
  return { ...next, queue, readingKey, atMs: nowMs, ...forecast };
}

/** The seasonal model as status.forecast keeps it, or undefined before it has learned anything. */
export function forecastStatusOf(model: SeasonalModel | undefined, nowMs: number): ForecastStatus | undefined {
  const persisted = model === undefined ? undefined : persistSeasonalModel(model);
  if (persisted === undefined) return undefined;
  return {
    learningSince: timestamp(persisted.sinceMs),
    savedAt: timestamp(nowMs),
    day: persisted.day,
    hour: persisted.hour,
    error: persisted.error,
  };
}

/** The model a previous operator kept in status.forecast, or undefined when there is none to trust. */
export function seasonalModelOf(forecast: ForecastStatus | undefined): SeasonalModel | undefined {
  if (forecast === undefined) return undefined;
  const error = forecast.error;
  return restoreSeasonalModel({
    day: forecast.day,
    hour: forecast.hour,
    error: [error[0] ?? Number.NaN, error[1] ?? Number.NaN],
    sinceMs: Date.parse(forecast.learningSince),
  });
}

/** Jobs running per pod, summed over a pod's workers, from heartbeats that carry pod names. */
export function busyByPod(reading: QueueReading | undefined): Map<string, number> | undefined {
  if (!reading?.workers) return undefined;
  const byPod = new Map<string, number>();
  for (const worker of reading.workers) byPod.set(worker.pod, (byPod.get(worker.pod) ?? 0) + worker.busy);
  return byPod;
}

/** SignalsAvailable: whether the pool's queue could be read, and if not, why. */
export function signalsCondition(
  pool: WorkerPool,
  result: PoolReadResult | undefined,
  registrationProblem: RegistrationProblem | undefined,
): ConditionInput {
  if (registrationProblem)
    return {
      type: ConditionType.SignalsAvailable,
      status: 'False',
      reason: registrationProblem.reason,
      message: registrationProblem.message,
    };
  if (result === undefined)
    return {
      type: ConditionType.SignalsAvailable,
      status: 'Unknown',
      reason: Reason.SignalsPending,
      message: 'waiting for the first reading',
    };
  if (!result.ok)
    return {
      type: ConditionType.SignalsAvailable,
      status: 'False',
      reason: Reason.SignalsReadFailed,
      message: result.error.message,
    };
  return {
    type: ConditionType.SignalsAvailable,
    status: 'True',
    reason: Reason.SignalsRead,
    message: `read ${pool.spec.queue.format} queue ${pool.spec.queue.names.join(', ')}`,
  };
}

/**
 * How scale-down spares running jobs. Drain before delete where the format has a remote quiet and
 * the pool does not turn it off; otherwise idle-first, where heartbeats say which pod runs how many
 * jobs, and the message says why drain does not apply.
 */
export function idleFirstCondition(pool: WorkerPool, enabled: boolean, drain: DrainSettings): ConditionInput {
  if (drain.enabled)
    return {
      type: ConditionType.IdleFirstScaleDown,
      status: 'True',
      reason: Reason.DrainBeforeDelete,
      message: `pods to remove are quieted through ${pool.spec.queue.format === 'sidekiq' ? "Sidekiq's own quiet (TSTP)" : "the runtime's drain request"} and removed once they run no job, or after ${drain.deadlineSeconds}s`,
    };
  const noDrain = drain.requested
    ? `format ${pool.spec.queue.format} has no remote quiet, so pods cannot be drained before delete`
    : enabled
      ? 'drain before delete is off (spec.drain.enabled false)'
      : 'drain before delete is off with it';
  if (!enabled) {
    return {
      type: ConditionType.IdleFirstScaleDown,
      status: 'False',
      reason: Reason.IdleFirstDisabled,
      message: `turned off by the operator (--idle-first-scale-down=false), and ${noDrain}: scale-down removes pods without regard to the jobs they run`,
    };
  }
  const unavailable = readerFor(pool.spec.queue.format).perPodBusyUnavailable;
  if (unavailable !== undefined) {
    return {
      type: ConditionType.IdleFirstScaleDown,
      status: 'False',
      reason: Reason.BusyCountsUnavailable,
      message: `format ${pool.spec.queue.format}: ${unavailable}, and it has no remote quiet; scale-down removes pods without regard to the jobs they run`,
    };
  }
  return {
    type: ConditionType.IdleFirstScaleDown,
    status: 'True',
    reason: Reason.BusyCountsReported,
    message: `${noDrain}; pods running the fewest jobs are removed first (pod-deletion-cost from worker heartbeats), best effort: a job that starts after the last reading may be interrupted`,
  };
}
