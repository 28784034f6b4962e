package zk

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Version is the ZooKeeper version the server reports.
const Version = "3.8.0-hourglass"

// versionLine is the version with its build, as srvr and mntr print it.
const versionLine = Version + ", built on 01/01/2026 00:00 GMT"

// fourLetterWords are the commands a connection may send instead of a
// ConnectRequest; each answers with text and the connection closes.
var fourLetterWords = map[string]func(*Server) string{
	"ruok": func(*Server) string { return "imok" },
	"srvr": func(s *Server) string { return s.srvr(false) },
	"stat": func(s *Server) string { return s.srvr(true) },
	"mntr": (*Server).mntr,
	"cons": (*Server).cons,
	"conf": (*Server).conf,
	"envi": (*Server).envi,
	"isro": func(*Server) string { return "rw" },
	"wchs": (*Server).wchs,
	"wchc": (*Server).wchc,
	"wchp": (*Server).wchp,
	"crst": (*Server).crst,
	"srst": (*Server).srst,
	"dump": (*Server).dump,
	"dirs": (*Server).dirs,
	"gtmk": func(s *Server) string { return strconv.FormatInt(s.traceMask.Load(), 10) + "\n" },
}

// defaultTraceMask is ZooKeeper's default trace mask, which gtmk reports
// until the AdminServer's set_trace_mask changes it. The mask changes
// nothing: there is no request tracing.
const defaultTraceMask = 306

// ParseWhitelist reads ZooKeeper's 4lw.commands.whitelist, words
// separated by commas: nil (every word) for "" or a list holding "*",
// else the set of words. Words this server does not know are kept and
// change nothing, as in ZooKeeper. CheckWhitelist reports malformed ones.
func ParseWhitelist(s string) map[string]bool {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	set := map[string]bool{}
	for w := range strings.SplitSeq(s, ",") {
		w = strings.TrimSpace(w)
		if w == "*" {
			return nil
		}
		if w != "" {
			set[w] = true
		}
	}
	return set
}

// CheckWhitelist reports an item of a 4lw.commands.whitelist that is
// neither "*" nor four lowercase letters.
func CheckWhitelist(s string) error {
	for w := range strings.SplitSeq(s, ",") {
		w = strings.TrimSpace(w)
		if w == "" || w == "*" {
			continue
		}
		if len(w) != 4 || strings.Trim(w, "abcdefghijklmnopqrstuvwxyz") != "" {
			return fmt.Errorf("%q is not a four-letter word", w)
		}
	}
	return nil
}

func (s *Server) srvr(withClients bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Zookeeper version: %s\n", versionLine)
	conns := s.connSnapshots()
	if withClients {
		b.WriteString("Clients:\n")
		for _, c := range conns {
			b.WriteString(c.line(true))
		}
		b.WriteString("\n")
	}
	tree := s.treeStats()
	lat := s.stats.latency.read()
	var outstanding int64
	for _, c := range conns {
		outstanding += c.outstanding
	}
	fmt.Fprintf(&b, "Latency min/avg/max: %d/%s/%d\n", lat.min, javaDouble(lat.avg), lat.max)
	fmt.Fprintf(&b, "Received: %d\n", s.stats.received.Load())
	fmt.Fprintf(&b, "Sent: %d\n", s.stats.sent.Load())
	fmt.Fprintf(&b, "Connections: %d\n", len(conns))
	fmt.Fprintf(&b, "Outstanding: %d\n", outstanding)
	fmt.Fprintf(&b, "Zxid: %#x\n", tree.zxid)
	fmt.Fprintf(&b, "Mode: %s\n", s.cfg.Mode)
	fmt.Fprintf(&b, "Node count: %d\n", tree.znodes)
	return b.String()
}

func (s *Server) cons() string {
	var b strings.Builder
	for _, c := range s.connSnapshots() {
		b.WriteString(c.line(false))
	}
	return b.String() + "\n"
}

// crst resets every connection's statistics.
func (s *Server) crst() string {
	for _, c := range s.connections() {
		c.resetStats()
	}
	return "Connection stats reset.\n"
}

// srst resets the server's statistics.
func (s *Server) srst() string {
	s.stats.reset()
	return "Server stats reset.\n"
}

func (s *Server) conf() string {
	var b strings.Builder
	for _, f := range s.configuration() {
		fmt.Fprintf(&b, "%s=%s\n", f.conf, f.text)
	}
	return b.String()
}

// confField is one line of conf and one field of the AdminServer's
// configuration command.
type confField struct {
	conf, json, text string
	quoted           bool
}

// configuration is conf's report, ZooKeeper's standalone keys.
func (s *Server) configuration() []confField {
	info := s.cfg.Node()
	i := func(conf, json string, v int64) confField {
		return confField{conf: conf, json: json, text: strconv.FormatInt(v, 10)}
	}
	str := func(conf, json, v string) confField { return confField{conf: conf, json: json, text: v, quoted: true} }
	return []confField{
		i("clientPort", "client_port", int64(info.ClientPort)),
		i("secureClientPort", "", int64(info.SecureClientPort)),
		str("dataDir", "data_dir", info.DataDir),
		i("dataDirSize", "", info.DataDirSize),
		str("dataLogDir", "data_log_dir", info.DataLogDir),
		i("dataLogSize", "", info.DataLogSize),
		i("tickTime", "tick_time", s.cfg.TickTime.Milliseconds()),
		i("maxClientCnxns", "max_client_cnxns", int64(s.cfg.MaxClients)),
		i("minSessionTimeout", "min_session_timeout", s.cfg.MinSessionTimeout.Milliseconds()),
		i("maxSessionTimeout", "max_session_timeout", s.cfg.MaxSessionTimeout.Milliseconds()),
		i("clientPortListenBacklog", "client_port_listen_backlog", -1),
		i("serverId", "server_id", info.ServerID),
	}
}

// environment is envi's report under ZooKeeper's keys; the java.*
// ones describe the Go runtime the server runs on.
func (s *Server) environment() [][2]string {
	host, _ := os.Hostname()
	exe, _ := os.Executable()
	wd, _ := os.Getwd()
	var uname syscall.Utsname
	syscall.Uname(&uname)
	release := make([]byte, 0, len(uname.Release))
	for _, c := range uname.Release {
		if c == 0 {
			break
		}
		release = append(release, byte(c))
	}
	usr := os.Getenv("USER")
	home, _ := os.UserHomeDir()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	mb := func(n uint64) string { return fmt.Sprintf("%dMB", n>>20) }
	return [][2]string{
		{"zookeeper.version", versionLine},
		{"host.name", host},
		{"java.version", runtime.Version()},
		{"java.vendor", "Go"},
		{"java.home", runtime.GOROOT()},
		{"java.class.path", exe},
		{"java.library.path", ""},
		{"java.io.tmpdir", os.TempDir()},
		{"java.compiler", "<NA>"},
		{"os.name", cases(runtime.GOOS)},
		{"os.arch", runtime.GOARCH},
		{"os.version", string(release)},
		{"user.name", usr},
		{"user.home", home},
		{"user.dir", wd},
		{"os.memory.free", mb(ms.HeapIdle)},
		{"os.memory.max", mb(ms.Sys)},
		{"os.memory.total", mb(ms.HeapSys)},
	}
}

// cases is an OS name as Java reports it ("Linux").
func cases(goos string) string {
	if goos == "" {
		return goos
	}
	return strings.ToUpper(goos[:1]) + goos[1:]
}

func (s *Server) envi() string {
	var b strings.Builder
	b.WriteString("Environment:\n")
	for _, kv := range s.environment() {
		fmt.Fprintf(&b, "%s=%s\n", kv[0], kv[1])
	}
	return b.String()
}

func (s *Server) wchs() string {
	conns, paths, watches := s.watches.summary()
	return fmt.Sprintf("%d connections watching %d paths\nTotal watches:%d\n", conns, paths, watches)
}

// listing writes a heading and its items, one a line behind a tab.
func listing(b *strings.Builder, head string, items []string) {
	b.WriteString(head + "\n")
	for _, it := range items {
		b.WriteString("\t" + it + "\n")
	}
}

func hexIDs(ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprintf("%#x", id)
	}
	return out
}

func (s *Server) wchc() string {
	var b strings.Builder
	for _, w := range s.watches.bySession() {
		listing(&b, fmt.Sprintf("%#x", w.session), w.list)
	}
	return b.String() + "\n"
}

func (s *Server) wchp() string {
	var b strings.Builder
	for _, w := range s.watches.byPath() {
		listing(&b, w.path, hexIDs(w.ids))
	}
	return b.String() + "\n"
}

func (s *Server) dirs() string {
	info := s.cfg.Node()
	return fmt.Sprintf("datadir_size: %d\nlogdir_size: %d\n", info.DataDirSize, info.DataLogSize)
}

// javaDate formats a time as Java's Date.toString.
func javaDate(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("Mon Jan 02 15:04:05 MST 2006")
}

func (s *Server) dump() string {
	d := s.sessionDump()
	var b strings.Builder
	b.WriteString("SessionTracker dump:\n")
	total := 0
	for _, g := range d.expiries {
		total += len(g.ids)
	}
	fmt.Fprintf(&b, "Session Sets (%d)/(%d):\n", len(d.expiries), total)
	for _, g := range d.expiries {
		listing(&b, fmt.Sprintf("%d expire at %s:", len(g.ids), javaDate(g.at)), hexIDs(g.ids))
	}
	b.WriteString("ephemeral nodes dump:\n")
	fmt.Fprintf(&b, "Sessions with Ephemerals (%d):\n", len(d.ephemerals))
	for _, e := range d.ephemerals {
		listing(&b, fmt.Sprintf("%#x:", e.session), e.list)
	}
	return b.String()
}
