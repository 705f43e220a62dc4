-- compare-and-set: KEYS[1] the entry, KEYS[2] the version counter;
-- ARGV[1] the expected version ('' for "only if absent"), ARGV[2] the
-- value, ARGV[3] its TTL in ms ('' for none). Answers 1 if it wrote, else 0.
local current = redis.call('HGET', KEYS[1], 'version') or ''
if current ~= ARGV[1] then
  return 0
end
write(KEYS[1], KEYS[2], ARGV[2], ARGV[3])
return 1
