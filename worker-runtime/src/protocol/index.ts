/**
 * @workerpool/worker-runtime/protocol: the native queue's Redis protocol (PROTOCOL.md) for the
 * programs that read or write a queue beside the workers, such as the operator's native reader:
 * key names, the signals read script, the typed write scripts and the one script wrapper.
 */
export {
  COUNTER_FIELDS,
  DEFAULT_KEY_PREFIX,
  drainRequestKey,
  queueKeys,
  READ_SIGNALS_SCRIPT,
  readSignalsCall,
  parseSignalsReply,
  readQueueSignals,
  type QueueKeys,
  type QueueSignals,
  type WorkerHeartbeat,
  type ScriptCall,
} from './keys.ts';
export { encodeHeartbeat } from './heartbeat.ts';
export { redisTimeMs } from './redis-time.ts';
export { addJobs, ackAndReserve, publishHeartbeat, type NewJob } from './commands.ts';
export { runScript, runPipeline, type PipelineCall } from './run-script.ts';
export { loadLuaScript, type LuaScript } from './lua-script.ts';
