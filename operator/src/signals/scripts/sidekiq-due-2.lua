--[[
  Counts Sidekiq jobs in the schedule and retry sets that belong to the pool's queues: those due
  now (only a running Sidekiq process moves them into their queue, so with zero replicas they
  are work waiting), and those coming due within each of a few horizons, so that pods can be
  ready when they do. Job JSON is decoded here so that only a few numbers cross the network.

  KEYS[1] schedule   ZSET  job JSON -> run at (epoch seconds, float)
  KEYS[2] retry      ZSET  job JSON -> retry at (epoch seconds, float)

  ARGV[1]          most jobs to inspect per set and kind (due, upcoming): bounds the work
  ARGV[2]          k, the number of horizons
  ARGV[3..2+k]     the horizons in seconds, ascending
  ARGV[3+k..]      the pool's queue names (the job's "queue" field)

  Reply: array
    [1] due jobs of the pool's queues, over both sets
    [2] 1 when a set had more due jobs than ARGV[1] were inspected (the count is a lower bound), else 0
    [3] 1 when a set had more upcoming jobs within the last horizon than ARGV[1]: beyond those
        inspected, the counts are the set's, at the share of the pool's jobs among those inspected
    [4..3+k]     jobs not due yet that come due within each horizon (cumulative)
    [4+k..3+2k]  milliseconds until the earliest of the jobs between the previous horizon and this
                 one comes due, -1 when there is none

  Errors: "WRONGTYPE <key> ..." when a set is not a ZSET; "MALFORMED <key> ..." when a due or
  upcoming job is not JSON. No error quotes a job: what a queue holds never leaves through the operator.
]]
local limit = tonumber(ARGV[1])
local k = tonumber(ARGV[2])
local horizons = {}
for i = 1, k do horizons[i] = tonumber(ARGV[2 + i]) end
local queues = {}
for i = 3 + k, #ARGV do queues[ARGV[i]] = true end

local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000

local function ours(key, raw)
  local ok, job = pcall(cjson.decode, raw)
  if not ok or type(job) ~= 'table' then
    return nil, redis.error_reply('MALFORMED ' .. key .. ' holds a job that is not JSON')
  end
  return queues[job['queue']] == true
end

local due = 0
local truncated = 0
local upcomingTruncated = 0
local within = {}
local earliest = {}
for i = 1, k do
  within[i] = 0
  earliest[i] = -1
end
local last = horizons[k] or 0
for _, key in ipairs(KEYS) do
  local keyType = redis.call('TYPE', key)['ok']
  if keyType ~= 'none' and keyType ~= 'zset' then
    return redis.error_reply('WRONGTYPE ' .. key .. ' is a ' .. keyType .. ', not a sorted set')
  end
  if keyType == 'zset' and redis.call('ZCOUNT', key, '-inf', now) > 0 then
    local jobs = redis.call('ZRANGEBYSCORE', key, '-inf', now, 'LIMIT', 0, limit + 1)
    if #jobs > limit then truncated = 1 end
    for i = 1, math.min(#jobs, limit) do
      local mine, err = ours(key, jobs[i])
      if err then return err end
      if mine then due = due + 1 end
    end
  end
  if keyType == 'zset' and k > 0 then
    -- Jobs not due yet, soonest first: the first one of ours in an interval is its earliest.
    local soon = redis.call('ZRANGEBYSCORE', key, '(' .. now, now + last, 'WITHSCORES', 'LIMIT', 0, limit + 1)
    local inspected = math.min(#soon, 2 * limit) / 2
    local mineCount = 0
    for i = 1, 2 * inspected, 2 do
      local mine, err = ours(key, soon[i])
      if err then return err end
      if mine then
        mineCount = mineCount + 1
        local dueIn = tonumber(soon[i + 1]) - now
        for h = 1, k do
          if dueIn <= horizons[h] then
            within[h] = within[h] + 1
            local lower = horizons[h - 1] or 0
            local ms = math.floor(dueIn * 1000)
            if dueIn > lower and (earliest[h] < 0 or ms < earliest[h]) then earliest[h] = ms end
          end
        end
      end
    end
    if #soon > 2 * limit then
      -- More than the scan limit come due (a campaign send): beyond the last job inspected, the
      -- set's own counts, at the share of the pool's queues among the jobs inspected.
      upcomingTruncated = 1
      local lastScore = tonumber(soon[2 * inspected])
      for h = 1, k do
        if now + horizons[h] > lastScore then
          local beyond = redis.call('ZCOUNT', key, '(' .. lastScore, now + horizons[h])
          within[h] = within[h] + math.floor(beyond * mineCount / inspected)
        end
      end
    end
  end
end
local reply = { due, truncated, upcomingTruncated }
for i = 1, k do reply[3 + i] = within[i] end
for i = 1, k do reply[3 + k + i] = earliest[i] end
return reply
