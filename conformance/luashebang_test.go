package conformance

import (
	"strings"
	"testing"
)

// shebangScript diffs EVAL scripts with a "#!lua" shebang against
// redis-server: flags, no-writes refusing writes and allowing EVAL_RO,
// the shebang's errors, and line numbers kept.
var shebangScript = strings.Join([]string{
	"SET k v",
	`EVAL "#!lua\nreturn redis.call('get', KEYS[1])" 1 k`, `EVAL "#!lua" 0`,
	`EVAL "#!lua flags=no-writes\nreturn redis.call('set', 'x', 1)" 0`,
	`EVAL "#!lua flags=no-writes\nreturn redis.pcall('set', 'x', 1)" 0`,
	`EVAL "#!lua flags=no-writes\nreturn redis.call('get', 'k')" 0`,
	`EVAL "#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1" 0`,
	`EVAL "#!lua flags=bad\nreturn 1" 0`, `EVAL "#!lua flags=NO-WRITES\nreturn 1" 0`, `EVAL "#!lua foo=bar\nreturn 1" 0`,
	`EVAL "#!js\nreturn 1" 0`, `EVAL "#!LUA\nreturn 1" 0`, `EVAL "#! \nreturn 1" 0`,
	`EVAL "#!lua flags=\nreturn 1" 0`, `EVAL "#!lua flags=no-writes,\nreturn 1" 0`,
	`EVAL "#!lua flags=no-writes flags=allow-oom\nreturn redis.call('set', 'x', 1)" 0`,
	`EVAL "#!lua name=x\nreturn 1" 0`, `EVAL "#!lua \"unbalanced\nreturn 1" 0`,
	`EVAL "#!lua\nreturn foo" 0`, `EVAL "#!lua\n\nerror('x')" 0`,
	`EVAL_RO "#!lua\nreturn 1" 0`, `EVAL_RO "#!lua flags=no-writes\nreturn redis.call('get', 'k')" 0`,
	`EVAL_RO "return redis.call('get', 'k')" 0`,
	`SCRIPT LOAD "#!lua flags=bad\nreturn 1"`, `SCRIPT LOAD "#!lua flags=no-writes\nreturn redis.call('get', 'k')"`,
	"EVALSHA_RO " + sha1hex("#!lua flags=no-writes\nreturn redis.call('get', 'k')") + " 0",
	`SCRIPT LOAD "#!lua\nreturn redis.call('incr', 'n')"`,
	"EVALSHA_RO " + sha1hex("#!lua\nreturn redis.call('incr', 'n')") + " 0", "EVALSHA " + sha1hex("#!lua\nreturn redis.call('incr', 'n')") + " 0",
	`EVAL "#!lua\nreturn redis.call('set', 'y', 1)" 0`, "GET y", "GET x",
}, "\n") + "\n"

// TestShebangMatchesRedisServer diffs shebang scripts against
// redis-server.
func TestShebangMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, shebangScript)
	diffWithRedisRESP3(t, g, shebangScript)
}
