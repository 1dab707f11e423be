/** The job record kept in the `jobs` hash. Lua never parses it; only this module does. */

export const BACKOFF_TYPES = ['exponential', 'fixed'] as const;
export type BackoffType = (typeof BACKOFF_TYPES)[number];

export interface Backoff {
  readonly type: BackoffType;
  /** Base delay: the first retry waits about this long. */
  readonly delayMs: number;
}

export interface JobRecord {
  readonly v: 1;
  readonly id: string;
  readonly name: string;
  readonly data: unknown;
  readonly enqueuedAt: number;
  /** Maximum number of runs. */
  readonly attempts: number;
  /** Runs that failed so far. */
  readonly attempt: number;
  readonly backoff: Backoff;
  /** 0: no per-job timeout. */
  readonly timeoutMs: number;
  readonly lastError: string | null;
}

/** A record that cannot be decoded: such a job goes to the dead letters, it never stops a worker. */
export class MalformedJobError extends Error {
  override readonly name = 'MalformedJobError';
}

export function encodeRecord(record: JobRecord): string {
  return JSON.stringify(record);
}

function expectField(obj: Record<string, unknown>, field: string, ok: (v: unknown) => boolean, what: string): void {
  if (!ok(obj[field])) throw new MalformedJobError(`job record field "${field}" must be ${what}`);
}

const isCount = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function decodeBackoff(value: unknown): Backoff {
  const b = value as Partial<Backoff> | null;
  if (typeof b !== 'object' || b === null || !BACKOFF_TYPES.includes(b.type as BackoffType) || !isCount(b.delayMs)) {
    throw new MalformedJobError('job record field "backoff" must be {type: exponential|fixed, delayMs >= 0}');
  }
  return { type: b.type as BackoffType, delayMs: b.delayMs as number };
}

/** Parses and checks a record; throws MalformedJobError naming the bad field. */
export function decodeRecord(json: string): JobRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new MalformedJobError(`job record is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new MalformedJobError('job record must be a JSON object');
  const obj = parsed as Record<string, unknown>;
  expectField(obj, 'id', (v) => typeof v === 'string' && v.length > 0, 'a non-empty string');
  expectField(obj, 'name', (v) => typeof v === 'string' && v.length > 0, 'a non-empty string');
  expectField(obj, 'enqueuedAt', isCount, 'an epoch time in ms');
  expectField(obj, 'attempts', (v) => isCount(v) && (v as number) >= 1, 'an integer >= 1');
  expectField(obj, 'attempt', isCount, 'an integer >= 0');
  expectField(obj, 'timeoutMs', isCount, 'an integer >= 0');
  return {
    v: 1,
    id: obj['id'] as string,
    name: obj['name'] as string,
    data: obj['data'],
    enqueuedAt: obj['enqueuedAt'] as number,
    attempts: obj['attempts'] as number,
    attempt: obj['attempt'] as number,
    backoff: decodeBackoff(obj['backoff']),
    timeoutMs: obj['timeoutMs'] as number,
    lastError: typeof obj['lastError'] === 'string' ? obj['lastError'] : null,
  };
}
