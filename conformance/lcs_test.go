package conformance

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// lcsText returns n pseudo-random letters from a small alphabet, so that
// two of them share many subsequences and Redis's tie-breaking matters.
func lcsText(seed uint64, n int, alphabet string) string {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// lcsScript diffs LCS against redis-server: the string, LEN, IDX with
// MINMATCHLEN and WITHMATCHLEN, missing and empty keys, binary strings,
// longer texts, wrong types and every error.
var lcsScript = strings.Join([]string{
	"MSET key1 ohmytext key2 mynewtext", "LCS key1 key2", "LCS key1 key2 LEN", "LCS key1 key2 IDX",
	"LCS key1 key2 IDX MINMATCHLEN 4", "LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN", "LCS key1 key2 WITHMATCHLEN IDX",
	"LCS key1 key2 idx minmatchlen -5 withmatchlen", "LCS key1 key2 MINMATCHLEN 2", "LCS key2 key1 IDX WITHMATCHLEN",
	"LCS key1 key1", "LCS key1 key1 IDX WITHMATCHLEN", "LCS key1 nokey", "LCS nokey nokey2 IDX", "LCS nokey key1 LEN",
	"SET e ''", "LCS e key1", "LCS e e IDX", "SET n 12345", "SET n2 2x4", "LCS n n2", "LCS n n2 IDX WITHMATCHLEN",
	`SET bin1 "a\x00b\xffc"`, `SET bin2 "\x00\xff"`, "LCS bin1 bin2", "LCS bin1 bin2 IDX",
	"SET t1 " + lcsText(1, 300, "ab"), "SET t2 " + lcsText(2, 280, "ab"), "LCS t1 t2", "LCS t1 t2 LEN",
	"LCS t1 t2 IDX WITHMATCHLEN", "LCS t1 t2 IDX MINMATCHLEN 3", "SET t3 " + lcsText(3, 200, "abcdefgh"), "LCS t1 t3 IDX",
	"SET u1 " + lcsText(4, 2000, "acgt"), "SET u2 " + lcsText(5, 1500, "acgt"), "LCS u1 u2 LEN", "LCS u1 u2",
	"RPUSH l a", "LCS l key1", "LCS key1 l", "LCS nokey l", "LCS l key1 FOO", "LCS key1 key2 IDX LEN", "LCS key1 key2 LEN IDX",
	"LCS key1 key2 FOO", "LCS key1 key2 MINMATCHLEN", "LCS key1 key2 MINMATCHLEN x", "LCS key1 key2 MINMATCHLEN x LEN IDX",
	"LCS key1 key2 LEN IDX FOO", "LCS key1", "LCS",
}, "\n") + "\n"

// lcsLimitScript lowers proto-max-bulk-len (a node's own setting, so not
// for an ensemble) below an LCS table, and restores it.
var lcsLimitScript = strings.Join([]string{
	"CONFIG SET proto-max-bulk-len 1mb", "SET a " + lcsText(6, 600, "ab"), "SET b " + lcsText(7, 600, "ab"), "LCS a b LEN",
	"SET b " + lcsText(7, 400, "ab"), "LCS a b LEN", "CONFIG SET proto-max-bulk-len 512mb",
}, "\n") + "\n"

// TestRedisLcsMatchesRedisServer diffs LCS against redis-server, in RESP2
// (raw and formatted) and RESP3.
func TestRedisLcsMatchesRedisServer(t *testing.T) {
	diffScriptsWithRedis(t, startGateway(t), lcsScript, lcsLimitScript)
}
