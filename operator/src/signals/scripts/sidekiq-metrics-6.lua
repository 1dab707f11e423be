--[[
  Sums Sidekiq's execution metrics over the minute buckets the reader names, inside Redis: the
  reply is three numbers per bucket, whatever how many job classes the app runs.

  From 7.0 each Sidekiq process adds, at every heartbeat and as it stops, what it ran since the
  last one to a hash per minute (Sidekiq::Metrics::ExecutionTracker#flush, metrics/tracking.rb):
  for each job class, "<class>|p" jobs processed, "<class>|f" of them failed, "<class>|ms" the
  milliseconds the jobs that did not fail ran.

  KEYS[1..6]  the minute hashes of three minutes, each as 7.x names it ("j|20261207|13:5") and
              as 8.x does ("j|261207|13:05"), under the redis-namespace prefix if any

  Reply: array, three integers per key in KEYS order: processed, failed, milliseconds (0, 0, 0
  for a hash that does not exist).

  Errors: "WRONGTYPE <key> ..." when a bucket key is not a hash.
]]
local reply = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local keyType = redis.call('TYPE', key)['ok']
  local processed, failed, ms = 0, 0, 0
  if keyType == 'hash' then
    local fields = redis.call('HGETALL', key)
    for j = 1, #fields, 2 do
      local field = fields[j]
      local value = tonumber(fields[j + 1]) or 0
      if string.sub(field, -3) == '|ms' then
        ms = ms + value
      elseif string.sub(field, -2) == '|p' then
        processed = processed + value
      elseif string.sub(field, -2) == '|f' then
        failed = failed + value
      end
    end
  elseif keyType ~= 'none' then
    return redis.error_reply('WRONGTYPE ' .. key .. ' is a ' .. keyType .. ', not a hash')
  end
  reply[#reply + 1] = processed
  reply[#reply + 1] = failed
  reply[#reply + 1] = ms
end
return reply
