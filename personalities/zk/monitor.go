package zk

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"hourglass/platform"
)

// metric is one line of mntr (zk_<name>\t<text>) and one field of the
// AdminServer's monitor command: text is the value as ZooKeeper prints
// it, which is also its JSON form unless quoted (a string).
type metric struct {
	name, text string
	quoted     bool
}

func intMetric(name string, v int64) metric {
	return metric{name: name, text: strconv.FormatInt(v, 10)}
}

// treeStats are the counts mntr reports from the replicated tree, read
// from one view.
type treeStats struct {
	zxid, znodes, ephemerals, sessions, dataSize int64
}

// readTreeStats scans v for the counts ZooKeeper keeps incrementally:
// ephemerals, sessions, and the approximate data size (the length of
// every znode's path and data). The scans hold one key at a time.
func readTreeStats(v platform.Reader, zxid int64) (treeStats, error) {
	st := treeStats{zxid: zxid}
	var err error
	if st.znodes, err = nodeCount(v); err != nil {
		return st, err
	}
	count := func(prefix byte, each func(k, val []byte)) (int64, error) {
		it, err := v.NewIter([]byte{prefix}, []byte{prefix + 1})
		if err != nil {
			return 0, err
		}
		defer it.Close()
		var n int64
		for ok := it.First(); ok; ok = it.Next() {
			n++
			if each != nil {
				each(it.Key(), it.Value())
			}
		}
		return n, it.Close()
	}
	if st.ephemerals, err = count(prefixEphemeral, nil); err != nil {
		return st, err
	}
	if st.sessions, err = count(prefixSession, nil); err != nil {
		return st, err
	}
	_, err = count(prefixNode, func(k, val []byte) {
		if n, err := decodeZnode(val); err == nil {
			st.dataSize += int64(len(k)-1) + int64(len(n.data))
		}
	})
	return st, err
}

// treeStats reads the tree's counts after a sync with the log.
func (s *Server) treeStats() treeStats {
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	v, zxid, err := s.readView(ctx)
	if err != nil {
		return treeStats{}
	}
	defer v.Close()
	st, _ := readTreeStats(v, zxid)
	return st
}

// fileDescriptors reports the process's open descriptors and its limit
// (-1 each where the system does not tell).
func fileDescriptors() (open, limit int64) {
	open, limit = -1, -1
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		open = int64(len(ents))
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		limit = int64(rl.Cur)
	}
	return open, limit
}

// counterNames are ZooKeeper 3.8's counters after the server's own
// figures, in the order its mntr lists them. Those this server counts
// are in (*Server).counters; the others (its request pipeline's queues
// and caches, the Zab quorum and learners, TLS handshake throttling,
// request throttling, digests) have no meaning here and stay at
// ZooKeeper's idle value, 0.
var counterNames = []string{
	"proposal_count", "watch_bytes", "outstanding_changes_removed", "throttled_ops",
	"stale_requests_dropped", "large_requests_rejected", "insecure_admin_count", "connection_rejected",
	"cnxn_closed_without_zk_server_running", "sessionless_connections_expired", "looking_count",
	"dead_watchers_queued", "stale_requests", "connection_drop_count", "learner_proposal_received_count",
	"digest_mismatches_count", "dead_watchers_cleared", "response_packet_cache_hits", "bytes_received_count",
	"add_dead_watcher_stall_time", "request_throttle_wait_count", "requests_not_forwarded_to_commit_processor",
	"response_packet_cache_misses", "ensemble_auth_success", "prep_processor_request_queued",
	"learner_commit_received_count", "stale_replies", "connection_request_count", "response_bytes",
	"ensemble_auth_fail", "diff_count", "response_packet_get_children_cache_misses",
	"connection_revalidate_count", "quit_leading_due_to_disloyal_voter", "snap_count",
	"unrecoverable_error_count", "unsuccessful_handshake", "commit_count", "stale_sessions_expired",
	"response_packet_get_children_cache_hits", "sync_processor_request_queued",
	"outstanding_changes_queued", "request_commit_queued", "ensemble_auth_skip",
	"skip_learner_request_to_next_processor_count", "tls_handshake_exceeded", "revalidate_count",
}

// counters are the counters of counterNames this server keeps.
func (s *Server) counters() map[string]int64 {
	st := s.stats
	return map[string]int64{
		"connection_rejected":      st.connectionRejected.Load(),
		"connection_drop_count":    st.connectionDrops.Load(),
		"bytes_received_count":     st.bytesReceived.Load(),
		"connection_request_count": st.connectionRequests.Load(),
		"response_bytes":           st.bytesSent.Load(),
	}
}

// summaryNames are ZooKeeper 3.8's summaries (avg/min/max/cnt/sum), in
// the order its mntr lists them; percentileNames add p50/p95/p99/p999.
// Those this server measures are in measuredSummaries; the others stay
// at ZooKeeper's idle values.
var summaryNames = []string{
	"socket_closing_time", "proposal_process_time", "leader_unavailable_time", "node_created_watch_count",
	"session_queues_drained", "write_commit_proc_req_queued", "connection_token_deficit",
	"read_commit_proc_req_queued", "node_deleted_watch_count", "startup_txns_load_time",
	"sync_processor_queue_size", "follower_sync_time", "prep_processor_queue_size", "fsynctime",
	"inflight_snap_count", "reads_issued_from_session_queue", "learner_request_processor_queue_size",
	"snapshottime", "unavailable_time", "startup_txns_loaded", "reads_after_write_in_session_queue",
	"requests_in_session_queue", "write_commit_proc_issued", "prep_process_time",
	"pending_session_queue_size", "time_waiting_empty_pool_in_commit_processor_read_ms",
	"commit_process_time", "dbinittime", "inflight_diff_count", "netty_queued_buffer_capacity",
	"election_time", "commit_commit_proc_req_queued", "sync_processor_batch_size",
	"node_children_watch_count", "write_batch_time_in_commit_processor", "read_commit_proc_issued",
	"concurrent_request_processing_in_commit_processor", "observer_sync_time", "node_changed_watch_count",
	"sync_process_time", "startup_snap_load_time",
}

var percentileNames = []string{
	"prep_processor_queue_time_ms", "jvm_pause_time_ms", "close_session_prep_time",
	"read_commitproc_time_ms", "updatelatency", "local_write_committed_time_ms",
	"request_throttle_queue_time_ms", "readlatency", "quorum_ack_latency", "om_commit_process_time_ms",
	"read_final_proc_time_ms", "commit_propagation_latency", "dead_watchers_cleaner_latency",
	"write_final_proc_time_ms", "proposal_ack_creation_latency", "proposal_latency",
	"om_proposal_process_time_ms", "sync_processor_queue_and_flush_time_ms", "propagation_latency",
	"server_write_committed_time_ms", "sync_processor_queue_time_ms", "sync_processor_queue_flush_time_ms",
	"write_commitproc_time_ms",
}

// measuredSummaries are the summaries this server fills: request
// latencies by reads and updates, the log's fsyncs, and the watchers
// each kind of event triggered.
func (s *Server) measuredSummaries() map[string]*summary {
	return map[string]*summary{
		"readlatency":               &s.stats.readLatency,
		"updatelatency":             &s.stats.updateLatency,
		"fsynctime":                 &s.stats.fsync,
		"node_created_watch_count":  &s.stats.watchesFired[0],
		"node_deleted_watch_count":  &s.stats.watchesFired[1],
		"node_changed_watch_count":  &s.stats.watchesFired[2],
		"node_children_watch_count": &s.stats.watchesFired[3],
	}
}

func appendSummary(out []metric, name string, v summaryValues, percentiles bool) []metric {
	out = append(out,
		metric{name: "avg_" + name, text: javaDouble(v.avg)},
		intMetric("min_"+name, v.min), intMetric("max_"+name, v.max),
		intMetric("cnt_"+name, v.count), intMetric("sum_"+name, v.sum))
	if percentiles {
		out = append(out, intMetric("p50_"+name, v.p50), intMetric("p95_"+name, v.p95),
			intMetric("p99_"+name, v.p99), intMetric("p999_"+name, v.p999))
	}
	return out
}

// monitor is mntr's report: every statistic ZooKeeper 3.8 reports, in
// its order.
func (s *Server) monitor() []metric {
	tree := s.treeStats()
	_, _, watches := s.watches.summary()
	lat := s.stats.latency.read()
	last, minResp, maxResp := s.stats.responseSizes()
	openFDs, maxFDs := fileDescriptors()
	conns := s.connections()
	var outstanding int64
	for _, c := range conns {
		outstanding += c.outstanding()
	}
	out := []metric{
		{name: "version", text: versionLine, quoted: true},
		{name: "server_state", text: s.cfg.Mode, quoted: true},
		intMetric("ephemerals_count", tree.ephemerals),
		intMetric("num_alive_connections", int64(len(conns))),
		{name: "avg_latency", text: javaDouble(lat.avg)},
		intMetric("outstanding_requests", outstanding),
		intMetric("znode_count", tree.znodes),
		intMetric("global_sessions", tree.sessions),
		intMetric("non_mtls_remote_conn_count", 0),
		intMetric("last_client_response_size", last),
		intMetric("packets_sent", s.stats.sent.Load()),
		intMetric("packets_received", s.stats.received.Load()),
		intMetric("max_client_response_size", maxResp),
		{name: "connection_drop_probability", text: "0.0"},
		intMetric("watch_count", int64(watches)),
		intMetric("auth_failed_count", s.stats.authFailed.Load()),
		intMetric("min_latency", lat.min),
		intMetric("max_file_descriptor_count", maxFDs),
		intMetric("approximate_data_size", tree.dataSize),
		intMetric("open_file_descriptor_count", openFDs),
		intMetric("local_sessions", 0),
		intMetric("uptime", time.Since(s.started).Milliseconds()),
		intMetric("max_latency", lat.max),
		intMetric("outstanding_tls_handshake", 0),
		intMetric("min_client_response_size", minResp),
		intMetric("non_mtls_local_conn_count", 0),
	}
	counters := s.counters()
	for _, n := range counterNames {
		out = append(out, intMetric(n, counters[n]))
	}
	measured := s.measuredSummaries()
	for _, n := range summaryNames {
		var v summaryValues
		if m := measured[n]; m != nil {
			v = m.read()
		}
		out = appendSummary(out, n, v, false)
	}
	for _, n := range percentileNames {
		var v summaryValues
		if m := measured[n]; m != nil {
			v = m.read()
		}
		out = appendSummary(out, n, v, true)
	}
	return s.stats.namespaces.metrics(out)
}

// mntr is the four-letter word's text: zk_<name>\t<value> lines.
func (s *Server) mntr() string {
	var b []byte
	for _, m := range s.monitor() {
		b = fmt.Appendf(b, "zk_%s\t%s\n", m.name, m.text)
	}
	return string(b)
}

// maxListed bounds the sessions and paths dump, wchc and wchp and their
// AdminServer commands list, so that a huge tree cannot make one
// answer unbounded.
const maxListed = 100000

// sessionGroup is dump's sessions that expire at one time, or one
// session's ephemeral znodes.
type sessionGroup struct {
	at      int64 // expiry, log time in ms
	session int64
	ids     []int64
	list    []string
}

// sessionsDump is dump's report: sessions by expiry and ephemerals by
// session, each in order, at most maxListed entries.
type sessionsDump struct {
	expiries, ephemerals []sessionGroup
}

func (s *Server) sessionDump() sessionsDump {
	var d sessionsDump
	ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	defer cancel()
	v, _, err := s.readView(ctx)
	if err != nil {
		return d
	}
	defer v.Close()
	scan := func(prefix byte, each func(k []byte)) {
		it, err := v.NewIter([]byte{prefix}, []byte{prefix + 1})
		if err != nil {
			return
		}
		defer it.Close()
		n := 0
		for ok := it.First(); ok && n < maxListed; ok = it.Next() {
			each(it.Key())
			n++
		}
	}
	scan(prefixDeadline, func(k []byte) {
		if len(k) != 17 {
			return
		}
		at, id := int64(binary.BigEndian.Uint64(k[1:9])), int64(binary.BigEndian.Uint64(k[9:17]))
		if n := len(d.expiries); n > 0 && d.expiries[n-1].at == at {
			d.expiries[n-1].ids = append(d.expiries[n-1].ids, id)
			return
		}
		d.expiries = append(d.expiries, sessionGroup{at: at, ids: []int64{id}})
	})
	scan(prefixEphemeral, func(k []byte) {
		if len(k) < 9 {
			return
		}
		id, path := int64(binary.BigEndian.Uint64(k[1:9])), string(k[9:])
		if n := len(d.ephemerals); n > 0 && d.ephemerals[n-1].session == id {
			d.ephemerals[n-1].list = append(d.ephemerals[n-1].list, path)
			return
		}
		d.ephemerals = append(d.ephemerals, sessionGroup{session: id, list: []string{path}})
	})
	return d
}
