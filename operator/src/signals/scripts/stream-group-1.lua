--[[
  Reads one consumer group of a stream in one call: entries not yet delivered to the group (lag),
  entries delivered but not acknowledged (pending), and the ID of the oldest undelivered entry.

  KEYS[1] the stream

  ARGV[1] consumer group name
  ARGV[2] most entries to count when Redis reports no lag (entries deleted or trimmed away)

  Reply: array
    [1] status      "ok" | "no-stream" (the key does not exist) | "no-group" (the group does not exist)
    [2] lag         entries not yet delivered to the group
    [3] lagSource   "xinfo"   (XINFO GROUPS reported it)
                    "counted" (XINFO reported nil; counted after last-delivered-id, exact)
                    "bounded" (counted, and the count stopped at ARGV[2]: at least this many)
    [4] pending     entries delivered and not yet acknowledged
    [5] oldestId    ID of the first entry after last-delivered-id, "" when none
    [6] acknowledged entries the group has delivered and its consumers acknowledged since it was
                    created: XINFO GROUPS entries-read (Redis >= 7.0) minus pending; 0 for no
                    stream, -1 when Redis does not know entries-read (a group created at an
                    arbitrary ID, or before 7.0). A consumer acknowledges an entry when it is done with it, so this
                    is the group's completion counter; it restarts when the group is re-created
                    or moved (XGROUP SETID)

  Errors: "WRONGTYPE <key> ..." when the key is not a stream.
]]
local stream = KEYS[1]
local group = ARGV[1]
local countLimit = tonumber(ARGV[2])

local keyType = redis.call('TYPE', stream)['ok']
if keyType == 'none' then return { 'no-stream', 0, 'xinfo', 0, '', 0 } end
if keyType ~= 'stream' then
  return redis.error_reply('WRONGTYPE ' .. stream .. ' is a ' .. keyType .. ', not a stream')
end

local found = nil
for _, info in ipairs(redis.call('XINFO', 'GROUPS', stream)) do
  local fields = {}
  for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
  if fields['name'] == group then found = fields end
end
if not found then return { 'no-group', 0, 'xinfo', 0, '', -1 } end

local lastId = found['last-delivered-id']
local first = redis.call('XRANGE', stream, '(' .. lastId, '+', 'COUNT', 1)
local oldestId = ''
if #first > 0 then oldestId = first[1][1] end

local lag = found['lag']
local lagSource = 'xinfo'
if oldestId == '' then
  -- Nothing after last-delivered-id: whatever XINFO estimates (it overcounts after XTRIM), nothing waits.
  lag = 0
elseif not lag then
  -- Redis cannot tell the lag after entries were deleted; count them, but only so far.
  local entries = redis.call('XRANGE', stream, '(' .. lastId, '+', 'COUNT', countLimit)
  lag = #entries
  lagSource = (lag >= countLimit) and 'bounded' or 'counted'
end

local acknowledged = -1
local entriesRead = tonumber(found['entries-read'])
if entriesRead then
  acknowledged = math.max(0, entriesRead - found['pending'])
elseif lastId == '0-0' then
  -- Redis reports no entries-read until a group's first delivery: nothing delivered, nothing done.
  acknowledged = 0
end

return { 'ok', lag, lagSource, found['pending'], oldestId, acknowledged }
