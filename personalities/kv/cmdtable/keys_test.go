package cmdtable

import (
	"fmt"
	"strings"
	"testing"
)

func TestKeys(t *testing.T) {
	cases := []struct {
		line string
		want string // keys as pos:flags, or "invalid"
	}{
		{"get a", "1:RO,access"},
		{"mset a 1 b 2", "1:OW,update 3:OW,update"},
		{"lmove a b left right", "1:RW,access,delete 2:RW,insert"},
		{"zunionstore d 2 a b", "1:OW,update 3:RO,access 4:RO,access"},
		{"zunionstore d 3 a b", "invalid"},
		{"zunionstore d -1 a b", "invalid"},
		{"zunionstore d 99999999999999999999 a", "invalid"},
		{"eval s 0", "invalid"},
		{"xread count 2 streams a b 0 0", "4:RO,access 5:RO,access"},
		{"xread streams a b c", "2:RO,access"},
		{"xread count streams", "invalid"},
		{"sort k by x store d limit 0 1 store e", "1:RO,access 10:OW,update"},
		{"set a b", "1:OW,update"},
		{"set a b px 1 get", "1:RW,access,update"},
		{"bitfield k get u8 0", "1:RO,access"},
		{"bitfield k incrby u8 0 1", "1:RW,access,update"},
		{"georadius k 0 0 1 m store d", "1:RO,access 7:OW,update"},
		{"object|encoding object encoding k", "2:RO"},
		{"publish ch m", "invalid"},
	}
	for _, c := range cases {
		args := strings.Fields(c.line)
		name := args[0]
		if strings.Contains(name, "|") {
			args = args[1:]
		}
		keys, ok := Lookup(name).Keys(bytesOf(args))
		got := "invalid"
		if ok && len(keys) > 0 {
			var parts []string
			for _, k := range keys {
				var flags []string
				for _, f := range k.Flags.Reply() {
					flags = append(flags, fmt.Sprint(f))
				}
				parts = append(parts, fmt.Sprintf("%d:%s", k.Pos, strings.Join(flags, ",")))
			}
			got = strings.Join(parts, " ")
		}
		if got != c.want {
			t.Errorf("%s: got %s, want %s", c.line, got, c.want)
		}
	}
}

func TestTable(t *testing.T) {
	all := All()
	if len(all) < 200 || Lookup("GET") == nil || Lookup("client|id").Parent != Lookup("client") {
		t.Fatalf("%d commands; client|id %+v", len(all), Lookup("client|id"))
	}
	if i := Lookup("zadd"); i.Arity != -4 || !i.HasFlag("write") || i.Categories[0] != "write" || !i.HasKeys() {
		t.Fatalf("zadd: %+v", i)
	}
	if Lookup("ping").HasKeys() || Lookup("publish").HasKeys() || Lookup("client").Sub([]byte("ID")) == nil {
		t.Fatal("ping or publish has keys, or client|id is missing")
	}
}

func bytesOf(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func TestSince(t *testing.T) {
	if Lookup("get").Since != "1.0.0" || Lookup("client|id").Since != "5.0.0" || Lookup("waitaof").Since != "7.2.0" {
		t.Fatalf("since: get %q, client|id %q, waitaof %q", Lookup("get").Since, Lookup("client|id").Since, Lookup("waitaof").Since)
	}
}
