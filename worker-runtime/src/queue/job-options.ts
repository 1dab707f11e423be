import type { Backoff } from '../protocol/job-record.ts';
import { BACKOFF_TYPES } from '../protocol/job-record.ts';

export interface JobOptions {
  /** Run no earlier than this many ms from now. */
  readonly delay?: number;
  /** Maximum number of runs (default 3). */
  readonly attempts?: number;
  /** A number is the base delay of an exponential backoff (ms). */
  readonly backoff?: number | Backoff;
  /** Makes the add idempotent: a second add with the same id is ignored while the job exists. */
  readonly jobId?: string;
  /** Per-job timeout in ms (0: none). */
  readonly timeout?: number;
}

export interface ResolvedJobOptions {
  readonly delayMs: number;
  readonly attempts: number;
  readonly backoff: Backoff;
  readonly jobId: string | undefined;
  readonly timeoutMs: number;
}

export const DEFAULT_JOB_OPTIONS: ResolvedJobOptions = {
  delayMs: 0,
  attempts: 3,
  backoff: { type: 'exponential', delayMs: 1_000 },
  jobId: undefined,
  timeoutMs: 0,
};

const MAX_JOB_ID_LENGTH = 256;

function nonNegative(value: number | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new Error(`${field} must be a number >= 0, got ${String(value)}`);
  return Math.floor(value);
}

function resolveBackoff(value: number | Backoff | undefined, field: string, fallback: Backoff): Backoff {
  if (value === undefined) return fallback;
  if (typeof value === 'number') return { type: 'exponential', delayMs: nonNegative(value, field, 0) };
  if (typeof value !== 'object' || value === null || !BACKOFF_TYPES.includes(value.type)) {
    throw new Error(`${field}.type must be one of ${BACKOFF_TYPES.join(', ')}`);
  }
  return { type: value.type, delayMs: nonNegative(value.delayMs, `${field}.delayMs`, 0) };
}

function resolveJobId(value: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_JOB_ID_LENGTH) {
    throw new Error(`${field} must be a non-empty string of at most ${MAX_JOB_ID_LENGTH} characters`);
  }
  return value;
}

/** Checks options and fills defaults; `where` names the call in error messages, e.g. `queue.add("mail") opts`. */
export function resolveJobOptions(opts: JobOptions, defaults: ResolvedJobOptions, where: string): ResolvedJobOptions {
  const attempts = opts.attempts ?? defaults.attempts;
  if (!Number.isInteger(attempts) || attempts < 1)
    throw new Error(`${where}.attempts must be an integer >= 1, got ${String(attempts)}`);
  return {
    delayMs: nonNegative(opts.delay, `${where}.delay`, defaults.delayMs),
    attempts,
    backoff: resolveBackoff(opts.backoff, `${where}.backoff`, defaults.backoff),
    jobId: resolveJobId(opts.jobId, `${where}.jobId`),
    timeoutMs: nonNegative(opts.timeout, `${where}.timeout`, defaults.timeoutMs),
  };
}
