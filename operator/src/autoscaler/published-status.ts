import { QUEUE_STATUS_REFRESH_SECONDS, type QueueStatus } from '../api/workerpool-schema.ts';
import type { ConditionInput } from '../controller/conditions.ts';
import type { QueueReading, ReportedReading } from '../signals/index.ts';

// What the autoscaler shows in a pool's status, and when it is worth a write. Status is for
// people and GitOps tools: a change of the decision or of a condition is written at once, the
// readings themselves at most every QUEUE_STATUS_REFRESH_SECONDS. Metrics carry every poll.

export interface Published {
  queue: QueueStatus | undefined;
  conditions: ConditionInput[];
  desiredReplicas: number;
  /** The readings at the precision status shows them, without observedAt. */
  readingKey: string;
  atMs: number;
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

/** Whether `next` deserves a status write now, given what was published last. */
export function publishDue(previous: Published | undefined, next: Omit<Published, 'atMs'>, nowMs: number): boolean {
  if (!previous) return true;
  if (previous.desiredReplicas !== next.desiredReplicas) return true;
  if (conditionKey(previous.conditions) !== conditionKey(next.conditions)) return true;
  return previous.readingKey !== next.readingKey && nowMs - previous.atMs >= QUEUE_STATUS_REFRESH_SECONDS * 1000;
}

/** Jobs running per pod, summed over a pod's workers, from heartbeats that carry pod names. */
export function busyByPod(reading: QueueReading | undefined): Map<string, number> | undefined {
  if (!reading?.workers) return undefined;
  const byPod = new Map<string, number>();
  for (const worker of reading.workers) byPod.set(worker.pod, (byPod.get(worker.pod) ?? 0) + worker.busy);
  return byPod;
}
