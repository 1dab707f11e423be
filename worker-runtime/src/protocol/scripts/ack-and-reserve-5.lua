--[[
  Acknowledges finished jobs and reserves the next ones, in one call: a busy worker needs one round
  trip per batch, not two per job.

  KEYS[1] wait      LIST  entries "<readyAtMs>:<jobId>", head at the right
  KEYS[2] active    ZSET  entry -> reservation deadline
  KEYS[3] jobs      HASH  jobId -> record
  KEYS[4] stalls    HASH  jobId -> reclaim count
  KEYS[5] counters  HASH  completed

  ARGV[1] visibility timeout (ms): the reservations made now end at Redis's TIME plus this, so a
          reply delayed by an outage never brings a reservation that was born expired
  ARGV[2] how many jobs to reserve (0: acknowledge only)
  ARGV[3...] entries of finished jobs

  Reply: array { completed, entry1, record1, entry2, record2, ... }
    completed: how many acks still held their reservation (a reclaimed one does not count)
    entries are returned head first; an entry whose record is missing is dropped, not returned
]]
local completed = 0
local nAcks = #ARGV - 2
if nAcks > 0 then
  local acks = {}
  for i = 3, #ARGV do acks[#acks + 1] = ARGV[i] end
  local scores = redis.call('ZMSCORE', KEYS[2], unpack(acks))
  local held, ids = {}, {}
  for i = 1, nAcks do
    if scores[i] then
      held[#held + 1] = acks[i]
      local sep = string.find(acks[i], ':', 1, true)
      ids[#ids + 1] = string.sub(acks[i], sep + 1)
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

local reply = { completed }
local count = tonumber(ARGV[2])
if count > 0 then
  local entries = redis.call('RPOP', KEYS[1], count)
  if entries then
    local t = redis.call('TIME')
    local deadline = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
    local zargs, ids = {}, {}
    for i = 1, #entries do
      zargs[#zargs + 1] = deadline
      zargs[#zargs + 1] = entries[i]
      local sep = string.find(entries[i], ':', 1, true)
      ids[i] = sep and string.sub(entries[i], sep + 1) or entries[i]
    end
    local records = redis.call('HMGET', KEYS[3], unpack(ids))
    local orphans = {}
    for i = 1, #entries do
      if records[i] then
        reply[#reply + 1] = entries[i]
        reply[#reply + 1] = records[i]
      else
        orphans[#orphans + 1] = i
      end
    end
    if #orphans == 0 then
      redis.call('ZADD', KEYS[2], unpack(zargs))
    else
      local kept = {}
      for i = 1, #entries do
        if records[i] then
          kept[#kept + 1] = deadline
          kept[#kept + 1] = entries[i]
        end
      end
      if #kept > 0 then redis.call('ZADD', KEYS[2], unpack(kept)) end
    end
  end
end
return reply
