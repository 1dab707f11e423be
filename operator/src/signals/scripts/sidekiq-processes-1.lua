--[[
  Reads the heartbeats of every Sidekiq process, as Sidekiq's own ProcessSet does, in one call.
  A process whose heartbeat hash expired (60 s TTL) has no "info" and is left out.

  KEYS[1] processes  SET of process identities ("hostname:pid:hex")

  ARGV[1] key prefix of the heartbeat hashes: the redis-namespace ("ns:") of Sidekiq 6, or ""

  Reply: flat array, five entries per live process:
    identity, info (JSON: hostname, concurrency, queues, ...), busy, beat (epoch seconds), quiet ("true"/"false")

  Errors: "WRONGTYPE <key> ..." when KEYS[1] is not a set.
]]
local keyType = redis.call('TYPE', KEYS[1])['ok']
if keyType == 'none' then return {} end
if keyType ~= 'set' then
  return redis.error_reply('WRONGTYPE ' .. KEYS[1] .. ' is a ' .. keyType .. ', not a set')
end

local out = {}
for _, identity in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local fields = redis.call('HMGET', ARGV[1] .. identity, 'info', 'busy', 'beat', 'quiet')
  if fields[1] then
    out[#out + 1] = identity
    out[#out + 1] = fields[1]
    out[#out + 1] = fields[2] or '0'
    out[#out + 1] = fields[3] or '0'
    out[#out + 1] = fields[4] or 'false'
  end
end
return out
