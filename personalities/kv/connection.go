package kv

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"hourglass/personalities/kv/keyspace"
)

// Version is the Redis version the personality reports to clients that
// gate features on it.
const Version = "7.2.0"

func init() {
	local("ping", -1, localPing, "fast").pubsub = true
	local("echo", 2, localEcho, "fast")
	q := local("quit", -1, localQuit, "fast")
	q.noAuth, q.control, q.pubsub = true, true, true
	local("select", 2, localSelect, "fast")
	local("hello", -1, localHello, "fast").noAuth = true
	a := local("auth", -2, localAuth, "fast")
	a.noAuth = true
	r := local("reset", 1, localReset, "fast")
	r.noAuth, r.control, r.pubsub = true, true, true
	local("client", -2, localClient)
	local("command", -1, localCommand)
	local("config", -2, localConfig)
	local("info", -1, localInfo)
	local("time", 1, localTime, "fast")
	local("lastsave", 1, localLastsave, "fast")
	local("save", 1, localSave)
	local("bgsave", -1, localBgsave)
}

func localPing(c *conn, args [][]byte) any {
	if len(args) > 2 {
		return keyspace.ErrArity("ping")
	}
	if c.proto == 2 && c.subscriptions() > 0 {
		// In subscribed mode a RESP2 PING answers like a message.
		msg := []byte{}
		if len(args) == 2 {
			msg = args[1]
		}
		return []any{"pong", msg}
	}
	if len(args) == 2 {
		return args[1]
	}
	return keyspace.SimpleString("PONG")
}

func localEcho(c *conn, args [][]byte) any { return args[1] }

func localQuit(c *conn, args [][]byte) any {
	c.quit = true
	return keyspace.OK
}

func localSelect(c *conn, args [][]byte) any {
	n, ok := keyspace.ParseInt(args[1])
	if !ok {
		return keyspace.ErrNotInteger
	}
	if n < 0 || n >= keyspace.Databases {
		return keyspace.ErrDBIndex
	}
	c.db = int(n)
	return keyspace.OK
}

func (c *conn) authenticate() {
	c.authed = true
	c.rd.SetAuthenticated(true)
}

func localAuth(c *conn, args [][]byte) any {
	if len(args) > 3 {
		return keyspace.ErrSyntax
	}
	user, pass := []byte(nil), args[1]
	if len(args) == 3 {
		user, pass = args[1], args[2]
	}
	if user == nil {
		t, err := c.s.aclUsers()
		if err != nil {
			return platformError(err)
		}
		if t.users["default"].NoPass() {
			return keyspace.Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
		}
	}
	if err := c.login(user, pass); err != nil {
		return err
	}
	return keyspace.OK
}

// localHello implements HELLO [protover [AUTH user pass] [SETNAME name]].
func localHello(c *conn, args [][]byte) any {
	proto := c.proto
	name, setName := "", false
	if len(args) >= 2 {
		v, ok := keyspace.ParseInt(args[1])
		if !ok {
			return keyspace.Error("ERR Protocol version is not an integer or out of range")
		}
		if v < 2 || v > 3 {
			return errNoProto
		}
		proto = int(v)
		for j := 2; j < len(args); j++ {
			more := len(args) - j - 1
			switch {
			case keyspace.EqFold(args[j], "auth") && more >= 2:
				if err := c.login(args[j+1], args[j+2]); err != nil {
					return err
				}
				j += 2
			case keyspace.EqFold(args[j], "setname") && more >= 1:
				if err := checkClientName(args[j+1]); err != nil {
					return err
				}
				name, setName = string(args[j+1]), true
				j++
			default:
				return keyspace.Errorf("ERR Syntax error in HELLO option '%s'", args[j])
			}
		}
	}
	if !c.authed {
		return errNoAuthHello
	}
	if setName {
		c.setName(name)
	}
	c.proto = proto
	c.pushProto.Store(int32(proto))
	return keyspace.Map{
		"server", "redis",
		"version", Version,
		"proto", int64(proto),
		"id", c.id,
		"mode", "standalone",
		"role", "master",
		"modules", []any{},
	}
}

// localReset implements RESET: the connection returns to its state after
// connecting.
func localReset(c *conn, args [][]byte) any {
	c.multi, c.watches = nil, nil
	c.unsubscribeAll()
	c.s.disableTracking(c)
	c.stopMonitor()
	c.db = 0
	c.setName("")
	c.proto = 2
	c.pushProto.Store(2)
	c.setUser("default")
	if !c.s.defaultOpen() {
		c.authed = false
		c.rd.SetAuthenticated(false)
	}
	return keyspace.SimpleString("RESET")
}

// errSubcommand is Redis's reply to a container command (CLIENT, CONFIG,
// COMMAND, PUBSUB) with an unknown subcommand, or a known one with the
// wrong number of arguments.
func errSubcommand(container string, args [][]byte, known ...string) keyspace.Error {
	return keyspace.ErrSubcommand(container, args, known...)
}

func checkClientName(name []byte) any {
	for _, ch := range name {
		if ch < '!' || ch > '~' {
			return keyspace.Error("ERR Client names cannot contain spaces, newlines or special characters.")
		}
	}
	return nil
}

func localClient(c *conn, args [][]byte) any {
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "id" && len(args) == 2:
		return c.id
	case sub == "getname" && len(args) == 2:
		if n := c.getName(); n != "" {
			return n
		}
		return nil
	case sub == "setname" && len(args) == 3:
		if err := checkClientName(args[2]); err != nil {
			return err
		}
		c.setName(string(args[2]))
		return keyspace.OK
	case sub == "setinfo" && len(args) == 4:
		switch strings.ToLower(string(args[2])) {
		case "lib-name":
			c.info.Store(&clientLib{name: string(args[3]), ver: c.lib().ver})
		case "lib-ver":
			c.info.Store(&clientLib{name: c.lib().name, ver: string(args[3])})
		default:
			return keyspace.Errorf("ERR Unrecognized option '%s'", args[2])
		}
		return keyspace.OK
	case sub == "info" && len(args) == 2:
		return []byte(c.describe())
	case sub == "list":
		return clientList(c, args[2:])
	case sub == "unblock" && (len(args) == 3 || len(args) == 4):
		return clientUnblock(c, args)
	case sub == "kill" && len(args) >= 3:
		return clientKill(c, args[2:])
	case (sub == "no-evict" || sub == "no-touch") && len(args) == 3:
		if !keyspace.EqFold(args[2], "on") && !keyspace.EqFold(args[2], "off") {
			return keyspace.ErrSyntax
		}
		return keyspace.OK
	}
	if r, ok := clientControl(c, sub, args); ok {
		return r
	}
	return errSubcommand("CLIENT", args, "id", "getname", "setname", "setinfo", "info", "list", "kill", "unblock", "no-evict", "no-touch", "reply", "pause", "unpause", "getredir", "trackinginfo", "tracking", "caching")
}

// describe renders c as a CLIENT LIST line.
func (c *conn) describe() string {
	now := time.Now()
	flags := ""
	if c.monitoring.Load() {
		flags = "O"
	}
	if c.subscriptions() > 0 {
		flags += "P"
	}
	if c.multi != nil {
		flags += "x"
	}
	if c.blocked.Load() != nil {
		flags += "b"
	}
	tf, redir := c.trackFlags()
	if flags += tf; flags == "" {
		flags = "N"
	}
	multi := -1
	if c.multi != nil {
		multi = len(c.multi.queued)
	}
	lib := c.lib()
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=0 name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=0 multi=%d qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=%s user=%s redir=%d resp=%d lib-name=%s lib-ver=%s\n",
		c.id, c.nc.RemoteAddr(), c.nc.LocalAddr(), c.getName(), int(now.Sub(c.created).Seconds()),
		int(now.Sub(time.Unix(0, c.lastAt.Load())).Seconds()), flags, c.db, len(c.subs), len(c.psubs), multi,
		c.lastCmd(), c.userName(), redir, c.proto, lib.name, lib.ver)
}

func clientList(c *conn, args [][]byte) any {
	var ids map[int64]bool
	typ := ""
	for j := 0; j < len(args); j++ {
		switch {
		case keyspace.EqFold(args[j], "type") && j+1 < len(args):
			j++
			typ = strings.ToLower(string(args[j]))
			if typ != "normal" && typ != "pubsub" && typ != "master" && typ != "replica" {
				return keyspace.Errorf("ERR Unknown client type '%s'", args[j])
			}
		case keyspace.EqFold(args[j], "id") && j+1 < len(args):
			ids = map[int64]bool{}
			for j++; j < len(args); j++ {
				n, ok := keyspace.ParseInt(args[j])
				if !ok || n <= 0 {
					return keyspace.Error("ERR Invalid client ID")
				}
				ids[n] = true
			}
		default:
			return keyspace.ErrSyntax
		}
	}
	var b strings.Builder
	for _, o := range c.s.connections() {
		if ids != nil && !ids[o.id] {
			continue
		}
		isPub := o == c && c.subscriptions() > 0 || o != c && o.subscribedHint.Load()
		if typ == "pubsub" && !isPub || typ == "normal" && isPub || typ == "master" || typ == "replica" {
			continue
		}
		if o == c {
			b.WriteString(c.describe())
		} else {
			b.WriteString(o.describeRemote())
		}
	}
	return []byte(b.String())
}

// describeRemote renders another connection from what is safe to read
// from this goroutine.
func (c *conn) describeRemote() string {
	lib := c.lib()
	flags := ""
	if c.monitoring.Load() {
		flags = "O"
	}
	if c.blocked.Load() != nil {
		flags += "b"
	}
	tf, redir := c.trackFlags()
	if flags += tf; flags == "" {
		flags = "N"
	}
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=0 name=%s age=%d idle=%d flags=%s db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=%s user=%s redir=%d resp=2 lib-name=%s lib-ver=%s\n",
		c.id, c.nc.RemoteAddr(), c.nc.LocalAddr(), c.getName(), int(time.Since(c.created).Seconds()),
		int(time.Since(time.Unix(0, c.lastAt.Load())).Seconds()), flags, c.lastCmd(), c.userName(), redir, lib.name, lib.ver)
}

func clientKill(c *conn, args [][]byte) any {
	if len(args) == 1 {
		// The old form: CLIENT KILL addr:port.
		for _, o := range c.s.connections() {
			if o.nc.RemoteAddr().String() == string(args[0]) {
				o.kill()
				return keyspace.OK
			}
		}
		return keyspace.Error("ERR No such client")
	}
	var id int64 = -1
	var addr, laddr string
	skipMe := true
	for j := 0; j+1 < len(args); j += 2 {
		v := args[j+1]
		switch {
		case keyspace.EqFold(args[j], "id"):
			n, ok := keyspace.ParseInt(v)
			if !ok || n <= 0 {
				return keyspace.Error("ERR client-id should be greater than 0")
			}
			id = n
		case keyspace.EqFold(args[j], "addr"):
			addr = string(v)
		case keyspace.EqFold(args[j], "laddr"):
			laddr = string(v)
		case keyspace.EqFold(args[j], "skipme"):
			switch {
			case keyspace.EqFold(v, "yes"):
				skipMe = true
			case keyspace.EqFold(v, "no"):
				skipMe = false
			default:
				return keyspace.ErrSyntax
			}
		case keyspace.EqFold(args[j], "type"), keyspace.EqFold(args[j], "user"), keyspace.EqFold(args[j], "maxage"):
		default:
			return keyspace.ErrSyntax
		}
	}
	if len(args)%2 != 0 {
		return keyspace.ErrSyntax
	}
	var killed int64
	for _, o := range c.s.connections() {
		if (id >= 0 && o.id != id) || (addr != "" && o.nc.RemoteAddr().String() != addr) || (laddr != "" && o.nc.LocalAddr().String() != laddr) {
			continue
		}
		if o == c && skipMe {
			continue
		}
		if o == c {
			c.quit = true
		} else {
			o.kill()
		}
		killed++
	}
	return killed
}

func localTime(c *conn, args [][]byte) any {
	now := time.Now()
	return []any{strconv.AppendInt(nil, now.Unix(), 10), strconv.AppendInt(nil, int64(now.Nanosecond()/1000), 10)}
}

func localLastsave(c *conn, args [][]byte) any { return c.s.lastSave.Load() }

// localSave makes the applied state durable: every write is already durable
// in the log, so SAVE is the checkpoint of what the log rebuilt.
func localSave(c *conn, args [][]byte) any {
	if err := c.s.save(); err != nil {
		return keyspace.Errorf("ERR %s", err)
	}
	return keyspace.OK
}

func localBgsave(c *conn, args [][]byte) any {
	if len(args) > 2 || len(args) == 2 && !keyspace.EqFold(args[1], "schedule") {
		return keyspace.ErrSyntax
	}
	go c.s.save()
	return keyspace.SimpleString("Background saving started")
}

// save runs the configured Save and records the time.
func (s *Server) save() error {
	if s.cfg.Save != nil {
		if err := s.cfg.Save(); err != nil {
			return err
		}
	}
	s.lastSave.Store(time.Now().Unix())
	return nil
}

// localInfo implements INFO [section ...].
func localInfo(c *conn, args [][]byte) any {
	want := map[string]bool{}
	for _, a := range args[1:] {
		want[strings.ToLower(string(a))] = true
	}
	all := len(want) == 0 || want["all"] || want["everything"] || want["default"]
	var b strings.Builder
	section := func(name string, lines [][2]string) {
		if !all && !want[strings.ToLower(name)] {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + name + "\r\n")
		for _, l := range lines {
			b.WriteString(l[0] + ":" + l[1] + "\r\n")
		}
	}
	s := c.s
	port := ""
	if a := c.nc.LocalAddr().String(); strings.Contains(a, ":") {
		port = a[strings.LastIndexByte(a, ':')+1:]
	}
	uptime := int64(time.Since(s.started).Seconds())
	section("Server", [][2]string{
		{"redis_version", Version}, {"redis_mode", "standalone"}, {"server_name", "hourglass"},
		{"os", runtime.GOOS}, {"arch_bits", "64"}, {"process_id", strconv.Itoa(os.Getpid())},
		{"tcp_port", port}, {"uptime_in_seconds", strconv.FormatInt(uptime, 10)},
		{"uptime_in_days", strconv.FormatInt(uptime/86400, 10)}, {"go_version", runtime.Version()},
	})
	clients, pubsub := 0, 0
	for _, o := range s.connections() {
		clients++
		if o.subscribedHint.Load() {
			pubsub++
		}
	}
	section("Clients", [][2]string{
		{"connected_clients", strconv.Itoa(clients)}, {"blocked_clients", strconv.FormatInt(s.stats.blocked.Load(), 10)},
		{"pubsub_clients", strconv.Itoa(pubsub)}, {"maxclients", strconv.Itoa(s.settings().maxClients)},
	})
	if all || want["memory"] {
		lines, err := c.memoryInfo()
		if err != nil {
			return replyOf(nil, err)
		}
		section("Memory", lines)
	}
	section("Persistence", [][2]string{
		{"loading", "0"}, {"aof_enabled", "1"}, {"rdb_last_save_time", strconv.FormatInt(s.lastSave.Load(), 10)},
	})
	section("Stats", [][2]string{
		{"total_connections_received", strconv.FormatInt(s.stats.connections.Load(), 10)},
		{"total_commands_processed", strconv.FormatInt(s.stats.commands.Load(), 10)},
		{"rejected_connections", strconv.FormatInt(s.stats.rejected.Load(), 10)},
		{"evicted_keys", strconv.FormatInt(s.stats.evicted.Load(), 10)},
	})
	section("Replication", [][2]string{{"role", "master"}, {"connected_slaves", "0"}})
	if s.cfg.Ensemble != nil {
		section("Ensemble", s.cfg.Ensemble())
	}
	if all || want["keyspace"] {
		lines, err := c.keyspaceInfo()
		if err != nil {
			return replyOf(nil, err)
		}
		section("Keyspace", lines)
	}
	return []byte(b.String())
}

func humanBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.2fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.2fK", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

// memoryInfo is INFO's Memory section: used_memory is the replicated
// accounting maxmemory bounds (keyspace.UsedMemory), the process's own
// figures follow under their Go names.
func (c *conn) memoryInfo() ([][2]string, error) {
	v, err := c.readView()
	if err != nil {
		return nil, err
	}
	used, err := keyspace.UsedMemory(v)
	if err != nil {
		return nil, err
	}
	cfg, err := keyspace.ReadEvictionConfig(v)
	if err != nil {
		return nil, err
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return [][2]string{
		{"used_memory", strconv.FormatInt(used, 10)}, {"used_memory_human", humanBytes(uint64(used))},
		{"used_memory_rss", strconv.FormatUint(ms.Sys, 10)}, {"used_memory_heap", strconv.FormatUint(ms.HeapAlloc, 10)},
		{"maxmemory", strconv.FormatInt(cfg.MaxMemory, 10)}, {"maxmemory_human", humanBytes(uint64(cfg.MaxMemory))},
		{"maxmemory_policy", cfg.Policy},
	}, nil
}

// keyspaceInfo counts keys and keys with an expiry, per database.
func (c *conn) keyspaceInfo() ([][2]string, error) {
	v, err := c.readView()
	if err != nil {
		return nil, err
	}
	stats, err := keyspace.Stats(v)
	if err != nil {
		return nil, err
	}
	var lines [][2]string
	for db, st := range stats {
		if st.Keys > 0 {
			lines = append(lines, [2]string{fmt.Sprintf("db%d", db), fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", st.Keys, st.Expires)})
		}
	}
	return lines, nil
}
