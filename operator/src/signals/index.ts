// What the controller needs to read queue signals; see signal-poller.ts for how to use it.
export { SignalPoller, type PoolRegistration, type SignalPollerOptions } from './signal-poller.ts';
export { reportedReading, type PoolReadResult, type ReportedReading } from './stale-reading.ts';
export { READ_ERROR_KINDS, SignalReadError, type ReadErrorKind } from './read-error.ts';
export type { RedisCredentials, TlsMaterial } from './redis-endpoint.ts';
export type { QueueReading, WorkerHeartbeat } from './queue-reading.ts';
export { readerFor } from './reader-registry.ts';
export { hasRemoteQuiet, quietCommands } from './quiet-request.ts';
export { poolCompletions, profileOfReading } from './signal-profile.ts';
