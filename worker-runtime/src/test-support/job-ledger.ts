import { setTimeout as sleep } from 'node:timers/promises';
import type { Job, JobHandler } from '../worker/job.ts';

/** What a fault did to the jobs a test added: the at-least-once promise, counted. */
export interface LossReport {
  readonly added: number;
  /** Added (and acknowledged to the producer) but never completed and not a dead letter. */
  readonly lost: number;
  /** Started more than once. */
  readonly ranTwice: number;
  readonly deadLettered: number;
}

/**
 * The test's own record of every run, kept in the test process and not in the Redis under test:
 * a failover or a pause must not be able to erase the evidence.
 */
export class JobLedger {
  readonly starts = new Map<string, number>();
  readonly completions = new Map<string, number>();

  /** A handler that records its start, works `workMs(job)` and records its completion. */
  handler(workMs: (job: Job) => number): JobHandler {
    return async (job) => {
      this.starts.set(job.id, (this.starts.get(job.id) ?? 0) + 1);
      const ms = workMs(job);
      if (ms > 0) await sleep(ms);
      this.completions.set(job.id, (this.completions.get(job.id) ?? 0) + 1);
    };
  }

  get completed(): number {
    return this.completions.size;
  }

  report(added: readonly string[], deadLettered: ReadonlySet<string>): LossReport {
    return {
      added: added.length,
      lost: added.filter((id) => !this.completions.has(id) && !deadLettered.has(id)).length,
      ranTwice: [...this.starts.values()].filter((n) => n > 1).length,
      deadLettered: deadLettered.size,
    };
  }
}
