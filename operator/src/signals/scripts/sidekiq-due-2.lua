--[[
  Counts Sidekiq jobs in the schedule and retry sets that are due now and belong to the pool's
  queues. Only a running Sidekiq process moves them into their queue, so with zero replicas they
  are work waiting. Job JSON is decoded here so that only two numbers cross the network.

  KEYS[1] schedule   ZSET  job JSON -> run at (epoch seconds, float)
  KEYS[2] retry      ZSET  job JSON -> retry at (epoch seconds, float)

  ARGV[1]    most due jobs to inspect per set (bounds the work on a huge backlog)
  ARGV[2..]  the pool's queue names (the job's "queue" field)

  Reply: array
    [1] due jobs of the pool's queues, over both sets
    [2] 1 when a set had more due jobs than ARGV[1] were inspected (the count is a lower bound), else 0

  Errors: "WRONGTYPE <key> ..." when a set is not a ZSET; "MALFORMED <key> ..." when a due job
  is not JSON. No error quotes a job: what a queue holds never leaves through the operator.
]]
local limit = tonumber(ARGV[1])
local queues = {}
for i = 2, #ARGV do queues[ARGV[i]] = true end

local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000

local due = 0
local truncated = 0
for _, key in ipairs(KEYS) do
  local keyType = redis.call('TYPE', key)['ok']
  if keyType ~= 'none' and keyType ~= 'zset' then
    return redis.error_reply('WRONGTYPE ' .. key .. ' is a ' .. keyType .. ', not a sorted set')
  end
  if keyType == 'zset' and redis.call('ZCOUNT', key, '-inf', now) > 0 then
    local jobs = redis.call('ZRANGEBYSCORE', key, '-inf', now, 'LIMIT', 0, limit + 1)
    if #jobs > limit then truncated = 1 end
    for i = 1, math.min(#jobs, limit) do
      local ok, job = pcall(cjson.decode, jobs[i])
      if not ok or type(job) ~= 'table' then
        return redis.error_reply('MALFORMED ' .. key .. ' holds a due job that is not JSON')
      end
      if queues[job['queue']] then due = due + 1 end
    end
  end
end
return { due, truncated }
