--[[
  Publishes a worker's heartbeat and extends the reservations of the jobs it is running. Expiry and
  deadlines are Redis's TIME plus the durations given, never the worker's clock.

  KEYS[1] workers      ZSET  workerId -> heartbeat expiry
  KEYS[2] worker-info  HASH  workerId -> heartbeat JSON
  KEYS[3] active       ZSET  "<token>:<entry>" -> reservation deadline
  KEYS[4] drain request STRING of this worker (drainRequestKey): present when the operator asked
          it to stop taking jobs; removed when the worker leaves

  ARGV[1] workerId
  ARGV[2] how long the heartbeat lives (ms); 0 removes the heartbeat (the worker leaves)
  ARGV[3] heartbeat JSON
  ARGV[4] visibility timeout (ms): the held reservations now end at TIME plus this
  ARGV[5...] reservations "<token>:<entry>" the worker holds

  Reply: array: first 1 when a drain request for this worker is present (else 0), then the given
         reservations that are no longer held (reclaimed meanwhile): they are not re-created
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(ARGV[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  redis.call('DEL', KEYS[4])
else
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
end
local lost = {redis.call('EXISTS', KEYS[4])}
if #ARGV < 5 then return lost end
local held = {}
for i = 5, #ARGV do held[#held + 1] = ARGV[i] end
local scores = redis.call('ZMSCORE', KEYS[3], unpack(held))
local deadline = now + tonumber(ARGV[4])
local zargs = {}
for i = 1, #held do
  if scores[i] then
    zargs[#zargs + 1] = deadline
    zargs[#zargs + 1] = held[i]
  else
    lost[#lost + 1] = held[i]
  end
end
if #zargs > 0 then redis.call('ZADD', KEYS[3], 'XX', unpack(zargs)) end
return lost
