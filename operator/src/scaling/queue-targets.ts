import type { QueueBacklog } from '../signals/queue-reading.ts';
import { formatNumber } from './reason.ts';
import { sizeReplicas, type Sizing, type SizingInput } from './sizing.ts';

// Urgency tiers in one pool (scaling.queueTargetLatencySeconds): a queue may have a tighter
// latency target than the pool's. The pool-wide sizing already keeps every queue within
// targetLatencySeconds (its oldest age is the oldest of all the queues); for each queue with a
// target of its own, the same sizing rule works out the replicas that start that queue's jobs
// within its target, with the pool's measured throughput, free slots and starting replicas —
// it assumes any replica takes that queue's jobs first (Sidekiq's strict queue order does; a
// worker that shares its slots evenly between queues gives the queue less, and the queue stays
// behind for longer). The queue's jobs are its backlog and, over the deadlines, the rate they
// arrived at: its waiting jobs are exactly those that arrived since its oldest one, so depth /
// oldest age needs no memory of past polls. The pool's sustained rate is the pool-wide floor's.
// The largest need wins, so a tier only ever adds replicas, and a pool without tiers sizes
// exactly as before.

/** The queue whose own target asked for more replicas than the pool's rule, for lastScaleReason. */
export interface QueueBound {
  queue: string;
  targetSeconds: number;
  depth: number;
  oldestJobAgeSeconds: number;
}

export interface TightestSizing {
  sizing: Sizing;
  /** Undefined when the pool's rule needs at least as much as every queue's own target. */
  bound: QueueBound | undefined;
}

/**
 * A queue is sized on its own only with data to size it from: a dated oldest job (a list
 * without a timestamp field has none), jobs waiting, and jobs a worker would take (a paused
 * BullMQ queue hands out none). Without it the queue falls back to the pool's rule.
 */
function sizableBacklog(backlog: QueueBacklog): backlog is QueueBacklog & { oldestJobAgeSeconds: number } {
  return backlog.oldestJobAgeSeconds !== undefined && backlog.depth > 0 && backlog.paused !== true;
}

/** An age under half a poll says little about a rate (the engine's queued-rate rule agrees). */
function queueArrivalRate(backlog: QueueBacklog & { oldestJobAgeSeconds: number }, pollSeconds: number): number {
  const age = backlog.oldestJobAgeSeconds;
  return age < pollSeconds / 2 ? 0 : backlog.depth / age;
}

function sizeQueue(pool: SizingInput, backlog: QueueBacklog & { oldestJobAgeSeconds: number }, target: number) {
  return sizeReplicas({
    ...pool,
    targetSeconds: target,
    waiting: backlog.depth,
    oldestAgeSeconds: backlog.oldestJobAgeSeconds,
    arrivalRate: queueArrivalRate(backlog, pool.pollSeconds),
    sustainedArrivalRate: 0,
    // Scheduled jobs are counted pool-wide, not per queue.
    scheduled: [],
  });
}

export function sizeForQueueTargets(
  pool: SizingInput,
  targets: Readonly<Record<string, number>> | undefined,
  queues: readonly QueueBacklog[] | undefined,
): TightestSizing {
  const poolSizing = sizeReplicas(pool);
  if (targets === undefined || queues === undefined) return { sizing: poolSizing, bound: undefined };
  let tightest: TightestSizing = { sizing: poolSizing, bound: undefined };
  let keepReplicas = poolSizing.keepReplicas;
  for (const backlog of queues) {
    const target = targets[backlog.name];
    if (target === undefined || !sizableBacklog(backlog)) continue;
    const sizing = sizeQueue(pool, backlog, target);
    keepReplicas = Math.max(keepReplicas, sizing.keepReplicas);
    if (sizing.replicas > tightest.sizing.replicas)
      tightest = {
        sizing,
        bound: {
          queue: backlog.name,
          targetSeconds: target,
          depth: backlog.depth,
          oldestJobAgeSeconds: backlog.oldestJobAgeSeconds,
        },
      };
  }
  // A scale-down keeps the headroom of every need, not only of the one that won.
  return { ...tightest, sizing: { ...tightest.sizing, keepReplicas } };
}

/** "queue critical: oldest job 12s > its target 5s, backlog 30". */
export function describeQueueBound(bound: QueueBound): string {
  const age = bound.oldestJobAgeSeconds;
  const comparison = age > bound.targetSeconds ? '>' : '<=';
  return `queue ${bound.queue}: oldest job ${formatNumber(age)}s ${comparison} its target ${formatNumber(bound.targetSeconds)}s, backlog ${formatNumber(bound.depth)}`;
}
