package node

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Default()
	c.RedisAddr = "nohostport"
	c.AdminAddr = "also:bad:addr"
	c.MaxClients = -1
	c.ProtoMaxBulkLen = -5
	c.NotifyKeyspaceEvents = "KEAQ"
	c.Log = "zookeeper" // without zk-log-servers
	c.TrimRetention = -time.Second
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"redis-addr", "admin-addr", "maxclients", "proto-max-bulk-len", "notify-keyspace-events", "zk-log-servers", "trim-retention"} {
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
	os.WriteFile(path, []byte(`{"data-dir": "/x", "redis-addr": "127.0.0.1:1", "maxclients": 7, "trim-retention": 90000000000}`), 0o644)
	c := Config{AdminAddr: "127.0.0.1:2"}
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/x" || c.RedisAddr != "127.0.0.1:1" || c.MaxClients != 7 || c.AdminAddr != "127.0.0.1:2" || c.TrimRetention != 90*time.Second {
		t.Fatalf("loaded %+v", c)
	}
	os.WriteFile(path, []byte(`{"redis-adr": "typo"}`), 0o644)
	if err := c.LoadFile(path); err == nil || !strings.Contains(err.Error(), "redis-adr") {
		t.Fatalf("unknown key accepted: %v", err)
	}
}

func TestLoadRedisConf(t *testing.T) {
	dir := t.TempDir()
	inc := filepath.Join(dir, "extra.conf")
	if err := os.WriteFile(inc, []byte("tcp-keepalive 60\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "redis.conf")
	text := `# a redis.conf
bind 127.0.0.2 -::1
port 7000
tls-port 7001
tls-cert-file "/etc/certs/n1.crt"
tls-key-file /etc/certs/n1.key
tls-ca-cert-file '/etc/certs/ca.crt'
tls-auth-clients optional
requirepass "s3cret with space"
save 900 1
user alice on ">pass word" ~* +@all
include ` + inc + `
`
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	var c Config
	if err := c.LoadRedisConf(conf); err != nil {
		t.Fatal(err)
	}
	if c.RedisAddr != "127.0.0.2:7000" || c.RedisTLSAddr != "127.0.0.2:7001" {
		t.Errorf("addresses %q %q", c.RedisAddr, c.RedisTLSAddr)
	}
	if c.TLSCertFile != "/etc/certs/n1.crt" || c.TLSKeyFile != "/etc/certs/n1.key" || c.TLSCACertFile != "/etc/certs/ca.crt" || c.TLSAuthClients != "optional" {
		t.Errorf("tls %+v", c)
	}
	want := []RedisDirective{
		{Name: "requirepass", Value: "s3cret with space", Args: []string{"s3cret with space"}, Where: conf + ":9"},
		{Name: "save", Value: "900 1", Args: []string{"900", "1"}, Where: conf + ":10"},
		{Name: "user", Value: "alice on >pass word ~* +@all", Args: []string{"alice", "on", ">pass word", "~*", "+@all"}, Where: conf + ":11"},
		{Name: "tcp-keepalive", Value: "60", Args: []string{"60"}, Where: inc + ":1"},
	}
	if len(c.RedisDirectives) != len(want) {
		t.Fatalf("directives %+v", c.RedisDirectives)
	}
	for i, d := range want {
		if !reflect.DeepEqual(c.RedisDirectives[i], d) {
			t.Errorf("directive %d: %+v, want %+v", i, c.RedisDirectives[i], d)
		}
	}
	for bad, msg := range map[string]string{
		"port 0\n":                       "port 0",
		"rename-command FLUSHALL \"\"\n": "rename-command is not supported",
		"aclfile /etc/redis/users.acl\n": "aclfile is not supported",
		"save \"900 1\n":                 "unbalanced quotes",
		"include " + conf + "x\n":        "no such file",
	} {
		if err := os.WriteFile(conf, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		var c Config
		if err := c.LoadRedisConf(conf); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: error %v, want %q", bad, err, msg)
		}
	}
}
