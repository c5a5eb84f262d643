/**
 * The Lua scripts that make quotas exact across instances. Each runs atomically on
 * Redis, so N instances together never exceed a limit. All keys of one provider share
 * a `{provider}` hash tag, so every script also runs on Redis Cluster.
 */

import { luaScript } from './redis-link.js';

/**
 * Admits one call or says why not, in one round trip:
 * the pause key, then the rate logs (lists of booked call times, as in rate-log.ts, on
 * the server's clock), then every meter (sum of its buckets against its limit). Only
 * when all pass are the meters incremented and the rate slot booked.
 *
 * KEYS: pause, rate log × R, then each meter's bucket keys (written bucket first).
 * ARGV: maxWaitMs, R, (limit, windowMs) × R, M, (bucketCount, limit | -1, amount, ttlMs) × M.
 * Reply: {'paused', ms, reason} | {'rate', waitMs} | {'meter', index, used} | {'ok', delayMs, used × M}.
 */
export const ADMIT = luaScript(`
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local pauseMs = redis.call('PTTL', KEYS[1])
if pauseMs > 0 then
  return {'paused', pauseMs, redis.call('GET', KEYS[1]) or ''}
end
local maxWait = tonumber(ARGV[1])
local rates = tonumber(ARGV[2])
local at = now
for i = 1, rates do
  local key = KEYS[1 + i]
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  local length = redis.call('LLEN', key)
  if length > 0 then
    at = math.max(at, tonumber(redis.call('LINDEX', key, -1)))
    if length >= limit then
      at = math.max(at, tonumber(redis.call('LINDEX', key, -limit)) + window)
    end
  end
end
if at - now > maxWait then
  return {'rate', at - now}
end
local arg = 3 + 2 * rates
local meters = tonumber(ARGV[arg])
arg = arg + 1
local key = 2 + rates
local writes = {}
local used = {}
for j = 1, meters do
  local count = tonumber(ARGV[arg])
  local limit = tonumber(ARGV[arg + 1])
  local amount = tonumber(ARGV[arg + 2])
  local ttl = tonumber(ARGV[arg + 3])
  arg = arg + 4
  local sum = 0
  for k = 0, count - 1 do
    sum = sum + (tonumber(redis.call('GET', KEYS[key + k])) or 0)
  end
  if limit >= 0 and sum + amount > limit then
    return {'meter', j, sum}
  end
  writes[j] = {KEYS[key], amount, ttl}
  used[j] = sum + amount
  key = key + count
end
for j = 1, meters do
  local write = writes[j]
  if write[2] > 0 then
    redis.call('INCRBY', write[1], write[2])
    redis.call('PEXPIRE', write[1], write[3])
  end
end
local slot = string.format('%.0f', at)
for i = 1, rates do
  local rateKey = KEYS[1 + i]
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('RPUSH', rateKey, slot)
  redis.call('LTRIM', rateKey, -limit, -1)
  redis.call('PEXPIRE', rateKey, at - now + window)
end
local reply = {'ok', at - now}
for j = 1, meters do
  reply[2 + j] = used[j]
end
return reply
`);

/**
 * Pauses the provider for every instance; a shorter pause never cuts a longer one short.
 * KEYS: pause. ARGV: ms, reason. Reply: 1 when the pause was set or extended, else 0.
 */
export const PAUSE = luaScript(`
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
  return 1
end
return 0
`);

/**
 * Reads the pause and each meter's usage, for snapshots.
 * KEYS: pause, then each meter's bucket keys. ARGV: M, bucketCount × M.
 * Reply: {pauseMs, reason, used × M}.
 */
export const READ = luaScript(`
local reply = {redis.call('PTTL', KEYS[1]), redis.call('GET', KEYS[1]) or ''}
local key = 2
for j = 1, tonumber(ARGV[1]) do
  local sum = 0
  for k = 0, tonumber(ARGV[1 + j]) - 1 do
    sum = sum + (tonumber(redis.call('GET', KEYS[key + k])) or 0)
  end
  reply[2 + j] = sum
  key = key + tonumber(ARGV[1 + j])
end
return reply
`);

/**
 * Adds what was spent while Redis was away, so the shared counts catch up.
 * KEYS: buckets. ARGV: (amount, ttlMs) per bucket. Reply: the number of buckets.
 */
export const RECONCILE = luaScript(`
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], ARGV[2 * i - 1])
  if redis.call('PTTL', KEYS[i]) < tonumber(ARGV[2 * i]) then
    redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
  end
end
return #KEYS
`);
