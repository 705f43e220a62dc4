-- Shared by the scripts that write: versions and whole-entry writes.
-- An entry is a hash {value, version} under `{prefix}:{namespace}:{key}`.

-- The next version from the counter shared by every key under the prefix,
-- so a key's version never repeats, even after a delete and re-create. A
-- Redis without the counter (new, or restarted without persistence) starts
-- it at its clock in microseconds, above the versions handed out before.
-- Versions stay decimal text: Lua numbers are doubles.
local function next_version(counter)
  if redis.call('EXISTS', counter) == 0 then
    local now = redis.call('TIME')
    redis.call('SET', counter, now[1] .. string.format('%06d', tonumber(now[2])))
  end
  redis.call('INCR', counter)
  return redis.call('GET', counter)
end

-- Replaces the entry under `key` with `value` at a new version, expiring
-- after `ttl` ms ('' for never).
local function write(key, counter, value, ttl)
  local version = next_version(counter)
  redis.call('DEL', key)
  redis.call('HSET', key, 'value', value, 'version', version)
  if ttl ~= '' then
    redis.call('PEXPIRE', key, ttl)
  end
  return version
end

