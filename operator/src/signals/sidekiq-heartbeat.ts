// How often a Sidekiq process beats: it writes its heartbeat hash and adds the jobs it finished
// since the last beat to stat:processed (launcher.rb BEAT_PAUSE: 5 s in v6.4.1 l. 72, 10 s in
// v7.3.9 l. 86 and v8.1.7 l. 87), and once more when it stops (at_exit in 6.x, clear_heartbeat
// from 7.0). Its info JSON names its version from 7.0 (to_data "version"); 6.x writes none.

export const SIDEKIQ_HEARTBEAT_SECONDS = { before7: 5, from7: 10 } as const;

/** The heartbeat period of a process whose info names `version` (undefined: 6.x, which names none). */
export function sidekiqHeartbeatSeconds(version: unknown): number {
  if (typeof version !== 'string') return SIDEKIQ_HEARTBEAT_SECONDS.before7;
  const major = Number.parseInt(version, 10);
  return Number.isInteger(major) && major < 7 ? SIDEKIQ_HEARTBEAT_SECONDS.before7 : SIDEKIQ_HEARTBEAT_SECONDS.from7;
}
