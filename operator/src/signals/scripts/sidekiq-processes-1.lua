--[[
  Reads the heartbeats of every Sidekiq process, as Sidekiq's own ProcessSet#each does, in one call.
  A process whose heartbeat hash expired (60 s TTL) has no "info" and is left out.

  KEYS[1] processes  SET of process identities ("hostname:pid:hex")

  ARGV[1] key prefix of the heartbeat hashes: the redis-namespace ("ns:") of Sidekiq 6, or ""

  Reply: flat array, six entries per live process:
    identity, info (JSON: hostname, queues, concurrency up to 8.1.1, capsules from 8.0, ...),
    busy, beat (epoch seconds), quiet ("true"/"false"), concurrency ("" before Sidekiq 8.1.2,
    which moved it out of info into the hash)

  Errors: "WRONGTYPE <key> ..." when KEYS[1] is not a set.
]]
local keyType = redis.call('TYPE', KEYS[1])['ok']
if keyType == 'none' then return {} end
if keyType ~= 'set' then
  return redis.error_reply('WRONGTYPE ' .. KEYS[1] .. ' is a ' .. keyType .. ', not a set')
end

local out = {}
for _, identity in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local fields = redis.call('HMGET', ARGV[1] .. identity, 'info', 'busy', 'beat', 'quiet', 'concurrency')
  if fields[1] then
    out[#out + 1] = identity
    out[#out + 1] = fields[1]
    out[#out + 1] = fields[2] or '0'
    out[#out + 1] = fields[3] or '0'
    out[#out + 1] = fields[4] or 'false'
    out[#out + 1] = fields[5] or ''
  end
end
return out
