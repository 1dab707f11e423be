/** What a handler receives. */
export interface Job<Data = unknown> {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly data: Data;
  /** This run's number, from 1. */
  readonly attempt: number;
  /** Maximum number of runs. */
  readonly attempts: number;
  readonly enqueuedAt: number;
  /** Aborted when the job times out or the worker gives up on it while draining: stop work then. */
  readonly signal: AbortSignal;
}

/** A handler's result is ignored; a throw (or rejection) fails the run. */
export type JobHandler = (job: Job) => unknown;

/** Handlers by job name. */
export type Handlers = Readonly<Record<string, JobHandler>>;
