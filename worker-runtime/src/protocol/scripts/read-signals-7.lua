#!lua flags=no-writes
--[[
  Reads every scaling signal of one queue in one call (read-only: EVALSHA_RO works on replicas).

  KEYS[1] wait         LIST  entries "<readyAtMs>:<jobId>", oldest at index -1
  KEYS[2] delayed      ZSET  jobId -> due time (ms)
  KEYS[3] active       ZSET  entry -> reservation deadline (ms)
  KEYS[4] counters     HASH  completed, retried, dead, reclaimed
  KEYS[5] dead         ZSET  jobId -> dead at (ms)
  KEYS[6] workers      ZSET  workerId -> heartbeat expiry (ms)
  KEYS[7] worker-info  HASH  workerId -> heartbeat JSON

  ARGV[1] now in epoch ms, or "" to use the Redis server's clock (TIME)
  ARGV[2..] optional horizons in seconds, ascending, for the delayed jobs coming due

  Reply: array
    [1]  now (ms)
    [2]  waiting         LLEN wait
    [3]  oldestReadyAt   ready time (ms) of the oldest waiting entry, -1 when none
    [4]  delayed         ZCARD delayed
    [5]  delayedDue      delayed jobs whose due time has passed (work waiting: only a worker promotes them)
    [6]  oldestDueAt     due time (ms) of the earliest delayed job if it is due, else -1
    [7]  active          ZCARD active (reserved = in flight)
    [8]  activeExpired   reservations past their deadline (held by a dead worker, not yet reclaimed)
    [9]  completed       counters.completed
    [10] deadLetters     ZCARD dead
    [11] oldestAgeMs     now - min(oldestReadyAt, oldestDueAt) over those present, 0 when nothing waits
    [12] workers         flat array [workerId, heartbeatJson, ...] of workers whose heartbeat has not expired
    [13] upcoming        flat array, per horizon of ARGV[2..]: delayed jobs not due yet that come due
                         within it (cumulative), then ms until the earliest of those between the
                         previous horizon and this one (-1 when none); empty without horizons
]]
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local waiting = redis.call('LLEN', KEYS[1])
local oldestReadyAt = -1
if waiting > 0 then
  local entry = redis.call('LINDEX', KEYS[1], -1)
  if entry then
    local sep = string.find(entry, ':', 1, true)
    if sep then oldestReadyAt = tonumber(string.sub(entry, 1, sep - 1)) or -1 end
  end
end

local delayed = redis.call('ZCARD', KEYS[2])
local delayedDue = 0
local oldestDueAt = -1
if delayed > 0 then
  delayedDue = redis.call('ZCOUNT', KEYS[2], '-inf', now)
  if delayedDue > 0 then
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    oldestDueAt = tonumber(first[2])
  end
end

local active = redis.call('ZCARD', KEYS[3])
local activeExpired = 0
if active > 0 then activeExpired = redis.call('ZCOUNT', KEYS[3], '-inf', '(' .. now) end

local completed = tonumber(redis.call('HGET', KEYS[4], 'completed') or '0') or 0
local deadLetters = redis.call('ZCARD', KEYS[5])

local oldestAgeMs = 0
local since = -1
if oldestReadyAt >= 0 then since = oldestReadyAt end
if oldestDueAt >= 0 and (since < 0 or oldestDueAt < since) then since = oldestDueAt end
if since >= 0 and now > since then oldestAgeMs = now - since end

local workers = {}
local live = redis.call('ZRANGEBYSCORE', KEYS[6], '(' .. now, '+inf', 'LIMIT', 0, 5000)
if #live > 0 then
  local infos = redis.call('HMGET', KEYS[7], unpack(live))
  for i = 1, #live do
    if infos[i] then
      workers[#workers + 1] = live[i]
      workers[#workers + 1] = infos[i]
    end
  end
end

local upcoming = {}
local lowerMs = 0
for i = 2, #ARGV do
  local horizonMs = math.floor(tonumber(ARGV[i]) * 1000)
  local within = 0
  local earliest = -1
  if delayed > 0 then
    within = redis.call('ZCOUNT', KEYS[2], '(' .. now, now + horizonMs)
    local first = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. (now + lowerMs), now + horizonMs, 'WITHSCORES', 'LIMIT', 0, 1)
    if first[2] then earliest = tonumber(first[2]) - now end
  end
  upcoming[#upcoming + 1] = within
  upcoming[#upcoming + 1] = earliest
  lowerMs = horizonMs
end

return { now, waiting, oldestReadyAt, delayed, delayedDue, oldestDueAt, active, activeExpired,
  completed, deadLetters, oldestAgeMs, workers, upcoming }
