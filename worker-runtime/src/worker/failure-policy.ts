import { DEAD_REASONS, type DeadReason } from '../protocol/dead-letter.ts';
import type { JobRecord } from '../protocol/job-record.ts';
import { backoffDelayMs } from './backoff.ts';
import { describeError, UnrecoverableError } from './errors.ts';

export type FailureDecision =
  | { readonly kind: 'retry'; readonly record: JobRecord; readonly delayMs: number }
  | { readonly kind: 'dead'; readonly record: JobRecord; readonly reason: DeadReason };

/** By name too: a handlers module bundled with its own copy of this package throws a different class. */
function isUnrecoverable(err: unknown): boolean {
  return err instanceof UnrecoverableError || (err instanceof Error && err.name === 'UnrecoverableError');
}

/** What to do with a job whose run failed: retry after a backoff, or give up. Pure, so it is unit tested. */
export function decideFailure(record: JobRecord, err: unknown, random: () => number = Math.random): FailureDecision {
  const failedRuns = record.attempt + 1;
  const updated: JobRecord = { ...record, attempt: failedRuns, lastError: describeError(err) };
  if (isUnrecoverable(err)) return { kind: 'dead', record: updated, reason: DEAD_REASONS.unrecoverable };
  if (failedRuns >= record.attempts) return { kind: 'dead', record: updated, reason: DEAD_REASONS.attemptsExhausted };
  return { kind: 'retry', record: updated, delayMs: backoffDelayMs(record.backoff, failedRuns, random) };
}
