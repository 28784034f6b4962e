package node

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.RedisAddr = "nohostport"
	c.AdminAddr = "also:bad:addr"
	c.MaxClients = -1
	c.ProtoMaxBulkLen = -5
	c.Log = "zookeeper" // without zk-log-servers
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"redis-addr", "admin-addr", "maxclients", "proto-max-bulk-len", "zk-log-servers"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if d := Default(); d.Validate() != nil {
		t.Fatalf("default config invalid: %v", d.Validate())
	}
	c = Default()
	c.Log, c.ZKLogServers = "mem", []string{"nohostport"}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `log "mem"`) || !strings.Contains(err.Error(), "nohostport") {
		t.Fatalf("bad log settings: %v", err)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.json")
	os.WriteFile(path, []byte(`{"data-dir": "/x", "redis-addr": "127.0.0.1:1", "maxclients": 7}`), 0o644)
	c := Config{AdminAddr: "127.0.0.1:2"}
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/x" || c.RedisAddr != "127.0.0.1:1" || c.MaxClients != 7 || c.AdminAddr != "127.0.0.1:2" {
		t.Fatalf("loaded %+v", c)
	}
	os.WriteFile(path, []byte(`{"redis-adr": "typo"}`), 0o644)
	if err := c.LoadFile(path); err == nil || !strings.Contains(err.Error(), "redis-adr") {
		t.Fatalf("unknown key accepted: %v", err)
	}
}
