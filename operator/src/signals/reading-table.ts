import type { QueueFormat } from '../api/workerpool-schema.ts';
import type { QueueReading } from './queue-reading.ts';
import { profileOfReading } from './signal-profile.ts';

// What `workerpool-operator inspect` prints: the reading the operator would act on, laid out for
// a person on call. Pure, so its shape is tested without Redis.

export interface ReadingHeader {
  readonly endpoint: string;
  readonly format: QueueFormat;
  readonly queues: readonly string[];
}

const LABEL_WIDTH = 16;

function row(label: string, value: string): string {
  return `${label.padEnd(LABEL_WIDTH)}${value}`;
}

function seconds(value: number | undefined, reason: string | undefined): string {
  if (value === undefined) return `unknown (${reason ?? 'the format does not record it'})`;
  return `${value.toFixed(value < 10 ? 2 : 1)} s`;
}

function optional(value: number | undefined): string {
  return value === undefined ? 'not recorded by this format' : String(value);
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? [];
  return rows.map((r) => `  ${r.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join('  ')}`.trimEnd());
}

function workerRows(reading: QueueReading): string[] {
  if (reading.workers === undefined) return [];
  if (reading.workers.length === 0) return [row('workers', 'none alive')];
  const sorted = [...reading.workers].sort((a, b) => a.pod.localeCompare(b.pod));
  return [
    row('workers', `${sorted.length} alive`),
    ...table([
      ['POD', 'BUSY', 'CONCURRENCY', 'DRAINING'],
      ...sorted.map((w) => [w.pod, String(w.busy), String(w.concurrency), w.draining ? 'yes' : 'no']),
    ]),
  ];
}

/** Each queue on its own (what per-queue latency targets size from), when the pool reads several. */
function queueRows(reading: QueueReading): string[] {
  const queues = reading.queues;
  if (queues === undefined || queues.length < 2) return [];
  return table([
    ['QUEUE', 'DEPTH', 'OLDEST', ''],
    ...queues.map((q) => [
      q.name,
      String(q.depth),
      q.oldestJobAgeSeconds === undefined ? 'unknown' : seconds(q.oldestJobAgeSeconds, undefined),
      q.paused === true ? 'paused' : '',
    ]),
  ]);
}

/** Which signals the engine sizes this pool from, and what it must estimate. */
function profileLine(format: QueueFormat, reading: QueueReading): string {
  const profile = profileOfReading(format, reading);
  return `${profile.name}: ${profile.summary}`;
}

/** The queue system's own limits, which cap the replicas worth running. */
function capacityRows(reading: QueueReading): string[] {
  const capacity = reading.capacity;
  if (capacity === undefined) return [];
  return [
    ...(capacity.maxActiveJobs === undefined
      ? []
      : [row('max active', `${capacity.maxActiveJobs} jobs (global concurrency)`)]),
    ...(capacity.maxJobsPerSecond === undefined
      ? []
      : [row('rate limit', `${Number(capacity.maxJobsPerSecond.toFixed(3))} jobs/s`)]),
  ];
}

/** Scheduled jobs coming due, at the horizons where the count grows: "500 within 45 s (first in 40 s)". */
function upcomingRows(reading: QueueReading): string[] {
  const upcoming = reading.upcoming;
  if (upcoming === undefined) return [];
  const steps = upcoming.horizonsSeconds.flatMap((horizon, i) => {
    const count = upcoming.dueWithin[i] ?? 0;
    if (count <= (upcoming.dueWithin[i - 1] ?? 0)) return [];
    const first = upcoming.earliestDueInSeconds?.[i];
    return [`${count} within ${horizon} s${first === undefined ? '' : ` (first in ${first.toFixed(1)} s)`}`];
  });
  const last = upcoming.horizonsSeconds[upcoming.horizonsSeconds.length - 1] ?? 0;
  return [row('coming due', steps.length === 0 ? `none within ${last} s` : steps.join(', '))];
}

/** Heartbeats left out of busy and concurrency: a writer the reader does not know. */
function unreadableRows(reading: QueueReading): string[] {
  const unreadable = reading.unreadableHeartbeats;
  if (unreadable === undefined) return [];
  const first = unreadable.first === undefined ? '' : ` (first ${unreadable.first})`;
  return [row('unreadable', `${unreadable.count} heartbeat(s) left out of busy and concurrency${first}`)];
}

/** The reading as aligned text lines. */
export function formatReadingTable(header: ReadingHeader, reading: QueueReading): string {
  return [
    row('endpoint', header.endpoint),
    row('format', header.format),
    row('signal profile', profileLine(header.format, reading)),
    row('queues', header.queues.join(', ')),
    row('observed at', `${new Date(reading.observedAtMs).toISOString()} (Redis clock)`),
    row('depth', String(reading.depth)),
    row('oldest job age', seconds(reading.oldestJobAgeSeconds, reading.latencyUnavailableReason)),
    ...queueRows(reading),
    row('due scheduled', String(reading.dueScheduled)),
    ...upcomingRows(reading),
    row('busy', optional(reading.busy)),
    row('concurrency', optional(reading.concurrency)),
    ...unreadableRows(reading),
    row('completed total', optional(reading.completedTotal)),
    ...(reading.completedGranularitySeconds === undefined
      ? []
      : [row('completed every', `${reading.completedGranularitySeconds}s (moves at heartbeats)`)]),
    ...(reading.completedSharedWith === undefined
      ? []
      : [row('completed shared with', `${reading.completedSharedWith}: not this pool's counter, not used`)]),
    ...(reading.paused === true ? [row('paused', 'yes: the queue system is paused, workers take no jobs')] : []),
    ...capacityRows(reading),
    ...(reading.notes ?? []).map((note, i) => row(i === 0 ? 'notes' : '', note)),
    ...workerRows(reading),
  ].join('\n');
}
