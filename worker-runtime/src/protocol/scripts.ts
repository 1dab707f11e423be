import { loadLuaScript } from './lua-script.ts';

/** Every write script of the protocol, loaded once. The read script lives in signals.ts. */
export const SCRIPTS = {
  add: loadLuaScript('add-3.lua'),
  ackAndReserve: loadLuaScript('ack-and-reserve-7.lua'),
  fail: loadLuaScript('fail-8.lua'),
  release: loadLuaScript('release-2.lua'),
  heartbeat: loadLuaScript('heartbeat-4.lua'),
  maintain: loadLuaScript('maintain-10.lua'),
  replayDead: loadLuaScript('replay-dead-5.lua'),
  purgeDead: loadLuaScript('purge-dead-4.lua'),
} as const;
