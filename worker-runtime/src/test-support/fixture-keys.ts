/** The fixture handlers' own prefix: one per queue, so tests sharing a key prefix never count each other's runs. */
export const fixturePrefix = (keyPrefix: string, queue: string) => `${keyPrefix}fixture:${queue}:`;

/** Where the fixture handlers record their runs; the tests read the same keys. */
export const fixtureKeys = (prefix: string) => ({
  /** HASH jobId -> completed runs */
  runs: `${prefix}runs`,
  /** HASH jobId -> started runs */
  starts: `${prefix}starts`,
  /** HASH jobId -> pid of the last process that started it */
  startedBy: `${prefix}started-by`,
  /** HASH pid -> completed runs */
  byPid: `${prefix}by-pid`,
});
