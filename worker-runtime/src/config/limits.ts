// Limits the worker process enforces on its settings. The operator's CRD and the environment it
// gives worker pods import these, so that a WorkerPool the API server accepts never yields a pod
// that refuses to start.

/** Jobs one worker process runs at once. Above this a pod spends its time on bookkeeping, not jobs. */
export const MAX_CONCURRENCY = 1_000;

/** Longest drain on SIGTERM, in seconds: an hour covers the longest jobs a queue worker should run. */
export const MAX_DRAIN_TIMEOUT_SECONDS = 3_600;
