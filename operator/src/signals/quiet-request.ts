import type { QueueFormat } from '../api/workerpool-schema.ts';
import { redisCommand, type ReadCommand } from './read-command.ts';

// The one write the operator makes to a tenant's Redis: asking one worker to stop taking jobs,
// through its queue system's own control channel, before the operator removes the worker's pod.
// - Sidekiq: what Sidekiq::Process#quiet! does (lib/sidekiq/api.rb, #quiet! and #signal, v6.4.1
//   lines 904-930, v8.1.6 lines 1189-1230): LPUSH "TSTP" onto "<identity>-signals" and EXPIRE it in
//   60 s. The process RPOPs that list at its next heartbeat and signals itself (launcher.rb ❤,
//   v6.4.1 lines 164-183), then stops fetching and writes quiet "true" from the heartbeat after.
// - native: SET the worker's drain request key (worker-runtime PROTOCOL.md, "Remote drain") with a
//   TTL; the heartbeat script reads it.
// BullMQ, a plain list and a stream consumer group have no way to ask one worker to stop.

/** Seconds Sidekiq's own quiet! keeps its signals list (api.rb #signal). */
const SIDEKIQ_SIGNALS_TTL_SECONDS = 60;

/** Formats with a remote quiet: drain-before-delete works for them, idle-first elsewhere. */
export function hasRemoteQuiet(format: QueueFormat): boolean {
  return format === 'sidekiq' || format === 'native';
}

/**
 * The commands that ask the worker whose quiet key this is to stop taking jobs, or undefined where
 * the format has no remote quiet. `ttlSeconds` bounds how long a native request nobody reads lives.
 */
export function quietCommands(format: QueueFormat, quietKey: string, ttlSeconds: number): ReadCommand[] | undefined {
  switch (format) {
    case 'sidekiq':
      return [
        redisCommand('LPUSH', [quietKey, 'TSTP'], quietKey),
        redisCommand('EXPIRE', [quietKey, SIDEKIQ_SIGNALS_TTL_SECONDS], quietKey),
      ];
    case 'native':
      return [redisCommand('SET', [quietKey, '1', 'EX', Math.max(1, Math.ceil(ttlSeconds))], quietKey)];
    case 'bullmq':
    case 'list':
    case 'stream':
      return undefined;
  }
}
