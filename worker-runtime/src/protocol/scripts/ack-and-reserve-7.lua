--[[
  Acknowledges finished jobs and reserves the next ones, in one call: a busy worker needs one round
  trip per batch, not two per job.

  A reservation is the member "<token>:<entry>" of `active`: the token is the reserving call's own,
  so only the holder of this reservation can acknowledge it. A worker that lost its reservation
  (reclaimed after a stall, then reserved by another worker under another token) acknowledges
  nothing.

  KEYS[1] wait      LIST  entries "<readyAtMs>:<jobId>", head at the right
  KEYS[2] active    ZSET  "<token>:<entry>" -> reservation deadline
  KEYS[3] jobs      HASH  jobId -> record
  KEYS[4] stalls    HASH  jobId -> reclaim count
  KEYS[5] counters  HASH  completed, dead, missing
  KEYS[6] dead      ZSET  jobId -> time it became a dead letter
  KEYS[7] dead-info HASH  jobId -> detail JSON

  ARGV[1] visibility timeout (ms): the reservations made now end at Redis's TIME plus this, so a
          reply delayed by an outage never brings a reservation that was born expired
  ARGV[2] how many jobs to reserve (0: acknowledge only)
  ARGV[3] token of the reservations made now (unique to this call; a letter first, no colon)
  ARGV[4...] reservations ("<token>:<entry>") of finished jobs

  Reply: array { completed, missing, entry1, record1, entry2, record2, ... }
    completed: how many acks still held their reservation (a reclaimed one does not count)
    missing: entries taken whose record was gone (evicted, or deleted by hand): each becomes a dead
      letter with reason "missing-record" and is counted, never dropped silently
    entries are returned head first, each reserved as "<token>:<entry>"
]]
local function jobIdOf(reservation)
  local first = string.find(reservation, ':', 1, true)
  local second = first and string.find(reservation, ':', first + 1, true)
  return second and string.sub(reservation, second + 1) or reservation
end

local completed = 0
local nAcks = #ARGV - 3
if nAcks > 0 then
  local acks = {}
  for i = 4, #ARGV do acks[#acks + 1] = ARGV[i] end
  local scores = redis.call('ZMSCORE', KEYS[2], unpack(acks))
  local held, ids = {}, {}
  for i = 1, nAcks do
    if scores[i] then
      held[#held + 1] = acks[i]
      ids[#ids + 1] = jobIdOf(acks[i])
    end
  end
  completed = #held
  if completed > 0 then
    redis.call('ZREM', KEYS[2], unpack(held))
    redis.call('HDEL', KEYS[3], unpack(ids))
    redis.call('HDEL', KEYS[4], unpack(ids))
    redis.call('HINCRBY', KEYS[5], 'completed', completed)
  end
end

local reply = { completed, 0 }
local count = tonumber(ARGV[2])
if count > 0 then
  local entries = redis.call('RPOP', KEYS[1], count)
  if entries then
    local t = redis.call('TIME')
    local deadline = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
    local token = ARGV[3] .. ':'
    local ids = {}
    for i = 1, #entries do
      local sep = string.find(entries[i], ':', 1, true)
      ids[i] = sep and string.sub(entries[i], sep + 1) or entries[i]
    end
    local records = redis.call('HMGET', KEYS[3], unpack(ids))
    local zargs = {}
    local missing = 0
    for i = 1, #entries do
      if records[i] then
        reply[#reply + 1] = entries[i]
        reply[#reply + 1] = records[i]
        zargs[#zargs + 1] = deadline
        zargs[#zargs + 1] = token .. entries[i]
      else
        missing = missing + 1
        redis.call('ZADD', KEYS[6], deadline - tonumber(ARGV[1]), ids[i])
        redis.call('HSET', KEYS[7], ids[i], cjson.encode({ reason = 'missing-record', attempts = 0,
          lastError = 'the job record was gone when the job was reserved (evicted by Redis, or deleted)' }))
      end
    end
    if #zargs > 0 then redis.call('ZADD', KEYS[2], unpack(zargs)) end
    if missing > 0 then
      reply[2] = missing
      redis.call('HINCRBY', KEYS[5], 'missing', missing)
      redis.call('HINCRBY', KEYS[5], 'dead', missing)
    end
  end
end
return reply
