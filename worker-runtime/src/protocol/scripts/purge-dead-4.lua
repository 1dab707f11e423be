--[[
  Deletes dead letters for good.

  KEYS[1] dead       ZSET
  KEYS[2] dead-info  HASH
  KEYS[3] jobs       HASH
  KEYS[4] counters   HASH  discarded

  ARGV[1...] jobIds

  Reply: how many were purged (an id that is no longer a dead letter is skipped)
]]
local purged = 0
for i = 1, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('HDEL', KEYS[2], ARGV[i])
    redis.call('HDEL', KEYS[3], ARGV[i])
    purged = purged + 1
  end
end
if purged > 0 then redis.call('HINCRBY', KEYS[4], 'discarded', purged) end
return purged
