--[[
  Reads the heartbeats of the Sidekiq processes that serve a pool's queues, as Sidekiq's own
  ProcessSet#each reads every process, in one call. Only what the reader uses comes back, and at
  most ARGV[2] processes: the reply does not grow with the other pools' processes on the Redis,
  nor with what a process puts in its info (labels, tags, capsule weights).
  A process whose heartbeat hash expired (60 s TTL) has no "info" and is left out.

  KEYS[1] processes  SET of process identities ("hostname:pid:hex")

  ARGV[1]    key prefix of the heartbeat hashes: the redis-namespace ("ns:") of Sidekiq 6, or ""
  ARGV[2]    most processes to return
  ARGV[3..]  the pool's queue names

  A process serves the pool when info.queues (6.x to 8.x), or else the weights of its capsules
  (info.capsules, 8.x), name one of the pool's queues. One whose info is not JSON, or names no
  queues at all, may serve the pool: it is returned, for the reader to report as unreadable.

  stat:processed counts every process on the Redis. It is this pool's counter only while every
  live process serves only the pool's queues: the second entry names the first process that
  does not (or whose queues cannot be told), seen in the same pass over the set.

  Reply: array
    [1] 1 when more than ARGV[2] processes serve the pool (the rest are left out), else 0
    [2] "" when every live process serves only the pool's queues, else "<identity> serves <queue>"
        (or "<identity> has no readable queues") for the first that does not
    then seven entries per process:
      identity,
      info trimmed to {hostname, concurrency, version, capsules: {name: {concurrency}}} as JSON, or
        "" when info is not a JSON object,
      busy, beat (epoch seconds), quiet ("true"/"false"),
      concurrency ("" before Sidekiq 8.1.2, which moved it out of info into the hash),
      "1" when its queues could be told, "0" when not

  Errors: "WRONGTYPE <key> ..." when KEYS[1] is not a set.
]]
local keyType = redis.call('TYPE', KEYS[1])['ok']
if keyType == 'none' then return { 0, '' } end
if keyType ~= 'set' then
  return redis.error_reply('WRONGTYPE ' .. KEYS[1] .. ' is a ' .. keyType .. ', not a set')
end

local limit = tonumber(ARGV[2])
local ours = {}
for i = 3, #ARGV do ours[ARGV[i]] = true end

-- The queues a process serves: info.queues (6.x to 8.x), else its capsules' weights (8.x); nil
-- when neither names any.
local function queuesOf(info)
  local queues = {}
  if type(info['queues']) == 'table' then
    for _, q in ipairs(info['queues']) do queues[#queues + 1] = q end
  end
  if #queues == 0 and type(info['capsules']) == 'table' then
    for _, capsule in pairs(info['capsules']) do
      if type(capsule) == 'table' and type(capsule['weights']) == 'table' then
        for q, _ in pairs(capsule['weights']) do queues[#queues + 1] = q end
      end
    end
  end
  if #queues == 0 then return nil end
  return queues
end

-- true when the process serves one of the pool's queues, false when not, nil when it cannot be
-- told; and the first queue it serves that is not the pool's.
local function servesPool(info)
  local queues = queuesOf(info)
  if queues == nil then return nil, nil end
  local serves, foreign = false, nil
  for _, q in ipairs(queues) do
    if ours[q] then serves = true elseif foreign == nil then foreign = tostring(q) end
  end
  return serves, foreign
end

local function trimmed(info)
  local out = { hostname = info['hostname'], concurrency = info['concurrency'], version = info['version'] }
  if type(info['capsules']) == 'table' then
    local capsules = {}
    for name, capsule in pairs(info['capsules']) do
      if type(capsule) == 'table' then capsules[name] = { concurrency = capsule['concurrency'] } end
    end
    out['capsules'] = capsules
  end
  return cjson.encode(out)
end

local out = { 0, '' }
local returned = 0
for _, identity in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local fields = redis.call('HMGET', ARGV[1] .. identity, 'info', 'busy', 'beat', 'quiet', 'concurrency')
  if fields[1] then
    local ok, info = pcall(cjson.decode, fields[1])
    local serves, foreign = nil, nil
    local infoOut = ''
    if ok and type(info) == 'table' then
      serves, foreign = servesPool(info)
      if serves ~= false then infoOut = trimmed(info) end
    end
    if out[2] == '' then
      if serves == nil then
        out[2] = identity .. ' has no readable queues'
      elseif foreign ~= nil then
        out[2] = identity .. ' serves ' .. foreign
      end
    end
    if serves ~= false and returned >= limit then
      out[1] = 1
      -- Past the limit only the counter's owner is still looked for.
      if out[2] ~= '' then break end
    elseif serves ~= false then
      returned = returned + 1
      out[#out + 1] = identity
      out[#out + 1] = infoOut
      out[#out + 1] = fields[2] or '0'
      out[#out + 1] = fields[3] or '0'
      out[#out + 1] = fields[4] or 'false'
      out[#out + 1] = fields[5] or ''
      out[#out + 1] = serves == nil and '0' or '1'
    end
  end
end
return out
