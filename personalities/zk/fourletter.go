package zk

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// Version is the ZooKeeper version the server reports.
const Version = "3.8.0-hourglass"

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
}

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

// nodeStats reads the last zxid and the number of znodes.
func (s *Server) nodeStats() (zxid, count int64) {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	v, zxid, err := s.readView(ctx)
	if err != nil {
		return 0, 0
	}
	defer v.Close()
	count, _ = nodeCount(v)
	return zxid, count
}

func (s *Server) srvr(withClients bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Zookeeper version: %s, built on 01/01/2026 00:00 GMT\n", Version)
	if withClients {
		b.WriteString("Clients:\n")
		for _, c := range s.connections() {
			fmt.Fprintf(&b, " %s[1](queued=0,recved=%d,sent=%d)\n", c.nc.RemoteAddr(), c.received.Load(), c.sent.Load())
		}
		b.WriteString("\n")
	}
	zxid, count := s.nodeStats()
	fmt.Fprintf(&b, "Latency min/avg/max: 0/0.0/0\n")
	fmt.Fprintf(&b, "Received: %d\n", s.stats.received.Load())
	fmt.Fprintf(&b, "Sent: %d\n", s.stats.sent.Load())
	fmt.Fprintf(&b, "Connections: %d\n", len(s.connections()))
	fmt.Fprintf(&b, "Outstanding: 0\n")
	fmt.Fprintf(&b, "Zxid: %#x\n", zxid)
	fmt.Fprintf(&b, "Mode: %s\n", s.cfg.Mode)
	fmt.Fprintf(&b, "Node count: %d\n", count)
	return b.String()
}

func (s *Server) mntr() string {
	zxid, count := s.nodeStats()
	conns, paths, watches := s.watches.summary()
	_ = conns
	lines := [][2]string{
		{"zk_version", Version},
		{"zk_server_state", s.cfg.Mode},
		{"zk_avg_latency", "0.0"},
		{"zk_packets_received", fmt.Sprint(s.stats.received.Load())},
		{"zk_packets_sent", fmt.Sprint(s.stats.sent.Load())},
		{"zk_num_alive_connections", fmt.Sprint(len(s.connections()))},
		{"zk_outstanding_requests", "0"},
		{"zk_znode_count", fmt.Sprint(count)},
		{"zk_watch_count", fmt.Sprint(watches)},
		{"zk_watched_paths", fmt.Sprint(paths)},
		{"zk_last_zxid", fmt.Sprintf("%#x", zxid)},
		{"zk_uptime", fmt.Sprint(time.Since(s.started).Milliseconds())},
	}
	var b strings.Builder
	for _, l := range lines {
		fmt.Fprintf(&b, "%s\t%s\n", l[0], l[1])
	}
	return b.String()
}

func (s *Server) cons() string {
	var b strings.Builder
	for _, c := range s.connections() {
		fmt.Fprintf(&b, " %s[1](queued=0,recved=%d,sent=%d,sid=%#x,lop=NA,est=%d,to=%d,lzxid=%#x)\n",
			c.nc.RemoteAddr(), c.received.Load(), c.sent.Load(), c.sessionID(), c.created.UnixMilli(),
			c.timeout.Milliseconds(), c.lastZxid.Load())
	}
	return b.String() + "\n"
}

func (s *Server) conf() string {
	return fmt.Sprintf("clientPortAddress=see --zk-addr\ntickTime=%d\nmaxClientCnxns=%d\nminSessionTimeout=%d\nmaxSessionTimeout=%d\njute.maxbuffer=%d\n",
		s.cfg.TickTime.Milliseconds(), s.cfg.MaxClients, s.cfg.MinSessionTimeout.Milliseconds(),
		s.cfg.MaxSessionTimeout.Milliseconds(), s.cfg.MaxBuffer)
}

func (s *Server) envi() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("Environment:\nzookeeper.version=%s\nhost.name=%s\ngo.version=%s\nos.name=%s\nos.arch=%s\n",
		Version, host, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func (s *Server) wchs() string {
	conns, paths, watches := s.watches.summary()
	return fmt.Sprintf("%d connections watching %d paths\nTotal watches:%d\n", conns, paths, watches)
}
