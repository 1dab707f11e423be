export const JOB_KINDS = ['no-op', '1ms'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export interface RunSpec {
  readonly host: string;
  readonly port: number;
  readonly jobs: number;
  readonly concurrency: number;
  readonly kind: JobKind;
}

/** One library under test: fill the queue (not timed), then process every job (timed). */
export interface LibraryRunner {
  readonly library: string;
  fill(spec: RunSpec): Promise<void>;
  /** Starts workers and resolves once every job completed; returns a function that shuts them down. */
  process(spec: RunSpec): Promise<() => Promise<void>>;
}

export interface RunResult {
  readonly library: string;
  readonly kind: JobKind;
  readonly concurrency: number;
  readonly jobs: number;
  readonly seconds: number;
  readonly jobsPerSecond: number;
  readonly redisCommandsPerJob: number;
}
