package conformance

import (
	"regexp"
	"strings"
	"testing"
)

// aclUsersScript puts the users aclScript uses in a known state: on
// every run, on the gateway (which keeps its users) and on a fresh
// redis-server alike.
var aclUsersScript = strings.Join([]string{
	"ACL LOG RESET", "ACL SETUSER foo reset", "ACL SETUSER bar reset", "ACL SETUSER lim reset", "ACL SETUSER sel reset",
	"ACL SETUSER x reset", "ACL DELUSER foo bar lim sel x",
}, "\n") + "\n"

// aclScript exercises ACL SETUSER's rules, the ACL reads, DRYRUN, and a
// restricted user's NOPERM errors and ACL LOG entries. Rules leave at
// most one single command beside categories, since Redis lists those in
// its hash table's order.
var aclScript = aclUsersScript + strings.Join([]string{
	"ACL SETUSER foo", "ACL LIST", "ACL USERS", "ACL WHOAMI",
	"ACL SETUSER bar on >p1 #5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8 %R~r* ~k* %W~w* &ch* +@hash -hset (+set ~s*) (%R~a* -@all +@read)",
	"ACL GETUSER bar", "ACL LIST", "ACL GETUSER nosuch", "ACL GETUSER default",
	"ACL SETUSER bar <p1 resetkeys ~z* %RW~y* %R~z* resetchannels &* clearselectors", "ACL GETUSER bar",
	"ACL SETUSER bar nopass allkeys allcommands -@dangerous", "ACL GETUSER bar", "ACL SETUSER bar resetpass nocommands +@stream -xadd",
	"ACL GETUSER bar", "ACL SETUSER bar reset", "ACL LIST",
	"ACL SETUSER sel on nopass (~a* +get) (~b* +set)", "ACL GETUSER sel", "ACL SETUSER sel skip-sanitize-payload +client|id +@admin",
	"ACL GETUSER sel", "ACL SETUSER sel -@all +select|0", "ACL GETUSER sel",
	// Rules that do not parse.
	"ACL SETUSER x %~a", "ACL SETUSER x %RX~a", "ACL SETUSER x %R", "ACL SETUSER x ff", "ACL SETUSER x +nosuch",
	"ACL SETUSER x -@nosuch", "ACL SETUSER x +client|id|x", "ACL SETUSER x +get|", "ACL SETUSER x -select|0", "ACL SETUSER x (~a",
	"ACL SETUSER x (~a +get", "ACL SETUSER x ~* ~a", "ACL SETUSER x &* &a", "ACL SETUSER x <nopass", "ACL SETUSER x !abc",
	"ACL SETUSER x #abc", `ACL SETUSER "a b"`, "ACL SETUSER x on >ok ~k ff", "ACL LIST", "ACL SETUSER", "ACL GETUSER",
	// The other subcommands.
	"ACL CAT", "ACL CAT nosuch", "ACL CAT read x", "ACL GENPASS 0", "ACL GENPASS 5000", "ACL GENPASS x",
	"ACL GENPASS -1", "ACL DELUSER default", "ACL DELUSER foo nosuch foo", "ACL USERS", "ACL SAVE", "ACL LOAD",
	"ACL LOG x", "ACL LOG 1 2", "ACL FOO", "ACL HELP", "ACL",
	"ACL SETUSER lim on >pw ~k* %R~r* %W~w* &c* +get +set +publish +subscribe +multi +exec +lmove +auth +copy",
	"ACL DRYRUN lim get x", "ACL DRYRUN lim del k", "ACL DRYRUN nouser get k", "ACL DRYRUN lim nosuch k",
	"ACL DRYRUN lim get", "ACL DRYRUN lim get k1", "ACL DRYRUN lim publish x y", "ACL DRYRUN lim lmove k1 r1 left left",
	"ACL DRYRUN lim copy r1 w1", "ACL DRYRUN lim client id", "ACL DRYRUN lim",
	// As the restricted user.
	"AUTH lim pw", "ACL WHOAMI", "GET x", "GET k1", "SET x 1", "SET r1 1", "SET w1 1", "GET w1", "COPY r1 w1",
	"LMOVE k1 r1 left left", "DEL k", "PUBLISH z m", "PUBLISH c1 m", "SUBSCRIBE c1 z", "AUTH lim bad", "AUTH nouser bad",
	"AUTH bad", "MULTI", "DEL k", "GET x", "SET k1 v", "EXEC", "PING", "AUTH default nopass-ignored", "ACL LOG 12",
}, "\n") + "\n"

// aclLogVaries matches what differs between two servers' ACL LOG
// entries: the entry's age and the client's details.
var aclLogVaries = regexp.MustCompile(`(?m)("?age-seconds"?(\n| => | )).*$|^.*id=\d+ addr=.*$`)

func maskACLLog(out string) string {
	return aclLogVaries.ReplaceAllString(out, "${1}<varies>")
}

// TestRedisACLMatchesRedisServer diffs ACL and the permission checks
// against redis-server 7.0, in RESP2 (raw and formatted) and RESP3.
func TestRedisACLMatchesRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedisMasked(t, g, aclScript, maskACLLog)
	diffWithRedisMasked(t, g, aclScript, maskACLLog, "-3")
}
