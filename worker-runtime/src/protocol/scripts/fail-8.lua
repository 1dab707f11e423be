--[[
  Records a failed run: the job is retried later, or becomes a dead letter. Times are Redis's TIME.
  Only the holder of the reservation (its token) can record it.

  KEYS[1] active     ZSET  "<token>:<entry>" -> reservation deadline
  KEYS[2] wait       LIST
  KEYS[3] delayed    ZSET
  KEYS[4] jobs       HASH
  KEYS[5] dead       ZSET
  KEYS[6] dead-info  HASH
  KEYS[7] counters   HASH  retried, dead
  KEYS[8] stalls     HASH

  ARGV[1] reservation "<token>:<readyAtMs>:<jobId>"
  ARGV[2] jobId
  ARGV[3] updated record JSON (attempt count and last error)
  ARGV[4] "retry" or "dead"
  ARGV[5] retry: backoff in ms (0: back to the wait list at once)
          dead: dead-info JSON (the time it died is the score in `dead`)

  Reply: 1 when the reservation was still held and the failure recorded, 0 when it was no longer
         held (reclaimed; another worker may run the job under its own token; nothing is changed)
]]
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = ARGV[2]
redis.call('HSET', KEYS[4], id, ARGV[3])
if ARGV[4] == 'retry' then
  local delay = tonumber(ARGV[5])
  if delay > 0 then
    redis.call('ZADD', KEYS[3], now + delay, id)
  else
    redis.call('LPUSH', KEYS[2], now .. ':' .. id)
  end
  redis.call('HINCRBY', KEYS[7], 'retried', 1)
else
  redis.call('ZADD', KEYS[5], now, id)
  redis.call('HSET', KEYS[6], id, ARGV[5])
  redis.call('HDEL', KEYS[8], id)
  redis.call('HINCRBY', KEYS[7], 'dead', 1)
end
return 1
