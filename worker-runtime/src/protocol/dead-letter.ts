/** Why a job became a dead letter. */
export const DEAD_REASONS = {
  /** Every attempt failed. */
  attemptsExhausted: 'attempts-exhausted',
  /** The handler threw an UnrecoverableError: retrying cannot help. */
  unrecoverable: 'unrecoverable',
  /** The record could not be decoded. */
  malformed: 'malformed',
  /** No handler is registered for the job's name. */
  noHandler: 'no-handler',
  /** Its worker died or stalled while running it too many times (set by maintain-10.lua). */
  stalled: 'stalled',
  /** Its record was gone when it was reserved or reclaimed: evicted by Redis, or deleted by hand. */
  missingRecord: 'missing-record',
} as const;
export type DeadReason = (typeof DEAD_REASONS)[keyof typeof DEAD_REASONS];

/** The `dead-info` hash value as a worker writes it; when the job died is the `dead` ZSET's score (Redis's clock). */
export interface DeadDetail {
  readonly reason: DeadReason;
  readonly attempts: number;
  readonly lastError: string;
}

/** A dead letter's detail as read back; `deadAt` is 0 when the detail does not carry it (see DeadDetail). */
export interface DeadInfo extends DeadDetail {
  readonly deadAt: number;
}

export function encodeDeadInfo(info: DeadDetail): string {
  return JSON.stringify(info);
}

/** Lenient: dead letters are for humans to inspect, so an odd entry is shown, not rejected. */
export function decodeDeadInfo(json: string | null): DeadInfo {
  const fallback: DeadInfo = {
    reason: DEAD_REASONS.malformed,
    attempts: 0,
    lastError: 'no dead-letter detail recorded',
    deadAt: 0,
  };
  if (json === null) return fallback;
  try {
    const obj = JSON.parse(json) as Partial<DeadInfo> & { stalls?: number };
    return {
      reason: typeof obj.reason === 'string' ? obj.reason : fallback.reason,
      attempts: typeof obj.attempts === 'number' ? obj.attempts : (obj.stalls ?? 0),
      lastError: typeof obj.lastError === 'string' ? obj.lastError : fallback.lastError,
      deadAt: typeof obj.deadAt === 'number' ? obj.deadAt : 0,
    };
  } catch {
    return { ...fallback, lastError: `unreadable dead-letter detail: ${json.slice(0, 200)}` };
  }
}
