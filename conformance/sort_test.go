package conformance

import (
	"strings"
	"testing"
)

// sortScript exercises SORT and SORT_RO against redis-server: lists,
// sets and sorted sets, numeric and ALPHA, BY and GET patterns (keys and
// hash fields, '#', missing keys), LIMIT, STORE and the errors. Every
// reply has one possible order: a set is never read in its internal
// order (BY without '*' and no STORE), ALPHA BY never meets equal keys.
var sortScript = strings.Join([]string{
	// Numeric and ALPHA over a list.
	"RPUSH l 3 1 2 10 -5 2.5", "SORT l", "SORT l DESC", "SORT l ALPHA", "SORT l ALPHA DESC",
	"SORT l LIMIT 1 2", "SORT l LIMIT 0 0", "SORT l LIMIT -3 2", "SORT l LIMIT 4 10", "SORT l LIMIT 6 1",
	"SORT l LIMIT 100 1", "SORT l LIMIT 2 -1", "SORT l desc limit 1 3 asc", "SORT_RO l", "SORT_RO l DESC LIMIT 0 2",
	// Elements that are not numbers; ALPHA sorts them.
	"RPUSH w b a c", "SORT w", "SORT w ALPHA", "SORT w ALPHA DESC LIMIT 1 5", "SORT_RO w",
	"RPUSH nan 1 nan", "SORT nan", "RPUSH sp 1 ' 2' '3 '", "SORT sp", "RPUSH ws 1 ' 2'", "SORT ws",
	"RPUSH e '' 1 -1", "SORT e", "RPUSH hexes 0x10 1e2 inf -inf", "SORT hexes",
	// Equal scores sort by the element's bytes.
	"RPUSH eq 1.0 1 01 1e0 0", "SORT eq", "SORT eq DESC",
	// Sets and sorted sets.
	"SADD s 5 3 9 1 7", "SORT s", "SORT s DESC LIMIT 1 2", "SORT s ALPHA", "SADD sa b c a", "SORT sa ALPHA", "SORT sa",
	"ZADD z 1 c 2 b 3 a", "SORT z ALPHA", "SORT z BY nosort", "SORT z BY nosort DESC", "SORT z BY nosort LIMIT 1 1",
	"SORT z BY nosort DESC LIMIT 1 5", "SORT z BY nosort LIMIT 5 1", "SORT z BY nosort LIMIT 0 0",
	"ZADD zn 1 10 2 5 3 7", "SORT zn", "SORT zn DESC", "SORT zn BY nosort",
	// BY nosort keeps a list's order, with LIMIT and DESC.
	"SORT l BY nosort", "SORT l BY nosort DESC", "SORT l BY nosort LIMIT 1 2", "SORT l BY nosort DESC LIMIT 1 2",
	"SORT l BY nosort LIMIT 4 100", "SORT l BY nosort LIMIT 0 0", "SORT l BY nosort DESC LIMIT 9 1",
	// BY and GET with string keys and hash fields.
	"RPUSH ids 1 2 3 4", "MSET w_1 40 w_2 10 w_3 30 name_1 one name_2 two name_3 three",
	"SORT ids BY w_*", "SORT ids BY w_* DESC", "SORT ids BY w_* GET name_*", "SORT ids BY w_* GET # GET name_*",
	"SORT ids BY w_* GET name_* GET nope_* LIMIT 1 2", "SORT ids GET #", "SORT ids GET name", "SORT ids BY w_* ALPHA",
	"HSET h_1 f 3 n x1", "HSET h_2 f 1 n x2", "HSET h_3 f 2", "HSET h_4 f 9 n x4",
	"SORT ids BY h_*->f", "SORT ids BY h_*->f DESC GET h_*->n GET #", "SORT ids BY h_*->nofield GET h_*->f",
	"SORT ids GET h_*->", "SORT ids BY h_*-> DESC", "SORT ids GET w_*->f", "SORT ids GET h_*", "SORT ids BY h_* DESC",
	"SORT ids BY w_*->f GET h_*->n", "SORT ids BY *", "SORT ids BY nokey_* DESC",
	"SET x_1 b", "SET x_2 c", "SET x_3 a", "SET x_4 d", "SORT ids BY x_* ALPHA", "SORT ids BY x_* ALPHA DESC GET #",
	"SORT ids BY x_*", "SORT_RO ids BY w_* GET name_*",
	"SET pre1post 7", "SET pre2post 5", "SORT ids BY pre*post", "SORT ids GET pre*post",
	// STORE writes a list, replaces any type, drops the time to live,
	// and deletes the destination for an empty result.
	"SORT l STORE dst", "LRANGE dst 0 -1", "TYPE dst", "SET dst2 x", "EXPIRE dst2 100",
	"SORT ids BY w_* GET name_* GET nope_* STORE dst2", "LRANGE dst2 0 -1", "TTL dst2",
	"SORT nokey STORE dst2", "EXISTS dst2", "SORT l LIMIT 0 0 STORE dst", "EXISTS dst",
	"SORT s BY nosort STORE dst3", "LRANGE dst3 0 -1", "SORT s BY nosort DESC STORE dst3", "LRANGE dst3 0 -1",
	"SORT l STORE l", "LRANGE l 0 -1", "SORT w STORE dst4", "EXISTS dst4", "SORT w ALPHA STORE dst4", "LRANGE dst4 0 -1",
	// In a transaction, with and without STORE.
	"MULTI", "SORT ids BY w_* GET name_* STORE tx", "SORT ids BY w_* DESC LIMIT 0 2", "LRANGE tx 0 -1", "SORT tx ALPHA", "EXEC",
	// In scripts: a set is sorted even BY nosort; SORT is a write to
	// EVAL_RO even without STORE.
	`EVAL "return redis.call('sort', KEYS[1], 'by', 'x', 'desc')" 1 sa`, `EVAL "return redis.call('sort', KEYS[1], 'by', 'x')" 1 s`,
	`EVAL "return redis.call('sort', KEYS[1])" 1 l`, `EVAL_RO "return redis.call('sort', KEYS[1])" 1 l`,
	`EVAL_RO "return redis.call('sort_ro', KEYS[1], 'desc')" 1 l`,
	// Missing key, wrong types and syntax errors.
	"SORT nokey", "SORT nokey DESC LIMIT 0 1", "SORT_RO nokey", "SET str x", "SORT str", "HSET hh a 1", "SORT hh",
	"SORT str FOO", "SORT l FOO", "SORT l LIMIT 1", "SORT l LIMIT x 1", "SORT l LIMIT 1 x", "SORT l BY", "SORT l GET",
	"SORT l STORE", "SORT_RO l STORE dst", "SORT_RO str", "SORT", "SORT_RO", "SORT l ASC DESC ALPHA ALPHA",
	"SORT l LIMIT 9223372036854775807 9223372036854775807", "SORT l LIMIT -9223372036854775808 -1",
	"SORT l LIMIT 1 9223372036854775807", "SORT l LIMIT 9223372036854775808 1",
	"SORT nan STORE dst5", "EXISTS dst5", "DBSIZE",
	// Last: after an overflowing score redis-server leaves errno set, and
	// every later numeric SORT fails.
	"RPUSH big 1e400", "SORT big",
}, "\n") + "\n"

// TestRedisSortMatchesRedisServer diffs SORT and SORT_RO against
// redis-server, in RESP2 (raw and formatted) and RESP3.
func TestRedisSortMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, sortScript)
	diffWithRedisRESP3(t, g, sortScript)
}
