-- increment: KEYS[1] the entry, KEYS[2] the version counter; ARGV[1] the
-- delta, ARGV[2] the TTL in ms of an entry it creates ('' for none); an
-- existing entry keeps its expiry. Answers the sum as decimal text, or
-- false when the value is not a decimal i64 or the sum would overflow.
local value = redis.call('HGET', KEYS[1], 'value')
local sign, digits = '', '0'
if value then
  sign, digits = string.match(value, '^([+-]?)(%d+)$')
  if not sign then
    return false
  end
end
-- The number as Rust's i64 parser reads it, in the form Redis counts with:
-- no '+', no leading zeros, no '-0'. Redis refuses one out of i64's range.
digits = string.gsub(digits, '^0+', '')
if digits == '' then
  sign, digits = '', '0'
end
if sign == '+' then
  sign = ''
end
-- Redis adds, in i64 with overflow checked, in a scratch field.
redis.call('HSET', KEYS[1], 'sum', sign .. digits)
local added = redis.pcall('HINCRBY', KEYS[1], 'sum', ARGV[1])
local sum = redis.call('HGET', KEYS[1], 'sum')
redis.call('HDEL', KEYS[1], 'sum')
if type(added) == 'table' and added.err then
  return false
end
redis.call('HSET', KEYS[1], 'value', sum, 'version', next_version(KEYS[2]))
if not value and ARGV[2] ~= '' then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return sum
