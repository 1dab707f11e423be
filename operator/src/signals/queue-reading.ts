// What a queue-signal reader reports for one WorkerPool at one moment. The scaling engine and
// the simulator consume exactly this shape, so that what the operator reads from Redis and what
// the simulator replays are the same thing.

/** A worker process that announced itself through the format's heartbeats. */
export interface WorkerHeartbeat {
  /** Pod name when the format records it (Sidekiq's hostname, the native runtime's HOSTNAME). */
  pod: string;
  /** Jobs it runs right now. */
  busy: number;
  /** Jobs it can run at once. */
  concurrency: number;
  /** True once it announced that it is shutting down (Sidekiq quiet, native draining). */
  draining: boolean;
  /**
   * The Redis key a request to stop taking jobs goes to, for formats that have one (Sidekiq's
   * `<identity>-signals` list, the native runtime's drain request key); see quiet-request.ts.
   */
  quietKey?: string;
  /**
   * When it last wrote its heartbeat, where what it reports is written only then (Sidekiq: busy,
   * its running set and its share of stat:processed; launcher.rb `❤`), in epoch ms.
   */
  beatAtMs?: number;
}

/** Heartbeats a reader left out because it could not use them. */
export interface UnreadableHeartbeats {
  count: number;
  /** The first one, with why, e.g. "web-1:12:ab3f: no concurrency in the process hash, ...", where the format names it. */
  first?: string;
}

export interface QueueReading {
  /** Epoch milliseconds when the reading was taken, by the Redis server's clock where available. */
  observedAtMs: number;
  /** Jobs waiting to start now, summed over the pool's queues. */
  depth: number;
  /**
   * Age in seconds of the oldest job waiting to start (0 when none waits). Undefined when the
   * format cannot tell, with the reason in latencyUnavailableReason.
   */
  oldestJobAgeSeconds: number | undefined;
  latencyUnavailableReason?: string;
  /**
   * Jobs in scheduled / retry / delayed sets that are already due but that only a running worker
   * moves into a queue: with zero replicas they are work waiting.
   */
  dueScheduled: number;
  /**
   * Scheduled jobs of the pool's queues (Sidekiq schedule and retry, BullMQ delayed, native
   * delayed) that are not due yet, by how soon they come due, read in the same round trip:
   * what lets the engine have pods ready when they do. Absent where the format has no such set.
   */
  upcoming?: UpcomingScheduled;
  /** Jobs running now, where the format records it. */
  busy?: number;
  /** Total concurrency of live workers, where the format records it. */
  concurrency?: number;
  /** Live workers, where the format records them (expired heartbeats are left out). */
  workers?: WorkerHeartbeat[];
  /**
   * Live heartbeats the reader could not use (a writer it does not know), left out of busy,
   * concurrency and workers: reported, so that a pool is never silently read as having no workers.
   */
  unreadableHeartbeats?: UnreadableHeartbeats;
  /** A monotonic count of completed jobs, where the format keeps one; throughput is its rate. */
  completedTotal?: number;
  /**
   * Jobs that succeeded and the seconds they ran, summed since the reader began counting, where
   * the workers record their jobs' run time themselves (Sidekiq 7+: its execution metrics, added
   * at each process's heartbeat): the service time is its ratio over any two readings, however
   * the heartbeats fall. Kept for the whole Redis, like completedTotal, and the pool's under the
   * same condition (completedSharedWith absent).
   */
  recordedRunTime?: { jobs: number; seconds: number };
  /**
   * The counter moves only in lumps, each worker adding what it finished at its heartbeat this
   * many seconds apart (Sidekiq's stat:processed): it is true only over spans of at least this.
   */
  completedGranularitySeconds?: number;
  /**
   * Why a counter kept for the whole Redis (Sidekiq's stat:processed) is not this pool's now: a
   * live process that serves a queue the pool does not (or whose queues cannot be told). Absent
   * when every live process serves only the pool's queues.
   */
  completedSharedWith?: string;
  /**
   * True when the queue system itself is paused (BullMQ `meta.paused`): jobs wait, but no
   * worker takes them, so more replicas would not lower the latency.
   */
  paused?: boolean;
  /**
   * What the queue system itself lets the pool's workers do, where it says (BullMQ's global
   * concurrency and global rate limit): replicas beyond it would only wait.
   */
  capacity?: QueueCapacity;
  /**
   * Each queue's own backlog, in spec order, from the replies the reader decodes anyway (no
   * extra command): what per-queue latency targets are sized from. Absent where a format reads
   * its queues only together.
   */
  queues?: QueueBacklog[];
  /** Caveats about this reading for people (e.g. depth counted, not reported, by Redis). */
  notes?: string[];
}

/**
 * How far ahead readers count scheduled jobs, in seconds: the engine needs the jobs due within a
 * pod start-up plus a poll, and reads them at the first horizon that covers it; the short ones
 * tell which jobs came due between two polls (scheduled work, not a rise in arrivals). Cumulative
 * counts at fixed horizons keep the reply a handful of numbers whatever the pool's start-up.
 */
export const UPCOMING_HORIZONS_SECONDS: readonly number[] = [1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300];

export interface UpcomingScheduled {
  /** The horizons counted, ascending (UPCOMING_HORIZONS_SECONDS when a reader wrote it). */
  horizonsSeconds: readonly number[];
  /** Jobs not due yet that come due within each horizon (cumulative, same order). */
  dueWithin: readonly number[];
  /**
   * For each horizon, seconds until the earliest of the jobs counted between the previous horizon
   * and this one comes due (the previous horizon when none is counted there): a burst scheduled
   * for one instant is planned for that instant, not for the start of its interval.
   */
  earliestDueInSeconds?: readonly number[];
  /** More scheduled jobs lay within the horizons than a reader inspects: the counts are lower bounds. */
  truncated?: boolean;
}

/** One queue of a pool, as its reader saw it. */
export interface QueueBacklog {
  /** The name as in spec.queue.names. */
  name: string;
  /** Jobs waiting to start in this queue (due scheduled jobs are counted only pool-wide). */
  depth: number;
  /** Age of this queue's oldest waiting job (0 when none waits); undefined when the format cannot tell. */
  oldestJobAgeSeconds: number | undefined;
  /** This queue alone is paused (BullMQ meta.paused): no worker takes its jobs. */
  paused?: boolean;
}

export interface QueueCapacity {
  /** Jobs every worker together may run at once (BullMQ meta.concurrency). */
  maxActiveJobs?: number;
  /** Jobs the queue starts per second at most (BullMQ meta.max per meta.duration). */
  maxJobsPerSecond?: number;
}
