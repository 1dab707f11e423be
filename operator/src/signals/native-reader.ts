import {
  DEFAULT_KEY_PREFIX,
  drainRequestKey,
  parseSignalsReply,
  queueKeys,
  readSignalsCall,
  type QueueSignals,
} from '@workerpool/worker-runtime/protocol';
import type { QueueSpec } from '../api/workerpool-schema.ts';
import type { QueueFormatReader, ReadContext } from './queue-reader.ts';
import { UPCOMING_HORIZONS_SECONDS, type QueueReading, type WorkerHeartbeat } from './queue-reading.ts';
import { scriptCommand, type ReadCommand } from './read-command.ts';
import { SignalReadError } from './read-error.ts';
import { combineUpcoming, upcomingFrom } from './upcoming.ts';

// The worker-runtime's own protocol. Its key layout and its read script belong to the runtime
// (worker-runtime/PROTOCOL.md, src/protocol/keys.ts): this reader only puts the runtime's script
// call for each queue into the poller's pipeline and maps the decoded reply onto a QueueReading.

const MS_PER_SECOND = 1000;

function keysOf(queue: QueueSpec, name: string) {
  try {
    return queueKeys(queue.keyPrefix ?? DEFAULT_KEY_PREFIX, name);
  } catch (err) {
    throw new SignalReadError('invalid-spec', err instanceof Error ? err.message : String(err));
  }
}

/** A worker consuming several of the pool's queues heartbeats once per queue: count it once. */
function uniqueWorkers(queue: QueueSpec, signals: readonly QueueSignals[]): WorkerHeartbeat[] {
  const byId = new Map<string, WorkerHeartbeat>();
  for (const [i, s] of signals.entries()) {
    const keys = keysOf(queue, queue.names[i] ?? '');
    for (const w of s.workers)
      byId.set(w.workerId, {
        pod: w.pod,
        busy: w.busy,
        concurrency: w.concurrency,
        draining: w.draining,
        // A worker older than remote drain would ignore the request: it gets none, and its pod
        // leaves idle-first (drain-coordinator.ts) instead of at the drain deadline.
        ...(w.remoteDrain === true ? { quietKey: drainRequestKey(keys, w.workerId) } : {}),
      });
  }
  return [...byId.values()];
}

export const nativeReader: QueueFormatReader = {
  format: 'native',

  plan(queue: QueueSpec): ReadCommand[] {
    return queue.names.map((name) => {
      // No time argument: the script reads Redis TIME, the clock every reader uses.
      const call = readSignalsCall(keysOf(queue, name), undefined, UPCOMING_HORIZONS_SECONDS);
      return scriptCommand(call.script, call.keys, call.args);
    });
  },

  decode(queue: QueueSpec, replies: readonly unknown[], { nowMs }: ReadContext): QueueReading {
    const signals = queue.names.map((name, i) => {
      try {
        return parseSignalsReply(name, replies[i]);
      } catch {
        // Not the parser's message, which quotes the reply: status never carries what Redis holds.
        throw new SignalReadError('redis-error', `native queue "${name}": unexpected reply from read-signals`);
      }
    });
    const sum = (pick: (s: QueueSignals) => number) => signals.reduce((total, s) => total + pick(s), 0);
    const workers = uniqueWorkers(queue, signals);
    const malformed = sum((s) => s.malformedHeartbeats);
    return {
      observedAtMs: nowMs,
      depth: sum((s) => s.waiting),
      oldestJobAgeSeconds: Math.max(0, ...signals.map((s) => s.oldestAgeMs)) / MS_PER_SECOND,
      dueScheduled: sum((s) => s.delayedDue),
      upcoming: combineUpcoming(signals.map((s) => upcomingFrom(s.upcoming))),
      busy: sum((s) => s.active),
      concurrency: workers.reduce((total, w) => total + w.concurrency, 0),
      workers,
      completedTotal: sum((s) => s.completed),
      queues: queue.names.map((name, i) => ({
        name,
        depth: signals[i]?.waiting ?? 0,
        oldestJobAgeSeconds: (signals[i]?.oldestAgeMs ?? 0) / MS_PER_SECOND,
      })),
      ...(malformed > 0 ? { unreadableHeartbeats: { count: malformed } } : {}),
    };
  },
};
