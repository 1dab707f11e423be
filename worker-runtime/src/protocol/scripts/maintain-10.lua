--[[
  Housekeeping every worker runs about once a second: promotes due delayed jobs, reclaims
  reservations whose worker died, forgets expired heartbeats, and deletes dead letters past their
  retention (older than ARGV[5], or the oldest beyond ARGV[6]). Every time is Redis's TIME.

  A reservation is reclaimed (and a stall counted) only when its deadline passed by Redis's clock
  while maintenance kept running. When no maintenance ran for longer than ARGV[4], Redis itself was
  away (paused, restarted) or every worker was: the deadlines passed while no live worker could
  extend them, so nothing is reclaimed until one visibility timeout later (the grace), by which time
  every live worker has extended what it holds. A dead worker's jobs are reclaimed after the grace.

  KEYS[1]  wait         LIST
  KEYS[2]  delayed      ZSET  jobId -> due time
  KEYS[3]  active       ZSET  "<token>:<entry>" -> reservation deadline
  KEYS[4]  stalls       HASH  jobId -> reclaim count
  KEYS[5]  dead         ZSET
  KEYS[6]  dead-info    HASH
  KEYS[7]  counters     HASH  reclaimed, dead, discarded, missing; maintained-at and grace-until (Redis ms)
  KEYS[8]  workers      ZSET  workerId -> heartbeat expiry
  KEYS[9]  worker-info  HASH
  KEYS[10] jobs         HASH

  ARGV[1] max stalls: a job reclaimed more often than this becomes a dead letter (reason "stalled")
  ARGV[2] at most this many jobs promoted and reclaimed per call
  ARGV[3] visibility timeout (ms): the grace after a gap
  ARGV[4] gap (ms): no maintenance for longer than this starts a grace
  ARGV[5] dead letters older than this (ms) are deleted
  ARGV[6] at most this many dead letters are kept (the oldest go first)

  A reclaimed reservation whose record is gone (evicted, or deleted) becomes a dead letter with reason
  "missing-record" and is counted in `missing`, never dropped silently.

  Reply: array { promoted, reclaimed, buried, graceUntil (0 when not in a grace), discarded, missing }
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxStalls = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])

local marks = redis.call('HMGET', KEYS[7], 'maintained-at', 'grace-until')
local maintainedAt = tonumber(marks[1])
local graceUntil = tonumber(marks[2]) or 0
if maintainedAt and now - maintainedAt > tonumber(ARGV[4]) then
  graceUntil = now + tonumber(ARGV[3])
  redis.call('HSET', KEYS[7], 'maintained-at', now, 'grace-until', graceUntil)
else
  redis.call('HSET', KEYS[7], 'maintained-at', now)
end
local inGrace = now < graceUntil

local promoted = 0
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit)
if #due > 0 then
  local ids, entries = {}, {}
  for i = 1, #due, 2 do
    ids[#ids + 1] = due[i]
    entries[#entries + 1] = due[i + 1] .. ':' .. due[i]
  end
  redis.call('ZREM', KEYS[2], unpack(ids))
  redis.call('LPUSH', KEYS[1], unpack(entries))
  promoted = #ids
end

local reclaimed, buried, missing = 0, 0, 0
if not inGrace then
  local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. now, 'LIMIT', 0, limit)
  for i = 1, #expired do
    redis.call('ZREM', KEYS[3], expired[i])
    -- the reservation's token goes: the job returns as its plain wait entry, ready time kept. A
    -- member that starts with a digit has no token (written by a worker from before tokens,
    -- during a rolling upgrade): it is the entry itself.
    local entry = expired[i]
    local first = string.byte(entry, 1)
    if first and (first < 48 or first > 57) then
      entry = string.sub(entry, string.find(entry, ':', 1, true) + 1)
    end
    local sep = string.find(entry, ':', 1, true)
    local id = sep and string.sub(entry, sep + 1) or entry
    if redis.call('HEXISTS', KEYS[10], id) == 0 then
      missing = missing + 1
      redis.call('ZADD', KEYS[5], now, id)
      redis.call('HSET', KEYS[6], id, cjson.encode({ reason = 'missing-record', attempts = 0,
        lastError = 'the job record was gone when its reservation was reclaimed (evicted by Redis, or deleted)' }))
    else
      local stalls = redis.call('HINCRBY', KEYS[4], id, 1)
      if stalls > maxStalls then
        redis.call('HDEL', KEYS[4], id)
        redis.call('ZADD', KEYS[5], now, id)
        redis.call('HSET', KEYS[6], id, cjson.encode({ reason = 'stalled', stalls = stalls, deadAt = now,
          lastError = 'its worker died or stalled ' .. stalls .. ' times while running it' }))
        buried = buried + 1
      else
        redis.call('RPUSH', KEYS[1], entry)
        reclaimed = reclaimed + 1
      end
    end
  end
  if reclaimed > 0 then redis.call('HINCRBY', KEYS[7], 'reclaimed', reclaimed) end
  if buried + missing > 0 then redis.call('HINCRBY', KEYS[7], 'dead', buried + missing) end
  if missing > 0 then redis.call('HINCRBY', KEYS[7], 'missing', missing) end

  local gone = redis.call('ZRANGEBYSCORE', KEYS[8], '-inf', '(' .. now, 'LIMIT', 0, limit)
  if #gone > 0 then
    redis.call('ZREM', KEYS[8], unpack(gone))
    redis.call('HDEL', KEYS[9], unpack(gone))
  end
end
-- Dead letters past their retention: the record goes too, so the id may be added again.
local discarded = {}
local old = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', '(' .. (now - tonumber(ARGV[5])), 'LIMIT', 0, limit)
for i = 1, #old do discarded[#discarded + 1] = old[i] end
local over = redis.call('ZCARD', KEYS[5]) - #old - tonumber(ARGV[6])
if over > 0 then
  local oldest = redis.call('ZRANGE', KEYS[5], #old, #old + math.min(over, limit) - 1)
  for i = 1, #oldest do discarded[#discarded + 1] = oldest[i] end
end
if #discarded > 0 then
  redis.call('ZREM', KEYS[5], unpack(discarded))
  redis.call('HDEL', KEYS[6], unpack(discarded))
  redis.call('HDEL', KEYS[10], unpack(discarded))
  redis.call('HINCRBY', KEYS[7], 'discarded', #discarded)
end
return { promoted, reclaimed, buried, inGrace and graceUntil or 0, #discarded, missing }
