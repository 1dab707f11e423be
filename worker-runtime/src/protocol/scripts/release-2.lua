--[[
  Returns reservations to the head of the wait list (drain): the jobs run next, and keep their
  original ready time so their age keeps counting.

  KEYS[1] active  ZSET  "<token>:<entry>" -> reservation deadline
  KEYS[2] wait    LIST  head at the right

  ARGV[1...] reservations "<token>:<entry>", in the order they should run (the first runs first)

  Reply: how many were returned (a reservation no longer held, reclaimed meanwhile, is skipped)
]]
local returned = 0
-- RPUSH in reverse, so that ARGV[1] ends up at the very head
for i = #ARGV, 1, -1 do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    local sep = string.find(ARGV[i], ':', 1, true)
    redis.call('RPUSH', KEYS[2], string.sub(ARGV[i], sep + 1))
    returned = returned + 1
  end
end
return returned
