--[[
  Reads one BullMQ queue (v5 and v6 layouts) in one call: waiting, prioritized, due delayed and
  active jobs, whether the queue is paused, the jobs finished since the last call, when the oldest waiting
  job became ready, and the capacity the queue itself allows (Queue.setGlobalConcurrency and
  Queue.setGlobalRateLimit write meta "concurrency", "max" and "duration"). Counts follow
  BullMQ's own getCounts-1.lua.

  KEYS[1] wait                LIST  job ids; FIFO adds LPUSH, workers take from the right (-1)
  KEYS[2] paused              LIST  v5 only: where wait's jobs sit while the queue is paused
  KEYS[3] prioritized         ZSET  job id -> priority score
  KEYS[4] delayed             ZSET  job id -> timestamp_ms * 0x1000 + seq
  KEYS[5] active              LIST  jobs a worker runs now
  KEYS[6] meta                HASH  "paused" while paused (v5 and v6); "concurrency", "max", "duration" when set
  KEYS[7] events              STREAM what BullMQ's scripts report; moveToFinished-14.lua XADDs
                                    "event" "completed" or "failed" when a job leaves active for good
                                    (a failed attempt with attempts left is retried, not finished)

  ARGV[1] job key prefix, "<prefix>:<queue>:" (a job hash is ARGV[1] .. id; same hash tag as KEYS)
  ARGV[2] k, the number of horizons for delayed jobs coming due (0 for none)
  ARGV[3..2+k] the horizons in seconds, ascending
  ARGV[3+k]   the last events entry read at the previous poll; "" on the first, which counts
              nothing and starts from the stream's end
  ARGV[4+k]   most events entries to read per call: bounds the work; the rest waits for the next poll

  Reply: array
    [1] now (epoch ms, Redis TIME)
    [2] wait        jobs in wait, a legacy "0:..." marker at the tail not counted
    [3] paused      jobs in the v5 paused list, likewise
    [4] prioritized ZCARD prioritized
    [5] dueDelayed  delayed jobs whose time has come (promoted only by a running worker)
    [6] active      LLEN active
    [7] isPaused    1 when meta has "paused", else 0
    [8] readySince  epoch ms the oldest waiting job became ready, -1 when none waits
    [9] globalConcurrency  meta "concurrency": jobs all workers together may run, -1 when unset
    [10] rateMax     meta "max": jobs the queue starts per rateDuration, -1 when unset
    [11] rateDuration meta "duration" (ms), -1 when unset
    [12..11+k]    delayed jobs not due yet that come due within each horizon (cumulative)
    [12+k..11+2k] ms until the earliest delayed job between the previous horizon and this one
                  comes due, -1 when there is none
    [12+2k] finished  "completed" and "failed" events after ARGV[3+k], up to ARGV[4+k] entries read
    [13+2k] cursor    the last events entry read (ARGV[3+k] when none is new; "0-0" for no stream)
    [14+2k] gap       1 when the stream no longer holds ARGV[3+k] (trimmed past it, or re-created):
                      events in between were lost, and [12+2k] is not the whole count, else 0

  Errors: "WRONGTYPE <key> ..." when a key has another type; "MALFORMED a job under <prefix> ..."
  when a job's opts are not JSON. No error quotes a job or its id: both are what the queue holds.
]]
local rcall = redis.call
local expected = { 'list', 'list', 'zset', 'zset', 'list', 'hash', 'stream' }
for i, key in ipairs(KEYS) do
  local t = rcall('TYPE', key)['ok']
  if t ~= 'none' and t ~= expected[i] then
    return redis.error_reply('WRONGTYPE ' .. key .. ' is a ' .. t .. ', not a ' .. expected[i])
  end
end

local time = rcall('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local jobPrefix = ARGV[1]

-- A list's length and its oldest job id, skipping the marker BullMQ < 5 left at the tail.
local function listHead(key)
  local len = rcall('LLEN', key)
  if len == 0 then return 0, nil end
  local last = rcall('LINDEX', key, -1)
  if string.sub(last, 1, 2) == '0:' then
    if len == 1 then return 0, nil end
    return len - 1, rcall('LINDEX', key, -2)
  end
  return len, last
end

-- When a job became ready: created (timestamp) plus its delay, or its last attempt for a retry.
local function readySince(id)
  if not id then return -1 end
  local jobKey = jobPrefix .. id
  local fields = rcall('HMGET', jobKey, 'timestamp', 'processedOn', 'opts')
  local created = tonumber(fields[1])
  if not created then return -1 end
  local ready = created
  if fields[3] then
    local ok, opts = pcall(cjson.decode, fields[3])
    if not ok or type(opts) ~= 'table' then
      return redis.error_reply('MALFORMED a job under ' .. jobPrefix .. ' has opts that are not JSON')
    end
    if type(opts['delay']) == 'number' and opts['delay'] > 0 then ready = created + opts['delay'] end
  end
  local processedOn = tonumber(fields[2])
  if processedOn and processedOn > ready then ready = processedOn end
  return ready
end

local wait, waitHead = listHead(KEYS[1])
local paused, pausedHead = listHead(KEYS[2])
local prioritized = rcall('ZCARD', KEYS[3])
local dueDelayed = rcall('ZCOUNT', KEYS[4], 0, (now + 1) * 0x1000 - 1)
local active = rcall('LLEN', KEYS[5])
local isPaused = rcall('HEXISTS', KEYS[6], 'paused')

local oldest = -1
local candidates = { waitHead, pausedHead }
if prioritized > 0 then candidates[3] = rcall('ZRANGE', KEYS[3], 0, 0)[1] end
for i = 1, 3 do
  local since = readySince(candidates[i])
  if type(since) == 'table' then return since end
  if since >= 0 and (oldest < 0 or since < oldest) then oldest = since end
end

local limits = rcall('HMGET', KEYS[6], 'concurrency', 'max', 'duration')
local function limit(value) return math.floor(tonumber(value or '') or -1) end

local reply = { now, wait, paused, prioritized, dueDelayed, active, isPaused, oldest,
  limit(limits[1]), limit(limits[2]), limit(limits[3]) }

-- Delayed jobs coming due: the score is the due time in ms * 0x1000 plus a sequence number.
local k = tonumber(ARGV[2] or '0') or 0
local from = (now + 1) * 0x1000
for i = 1, k do
  local horizonMs = math.floor(tonumber(ARGV[2 + i]) * 1000)
  reply[11 + i] = rcall('ZCOUNT', KEYS[4], from, (now + horizonMs + 1) * 0x1000 - 1)
  local lowerMs = i > 1 and math.floor(tonumber(ARGV[1 + i]) * 1000) or 0
  local first = rcall('ZRANGEBYSCORE', KEYS[4], (now + lowerMs + 1) * 0x1000,
    (now + horizonMs + 1) * 0x1000 - 1, 'WITHSCORES', 'LIMIT', 0, 1)
  reply[11 + k + i] = first[2] and (math.floor(tonumber(first[2]) / 0x1000) - now) or -1
end

-- Jobs that finished since the previous poll, counted from the events stream: only numbers and
-- an entry ID come back, whatever return values the events carry.
local cursor = ARGV[3 + k] or ''
local eventLimit = tonumber(ARGV[4 + k] or '0') or 0
local finished, gap = 0, 0
local last = cursor
if rcall('EXISTS', KEYS[7]) == 0 then
  if cursor ~= '' and cursor ~= '0-0' then gap = 1 end
  last = '0-0'
elseif cursor == '' then
  local newest = rcall('XREVRANGE', KEYS[7], '+', '-', 'COUNT', 1)
  last = newest[1] and newest[1][1] or '0-0'
else
  if cursor ~= '0-0' then
    local oldest = rcall('XRANGE', KEYS[7], '-', '+', 'COUNT', 1)
    local oldestId = oldest[1] and oldest[1][1]
    -- Entry IDs compare as <ms>-<seq>: the stream starting after the cursor lost what was between.
    if oldestId then
      local om, os = string.match(oldestId, '^(%d+)-(%d+)$')
      local cm, cs = string.match(cursor, '^(%d+)-(%d+)$')
      if cm and (tonumber(om) > tonumber(cm) or (tonumber(om) == tonumber(cm) and tonumber(os) > tonumber(cs))) then
        gap = 1
      end
    end
  end
  local entries = rcall('XRANGE', KEYS[7], '(' .. cursor, '+', 'COUNT', eventLimit)
  for _, entry in ipairs(entries) do
    local fields = entry[2]
    for f = 1, #fields, 2 do
      if fields[f] == 'event' then
        if fields[f + 1] == 'completed' or fields[f + 1] == 'failed' then finished = finished + 1 end
        break
      end
    end
  end
  if #entries > 0 then last = entries[#entries][1] end
end
reply[12 + 2 * k] = finished
reply[13 + 2 * k] = last
reply[14 + 2 * k] = gap
return reply
