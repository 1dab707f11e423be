--[[
  Adds jobs; an id that is already known (waiting, delayed, reserved or dead) is left alone.
  Ready and due times are Redis's clock (TIME), never the producer's.

  KEYS[1] wait     LIST
  KEYS[2] delayed  ZSET
  KEYS[3] jobs     HASH

  ARGV[1] "" to add at Redis's TIME; or an epoch ms to add at, for imports that keep a job's
          original enqueue time (and tests that need old jobs)
  ARGV[2 + 3i], ARGV[3 + 3i], ARGV[4 + 3i]  jobId, record JSON, delay in ms (0: ready at once)

  Reply: array with one integer per job: 1 added, 0 duplicate id
]]
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local added = {}
local ready = {}
for i = 2, #ARGV, 3 do
  local id = ARGV[i]
  local delay = tonumber(ARGV[i + 2])
  if redis.call('HSETNX', KEYS[3], id, ARGV[i + 1]) == 1 then
    added[#added + 1] = 1
    if delay > 0 then
      redis.call('ZADD', KEYS[2], now + delay, id)
    else
      ready[#ready + 1] = now .. ':' .. id
    end
  else
    added[#added + 1] = 0
  end
end
-- one LPUSH for the whole batch; unpack is bounded by the client's chunk size
if #ready > 0 then redis.call('LPUSH', KEYS[1], unpack(ready)) end
return added
