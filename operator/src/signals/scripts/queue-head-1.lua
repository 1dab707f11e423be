--[[
  Reads a list queue's length and when its oldest item was enqueued. The item is decoded here,
  so that only numbers cross the network however large it is (a job may carry megabytes of
  arguments, and the operator polls every pool every few seconds).

  KEYS[1] the list

  ARGV[1] index of the oldest item: -1 (the right end; producers LPUSH) or 0 (the left end)
  ARGV[2] the JSON field that holds the enqueue time (a number, or a string holding one)
  ARGV[3] milliseconds per unit of that field ("1000" for epoch seconds, "1" for milliseconds)
  ARGV[4] a value above which the field is already in milliseconds whatever ARGV[3] says, or ""
          (Sidekiq writes float seconds up to 7.x and integer milliseconds from 8.0)
  ARGV[5] the largest item, in bytes, decoded whole. A larger one (a job with megabytes of
          arguments) is not decoded, which would hold Redis for seconds: it must look like a JSON
          object, and the field's last occurrence is read. That is the top-level one where the
          time is written after the payload, as Sidekiq's client does (enqueued_at is set last).

  Reply: array of four integers
    [1] length of the list (LLEN)
    [2] status: 0 the list is empty, 1 read, 2 the oldest item is not JSON,
        3 it is JSON without a finite number in the field (or not an object)
    [3] the enqueue time in epoch milliseconds (floored) when the status is 1, else 0
    [4] the oldest item's length in bytes: an error can say how large it was, never what it holds

  Errors: "WRONGTYPE <key> ..." when the key is not a list.
]]
local keyType = redis.call('TYPE', KEYS[1])['ok']
if keyType == 'none' then return { 0, 0, 0, 0 } end
if keyType ~= 'list' then
  return redis.error_reply('WRONGTYPE ' .. KEYS[1] .. ' is a ' .. keyType .. ', not a list')
end

local length = redis.call('LLEN', KEYS[1])
local item = redis.call('LINDEX', KEYS[1], tonumber(ARGV[1]))
if not item then return { length, 0, 0, 0 } end

local value
if #item <= tonumber(ARGV[5]) then
  local ok, job = pcall(cjson.decode, item)
  if not ok then return { length, 2, 0, #item } end
  if type(job) ~= 'table' then return { length, 3, 0, #item } end
  value = job[ARGV[2]]
else
  -- Its first and last characters, past any whitespace (a pattern anchored at the end would be
  -- tried at every position of the item).
  local last = #item
  while last > 0 and string.find(string.sub(item, last, last), '^%s$') do last = last - 1 end
  if not (string.match(item, '^%s*{') and string.sub(item, last, last) == '}') then
    return { length, 2, 0, #item }
  end
  local needle = '"' .. ARGV[2] .. '"'
  local at, from = nil, 1
  while true do
    local found = string.find(item, needle, from, true)
    if not found then break end
    at, from = found, found + #needle
  end
  if at then value = string.match(item, '^%s*:%s*"?([-+%d%.eE]+)', at + #needle) end
end
if type(value) == 'string' then value = tonumber(value) end
-- NaN is not equal to itself; inf and -inf are out of any epoch range.
if type(value) ~= 'number' or value ~= value or value == math.huge or value == -math.huge then
  return { length, 3, 0, #item }
end

local alreadyMs = tonumber(ARGV[4])
local ms = value
if not (alreadyMs and value > alreadyMs) then ms = value * tonumber(ARGV[3]) end
-- Kept within what an integer reply holds; no real epoch time comes near.
if ms > 1e15 then ms = 1e15 elseif ms < -1e15 then ms = -1e15 end
return { length, 1, math.floor(ms), #item }
