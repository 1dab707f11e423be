/** @workerpool/worker-runtime: reliable Redis job processing for WorkerPool pods. */
export {
  Queue,
  DurabilityError,
  type QueueOptions,
  type AddResult,
  type BulkJob,
  type Durability,
} from './queue/queue.ts';
export { EvictionPolicyError, type EvictionPolicyCheck } from './redis/eviction-policy.ts';
export type { JobOptions } from './queue/job-options.ts';
export { Worker, type WorkerEvents } from './worker/worker.ts';
export type { WorkerOptions } from './worker/worker-options.ts';
export type { Job, JobHandler, Handlers } from './worker/job.ts';
export { UnrecoverableError, JobTimeoutError } from './worker/errors.ts';
export {
  listDeadLetters,
  countDeadLetters,
  replayDeadLetters,
  purgeDeadLetters,
  type DeadLetter,
  type DeadLetterSelection,
  type ReplayResult,
} from './dead-letters/dead-letters.ts';
export { DEAD_REASONS, type DeadReason } from './protocol/dead-letter.ts';
export { createWorkerMetrics, METRIC_PREFIX, type WorkerMetrics } from './metrics/metrics.ts';
export {
  DEFAULT_KEY_PREFIX,
  queueKeys,
  readQueueSignals,
  type QueueKeys,
  type QueueSignals,
  type WorkerHeartbeat,
} from './protocol/keys.ts';
