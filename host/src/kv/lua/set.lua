-- set: KEYS[1] the entry, KEYS[2] the version counter; ARGV[1] the value,
-- ARGV[2] its TTL in ms ('' for none). Answers the new version.
return write(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
