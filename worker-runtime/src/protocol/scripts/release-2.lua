--[[
  Returns reservations to the head of the wait list (drain): the jobs run next, and keep their
  original ready time so their age keeps counting.

  KEYS[1] active  ZSET
  KEYS[2] wait    LIST  head at the right

  ARGV[1...] entries, in the order they should run (the first runs first)

  Reply: how many were returned (a reservation already reclaimed is skipped)
]]
local returned = 0
-- RPUSH in reverse, so that ARGV[1] ends up at the very head
for i = #ARGV, 1, -1 do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[2], ARGV[i])
    returned = returned + 1
  end
end
return returned
