--[[
  Records a failed run: the job is retried later, or becomes a dead letter.

  KEYS[1] active     ZSET
  KEYS[2] wait       LIST
  KEYS[3] delayed    ZSET
  KEYS[4] jobs       HASH
  KEYS[5] dead       ZSET
  KEYS[6] dead-info  HASH
  KEYS[7] counters   HASH  retried, dead
  KEYS[8] stalls     HASH

  ARGV[1] now (epoch ms)
  ARGV[2] entry "<readyAtMs>:<jobId>" of the reservation
  ARGV[3] jobId
  ARGV[4] updated record JSON (attempt count and last error)
  ARGV[5] "retry" or "dead"
  ARGV[6] retry: due time (epoch ms; <= now means back to the wait list at once)
          dead: dead-info JSON

  Reply: 1 when the reservation was still held and the failure recorded, 0 when it had been reclaimed
         (another worker may run the job; nothing is changed)
]]
if redis.call('ZREM', KEYS[1], ARGV[2]) == 0 then return 0 end
local now = tonumber(ARGV[1])
local id = ARGV[3]
redis.call('HSET', KEYS[4], id, ARGV[4])
if ARGV[5] == 'retry' then
  local due = tonumber(ARGV[6])
  if due > now then
    redis.call('ZADD', KEYS[3], due, id)
  else
    redis.call('LPUSH', KEYS[2], now .. ':' .. id)
  end
  redis.call('HINCRBY', KEYS[7], 'retried', 1)
else
  redis.call('ZADD', KEYS[5], now, id)
  redis.call('HSET', KEYS[6], id, ARGV[6])
  redis.call('HDEL', KEYS[8], id)
  redis.call('HINCRBY', KEYS[7], 'dead', 1)
end
return 1
