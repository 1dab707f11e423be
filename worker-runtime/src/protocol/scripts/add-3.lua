--[[
  Adds jobs; an id that is already known (waiting, delayed, reserved or dead) is left alone.

  KEYS[1] wait     LIST
  KEYS[2] delayed  ZSET
  KEYS[3] jobs     HASH

  ARGV[1] now (epoch ms)
  ARGV[2 + 3i], ARGV[3 + 3i], ARGV[4 + 3i]  jobId, record JSON, due time (epoch ms; <= now means run now)

  Reply: array with one integer per job: 1 added, 0 duplicate id
]]
local now = tonumber(ARGV[1])
local added = {}
local ready = {}
for i = 2, #ARGV, 3 do
  local id = ARGV[i]
  local due = tonumber(ARGV[i + 2])
  if redis.call('HSETNX', KEYS[3], id, ARGV[i + 1]) == 1 then
    added[#added + 1] = 1
    if due > now then
      redis.call('ZADD', KEYS[2], due, id)
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
