--[[
  Puts dead letters back on the wait list with a fresh attempt count.

  KEYS[1] dead       ZSET
  KEYS[2] dead-info  HASH
  KEYS[3] jobs       HASH
  KEYS[4] wait       LIST
  KEYS[5] stalls     HASH

  ARGV[1 + 2i], ARGV[2 + 2i]  jobId, record JSON with the attempt count reset

  The replayed jobs are ready at Redis's TIME.

  Reply: how many were replayed (an id that is no longer a dead letter is skipped)
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local replayed = 0
for i = 1, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('ZREM', KEYS[1], id) == 1 then
    redis.call('HSET', KEYS[3], id, ARGV[i + 1])
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[5], id)
    redis.call('LPUSH', KEYS[4], now .. ':' .. id)
    replayed = replayed + 1
  end
end
return replayed
