package zk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The AdminServer: ZooKeeper 3.8's HTTP interface to the four-letter
// words' information, GET <commandURL>/<command>, answered in JSON with
// the command's primary name and "error" (null, or why the command
// failed). GET <commandURL> lists the commands as links.

// field is one member of a JSON object, which keeps its fields in order.
type field struct {
	key   string
	value any
}

// object is a JSON object whose fields keep their order.
type object []field

// MarshalJSON implements json.Marshaler.
func (o object) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, f := range o {
		if i > 0 {
			b = append(b, ',')
		}
		k, _ := json.Marshal(f.key)
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), v...)
	}
	return append(b, '}'), nil
}

// adminCommand is one AdminServer command: its primary name, its
// aliases, and what it answers (the fields before "command" and
// "error"; a non-empty error fails it).
type adminCommand struct {
	names []string
	run   func(s *Server, r *http.Request) (object, string)
}

// adminCommands are ZooKeeper 3.8's commands, by primary name; the
// first name is the one answers carry.
var adminCommands = []adminCommand{
	{[]string{"configuration", "conf", "config"}, (*Server).adminConfiguration},
	{[]string{"connection_stat_reset", "crst"}, func(s *Server, _ *http.Request) (object, string) {
		s.crst()
		return nil, ""
	}},
	{[]string{"connections", "cons"}, func(s *Server, _ *http.Request) (object, string) {
		plain, secure := s.adminConnections(false)
		return object{{"connections", plain}, {"secure_connections", secure}}, ""
	}},
	{[]string{"dirs"}, func(s *Server, _ *http.Request) (object, string) {
		info := s.cfg.Node()
		return object{{"datadir_size", info.DataDirSize}, {"logdir_size", info.DataLogSize}}, ""
	}},
	{[]string{"dump"}, (*Server).adminDump},
	{[]string{"environment", "env", "envi"}, (*Server).adminEnvironment},
	{[]string{"get_trace_mask", "gtmk"}, func(s *Server, _ *http.Request) (object, string) {
		return object{{"tracemask", s.traceMask.Load()}}, ""
	}},
	{[]string{"hash"}, func(*Server, *http.Request) (object, string) {
		return object{{"digests", []any{}}}, "" // no digests: ZooKeeper's digest.enabled=false
	}},
	{[]string{"initial_configuration", "icfg"}, func(s *Server, _ *http.Request) (object, string) {
		return object{{"initial_configuration", s.cfg.Node().InitialConfig}}, ""
	}},
	{[]string{"is_read_only", "isro"}, func(*Server, *http.Request) (object, string) {
		return object{{"read_only", false}}, ""
	}},
	{[]string{"last_snapshot", "lsnp"}, func(s *Server, _ *http.Request) (object, string) {
		// No snapshots: the state is the log applied. ZooKeeper's first
		// snapshot is the empty tree's, taken when it starts.
		return object{{"zxid", "0"}, {"timestamp", s.started.Unix()}}, ""
	}},
	{[]string{"leader", "lead"}, func(*Server, *http.Request) (object, string) {
		return nil, "server is not initialized" // no leader: any node takes writes
	}},
	{[]string{"monitor", "mntr"}, func(s *Server, _ *http.Request) (object, string) {
		var o object
		for _, m := range s.monitor() {
			if m.quoted {
				o = append(o, field{m.name, m.text})
			} else {
				o = append(o, field{m.name, json.RawMessage(m.text)})
			}
		}
		return o, ""
	}},
	{[]string{"observer_connection_stat_reset", "orst"}, func(*Server, *http.Request) (object, string) {
		return nil, "" // no observers
	}},
	{[]string{"observers", "obsr"}, func(*Server, *http.Request) (object, string) {
		return object{{"synced_observers", 0}, {"observers", []any{}}}, ""
	}},
	{[]string{"ruok"}, func(*Server, *http.Request) (object, string) { return nil, "" }},
	{[]string{"server_stats", "srvr"}, func(s *Server, _ *http.Request) (object, string) {
		return s.adminServerStats(), ""
	}},
	{[]string{"set_trace_mask", "stmk"}, func(s *Server, r *http.Request) (object, string) {
		mask, err := strconv.ParseInt(r.URL.Query().Get("traceMask"), 10, 64)
		if err != nil {
			return nil, "setTraceMask requires long traceMask argument"
		}
		s.traceMask.Store(mask)
		return object{{"tracemask", mask}}, ""
	}},
	{[]string{"stat_reset", "srst"}, func(s *Server, _ *http.Request) (object, string) {
		s.srst()
		return nil, ""
	}},
	{[]string{"stats", "stat"}, func(s *Server, _ *http.Request) (object, string) {
		plain, secure := s.adminConnections(true)
		return append(s.adminServerStats(), field{"connections", plain}, field{"secure_connections", secure}), ""
	}},
	// No JVM: the system properties are the environment's.
	{[]string{"system_properties", "sysp"}, (*Server).adminEnvironment},
	{[]string{"voting_view"}, func(*Server, *http.Request) (object, string) {
		return object{{"current_config", object{}}}, "" // no voting members
	}},
	{[]string{"watch_summary", "wchs"}, func(s *Server, _ *http.Request) (object, string) {
		conns, paths, total := s.watches.summary()
		return object{{"num_connections", conns}, {"num_paths", paths}, {"num_total_watches", total}}, ""
	}},
	{[]string{"watches", "wchc"}, func(s *Server, _ *http.Request) (object, string) {
		o := object{}
		for _, w := range s.watches.bySession() {
			o = append(o, field{strconv.FormatInt(w.session, 10), w.list})
		}
		return object{{"session_id_to_watched_paths", o}}, ""
	}},
	{[]string{"watches_by_path", "wchp"}, func(s *Server, _ *http.Request) (object, string) {
		o := object{}
		for _, w := range s.watches.byPath() {
			o = append(o, field{w.path, w.ids})
		}
		return object{{"path_to_session_ids", o}}, ""
	}},
	{[]string{"zabstate"}, func(*Server, *http.Request) (object, string) {
		return object{{"voting", false}, {"zabstate", ""}}, "" // no Zab
	}},
}

// AdminHandler is the AdminServer under commandURL ("/commands" when
// empty): GET commandURL lists the commands, GET commandURL/<name>
// runs one (by its name or an alias). Safe for concurrent use.
func (s *Server) AdminHandler(commandURL string) http.Handler {
	if commandURL == "" {
		commandURL = "/commands"
	}
	commandURL = "/" + strings.Trim(commandURL, "/")
	byName := map[string]*adminCommand{}
	var primary []string
	for i := range adminCommands {
		c := &adminCommands[i]
		primary = append(primary, c.names[0])
		for _, n := range c.names {
			byName[n] = c
		}
	}
	slices.Sort(primary)
	var links bytes.Buffer
	for _, n := range primary {
		fmt.Fprintf(&links, "<a href=\"%s/%s\">%s</a>\n<br/>\n", commandURL, n, n)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+commandURL+"/{$}", func(w http.ResponseWriter, _ *http.Request) { w.Write(links.Bytes()) })
	mux.HandleFunc("GET "+commandURL, func(w http.ResponseWriter, _ *http.Request) { w.Write(links.Bytes()) })
	mux.HandleFunc("GET "+commandURL+"/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		var o object
		errText := "Unknown command: " + name
		if c := byName[name]; c != nil {
			name = c.names[0]
			o, errText = c.run(s, r)
		}
		if errText != "" {
			o = append(o, field{"error", errText}, field{"command", name})
		} else {
			o = append(o, field{"command", name}, field{"error", nil})
		}
		b, err := json.MarshalIndent(o, "", "  ")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	return mux
}

func (s *Server) adminConfiguration(*http.Request) (object, string) {
	var o object
	for _, f := range s.configuration() {
		switch {
		case f.json == "":
		case f.quoted:
			o = append(o, field{f.json, f.text})
		default:
			o = append(o, field{f.json, json.RawMessage(f.text)})
		}
	}
	return o, ""
}

// adminConnections lists the connections as ZooKeeper's
// getConnectionInfo does (brief: without the session's fields), plain
// and secure apart.
func (s *Server) adminConnections(brief bool) (plain, secure []object) {
	plain, secure = []object{}, []object{}
	for _, c := range s.connSnapshots() {
		if c.session == 0 {
			continue // a connection still connecting, or a four-letter word
		}
		o := object{
			{"remote_socket_address", c.addr}, {"interest_ops", 1}, {"outstanding_requests", c.outstanding},
			{"packets_received", c.received}, {"packets_sent", c.sent},
		}
		if !brief {
			o = append(o, field{"session_id", c.session}, field{"last_operation", c.lastOp},
				field{"established", c.established}, field{"session_timeout", c.timeout},
				field{"last_cxid", c.lastCxid}, field{"last_zxid", c.lastZxid},
				field{"last_response_time", c.lastResponse}, field{"last_latency", c.lastLatency},
				field{"min_latency", c.minLat}, field{"avg_latency", c.avgLat}, field{"max_latency", c.maxLat})
		}
		if c.secure {
			secure = append(secure, o)
		} else {
			plain = append(plain, o)
		}
	}
	return plain, secure
}

// adminServerStats is server_stats's answer: ZooKeeper's ServerStats.
func (s *Server) adminServerStats() object {
	tree := s.treeStats()
	info := s.cfg.Node()
	lat := s.stats.latency.read()
	last, minResp, maxResp := s.stats.responseSizes()
	resp := object{{"last_buffer_size", last}, {"min_buffer_size", minResp}, {"max_buffer_size", maxResp}}
	conns := s.connSnapshots()
	var outstanding int64
	for _, c := range conns {
		outstanding += c.outstanding
	}
	stats := object{
		{"packets_sent", s.stats.sent.Load()},
		{"packets_received", s.stats.received.Load()},
		{"fsync_threshold_exceed_count", s.stats.fsyncThreshold.Load()},
		{"client_response_stats", resp},
		{"data_dir_size", info.DataDirSize},
		{"log_dir_size", info.DataLogSize},
		{"provider_null", false},
		{"server_state", s.cfg.Mode},
		{"last_processed_zxid", tree.zxid},
		{"outstanding_requests", outstanding},
		{"avg_latency", json.RawMessage(javaDouble(lat.avg))},
		{"max_latency", lat.max},
		{"min_latency", lat.min},
		{"num_alive_client_connections", len(conns)},
		{"auth_failed_count", s.stats.authFailed.Load()},
		{"non_mtlsremote_conn_count", 0},
		{"non_mtlslocal_conn_count", 0},
		{"uptime", time.Since(s.started).Milliseconds()},
	}
	return object{
		{"version", versionLine},
		{"read_only", false},
		{"server_stats", stats},
		{"client_response", resp},
		{"node_count", tree.znodes},
	}
}

func (s *Server) adminDump(*http.Request) (object, string) {
	d := s.sessionDump()
	expiries, ephemerals := object{}, object{}
	for _, g := range d.expiries {
		expiries = append(expiries, field{strconv.FormatInt(g.at, 10), g.ids})
	}
	for _, e := range d.ephemerals {
		ephemerals = append(ephemerals, field{strconv.FormatInt(e.session, 10), e.list})
	}
	return object{{"expiry_time_to_session_ids", expiries}, {"session_id_to_ephemeral_paths", ephemerals}}, ""
}

func (s *Server) adminEnvironment(*http.Request) (object, string) {
	var o object
	for _, kv := range s.environment() {
		o = append(o, field{kv[0], kv[1]})
	}
	return o, ""
}
