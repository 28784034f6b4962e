package zk

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Statistics are node-local, as in ZooKeeper: each node counts what its
// own clients sent and waited for. Nothing here is replicated state; no
// apply reads or writes it.

// maxSamples is how many recent values a summary keeps for its
// percentiles (the size of the uniform reservoir ZooKeeper's summaries
// sample into; here the most recent values).
const maxSamples = 1028

// fsyncWarnThreshold is ZooKeeper's fsync.warningthresholdms default: an
// fsync slower than it counts in fsync_threshold_exceed_count.
const fsyncWarnThreshold = time.Second

// summary is one of ZooKeeper's AvgMinMax(Percentile)Counters: count,
// sum, min and max of the values observed since the last reset, and,
// with percentiles, p50/p95/p99/p999 over the most recent maxSamples.
type summary struct {
	mu                   sync.Mutex
	count, sum, min, max int64
	percentiles          bool
	samples              []int64 // a ring of at most maxSamples
	next                 int
}

// add observes one value.
func (s *summary) add(v int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.count == 0 || v < s.min {
		s.min = v
	}
	if s.count == 0 || v > s.max {
		s.max = v
	}
	s.count++
	s.sum += v
	if !s.percentiles {
		return
	}
	if len(s.samples) < maxSamples {
		s.samples = append(s.samples, v)
		return
	}
	s.samples[s.next] = v
	s.next = (s.next + 1) % maxSamples
}

func (s *summary) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count, s.sum, s.min, s.max = 0, 0, 0, 0
	s.samples, s.next = s.samples[:0], 0
}

// summaryValues is a summary read at one moment.
type summaryValues struct {
	count, sum, min, max int64
	avg                  float64 // sum/count rounded to 4 places, as ZooKeeper does
	p50, p95, p99, p999  int64
}

func (s *summary) read() summaryValues {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := summaryValues{count: s.count, sum: s.sum, min: s.min, max: s.max}
	if s.count > 0 {
		v.avg = math.Round(float64(s.sum)/float64(s.count)*1e4) / 1e4
	}
	if len(s.samples) > 0 {
		sorted := slices.Sorted(slices.Values(s.samples))
		v.p50, v.p95 = quantile(sorted, 0.5), quantile(sorted, 0.95)
		v.p99, v.p999 = quantile(sorted, 0.99), quantile(sorted, 0.999)
	}
	return v
}

// quantile is the q-quantile of sorted values, interpolated between
// neighbours as the Dropwizard snapshots ZooKeeper reports from are,
// then truncated to an integer.
func quantile(sorted []int64, q float64) int64 {
	n := len(sorted)
	pos := q * float64(n+1)
	switch {
	case pos < 1:
		return sorted[0]
	case pos >= float64(n):
		return sorted[n-1]
	}
	lo, hi := float64(sorted[int(pos)-1]), float64(sorted[int(pos)])
	return int64(lo + (pos-math.Floor(pos))*(hi-lo))
}

// serverStats are the server's counters (ZooKeeper's ServerStats and the
// ServerMetrics this server has a meaning for). srst resets the
// latencies, packet counts and response sizes, as in ZooKeeper.
type serverStats struct {
	received, sent atomic.Int64
	// latency is every request's, readLatency and updateLatency are
	// those of reads and writes (ZooKeeper's readlatency and
	// updatelatency), all in milliseconds.
	latency, readLatency, updateLatency summary
	// fsync is the LogServer's group-commit fsyncs, in milliseconds.
	fsync          summary
	fsyncThreshold atomic.Int64
	// Response sizes in bytes: last, min and max (-1 before any).
	respMu                     sync.Mutex
	respLast, respMin, respMax int64
	bytesReceived, bytesSent   atomic.Int64
	connectionRequests         atomic.Int64
	connectionRejected         atomic.Int64
	connectionDrops            atomic.Int64
	authFailed                 atomic.Int64
	watchesFired               [4]summary // created, deleted, changed, children
	namespaces                 namespaceStats
}

func newServerStats() *serverStats {
	st := &serverStats{respLast: -1, respMin: -1, respMax: -1}
	st.readLatency.percentiles = true
	st.updateLatency.percentiles = true
	return st
}

// response notes a response of n bytes.
func (st *serverStats) response(n int64) {
	st.bytesSent.Add(n)
	st.respMu.Lock()
	st.respLast = n
	if st.respMin < 0 || n < st.respMin {
		st.respMin = n
	}
	if n > st.respMax {
		st.respMax = n
	}
	st.respMu.Unlock()
}

func (st *serverStats) responseSizes() (last, min, max int64) {
	st.respMu.Lock()
	defer st.respMu.Unlock()
	return st.respLast, st.respMin, st.respMax
}

// reset is srst: ZooKeeper's ServerStats.reset.
func (st *serverStats) reset() {
	st.received.Store(0)
	st.sent.Store(0)
	st.latency.reset()
	st.fsyncThreshold.Store(0)
	st.respMu.Lock()
	st.respLast, st.respMin, st.respMax = -1, -1, -1
	st.respMu.Unlock()
}

// ObserveFsync records one fsync of the node's log (the LogServer's
// group commit), which ZooKeeper reports as fsynctime. Safe for
// concurrent use.
func (s *Server) ObserveFsync(d time.Duration) {
	s.stats.fsync.add(d.Milliseconds())
	if d > fsyncWarnThreshold {
		s.stats.fsyncThreshold.Add(1)
	}
}

// connStats are one connection's statistics for cons: the last request
// answered and the latencies since the last crst.
type connStats struct {
	mu                          sync.Mutex
	lastOp                      string
	lastCxid                    int32
	lastZxid                    int64
	lastResponse                int64 // ms on the node's monotonic clock
	lastLatency, minLat, maxLat int64
	totalLat, count             int64
	hasLatency                  bool
}

// done notes an answered request.
func (cs *connStats) done(op string, cxid int32, zxid, latency, now int64) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.lastOp, cs.lastCxid, cs.lastZxid, cs.lastResponse, cs.lastLatency = op, cxid, zxid, now, latency
	if !cs.hasLatency || latency < cs.minLat {
		cs.minLat = latency
	}
	if !cs.hasLatency || latency > cs.maxLat {
		cs.maxLat = latency
	}
	cs.hasLatency = true
	cs.totalLat += latency
	cs.count++
}

// reset is crst: ZooKeeper's ServerCnxn.resetStats.
func (cs *connStats) reset() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.lastOp, cs.lastCxid, cs.lastZxid, cs.lastResponse, cs.lastLatency = "NA", -1, -1, 0, 0
	cs.minLat, cs.maxLat, cs.totalLat, cs.count = 0, 0, 0, 0
	cs.hasLatency = false
}

// connSnapshot is a connection's statistics at one moment.
type connSnapshot struct {
	addr                                string
	secure                              bool
	session, established, timeout       int64
	received, sent, outstanding         int64
	lastOp                              string
	lastCxid                            int32
	lastZxid, lastResponse              int64
	lastLatency, minLat, avgLat, maxLat int64
}

func (c *conn) snapshot() connSnapshot {
	_, secure := c.nc.(*tls.Conn)
	cs := &c.stats
	cs.mu.Lock()
	defer cs.mu.Unlock()
	snap := connSnapshot{
		addr: c.nc.RemoteAddr().String(), secure: secure,
		session: c.sessionID(), established: c.created.UnixMilli(),
		received: c.received.Load(), sent: c.sent.Load(), outstanding: c.outstanding(),
		lastOp: cs.lastOp, lastCxid: cs.lastCxid, lastZxid: cs.lastZxid, lastResponse: cs.lastResponse,
		lastLatency: cs.lastLatency, minLat: cs.minLat, maxLat: cs.maxLat,
	}
	if cs.count > 0 {
		snap.avgLat = cs.totalLat / cs.count
	}
	if snap.session != 0 {
		// connect sets the timeout before it stores the session, and
		// never changes it after.
		snap.timeout = c.timeout.Milliseconds()
	}
	return snap
}

// resetStats is crst for one connection.
func (c *conn) resetStats() {
	c.stats.reset()
	c.received.Store(0)
	c.sent.Store(0)
}

// connSnapshots are the live connections' statistics, oldest first.
func (s *Server) connSnapshots() []connSnapshot {
	conns := s.connections()
	out := make([]connSnapshot, 0, len(conns))
	for _, c := range conns {
		out = append(out, c.snapshot())
	}
	slices.SortFunc(out, func(a, b connSnapshot) int {
		return cmp.Or(cmp.Compare(a.established, b.established), cmp.Compare(a.addr, b.addr))
	})
	return out
}

// line is the connection's line in cons, or in stat (brief), as
// ZooKeeper's ServerCnxn.dumpConnectionInfo writes it.
func (c connSnapshot) line(brief bool) string {
	interest := 0
	if c.session != 0 {
		interest = 1 // reading: the connection has its session
	}
	b := fmt.Appendf(nil, " /%s[%d](queued=%d,recved=%d,sent=%d", c.addr, interest, c.outstanding, c.received, c.sent)
	if !brief && c.session != 0 {
		b = fmt.Appendf(b, ",sid=%#x,lop=%s,est=%d,to=%d", c.session, c.lastOp, c.established, c.timeout)
		if c.lastCxid >= 0 {
			b = fmt.Appendf(b, ",lcxid=%#x", c.lastCxid)
		}
		b = fmt.Appendf(b, ",lzxid=0x%x,lresp=%d,llat=%d,minlat=%d,avglat=%d,maxlat=%d",
			uint64(c.lastZxid), c.lastResponse, c.lastLatency, c.minLat, c.avgLat, c.maxLat)
	}
	return string(append(b, ")\n"...))
}

// opCodes are ZooKeeper's four-letter names of operations, as cons and
// the connections command report the last one.
var opCodes = map[int32]string{
	opPing: "PING", opCreateSession: "SESS", opMulti: "MULT", opMultiRead: "MLTR",
	opCreate: "CREA", opCreate2: "CREA", opCreateContainer: "CREA", opCreateTTL: "CREA",
	opDelete: "DELE", opDeleteContainer: "DELE", opSetData: "SETD", opReconfig: "RECO",
	opSetACL: "SETA", opCloseSession: "CLOS", opSync: "SYNC", opCheck: "CHEC",
	opExists: "EXIS", opGetData: "GETD", opSetWatches: "SETW", opSetWatches2: "STW2",
	opAddWatch: "ADDW", opGetACL: "GETA", opGetChildren: "GETC", opGetChildren2: "GETC",
	opGetAllChildrenNum: "GETACN", opCheckWatches: "CHKW", opRemoveWatches: "REMW",
	opWhoAmI: "HOMI", opGetEphemerals: "GETE",
}

// isUpdate reports the operations ZooKeeper counts as updates (its
// updatelatency); the rest count as reads.
func isUpdate(op int32) bool {
	switch op {
	case opCreate, opCreate2, opCreateContainer, opCreateTTL, opDelete, opDeleteContainer,
		opSetData, opSetACL, opCheck, opMulti, opReconfig, opCreateSession, opCloseSession:
		return true
	}
	return false
}

// monotonicMillis is the node's elapsed-time clock in milliseconds, as
// ZooKeeper's Time.currentElapsedTime (lresp, last_response_time).
func monotonicMillis() int64 { return time.Since(processStart).Milliseconds() }

var processStart = time.Now()

// javaDouble formats f as Java's Double.toString does for the values
// the statistics hold: "0.0", "1.375", "1.0E-4".
func javaDouble(f float64) string {
	if f == 0 {
		return "0.0"
	}
	if a := math.Abs(f); a < 1e-3 || a >= 1e7 {
		s := strconv.FormatFloat(f, 'E', -1, 64)
		mant, exp, _ := strings.Cut(s, "E")
		if !strings.Contains(mant, ".") {
			mant += ".0"
		}
		if exp[0] == '+' {
			exp = exp[1:]
		}
		e, _ := strconv.Atoi(exp)
		return mant + "E" + strconv.Itoa(e)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// requestDone records an answered request: the server's latencies
// (all, and reads or updates) and the connection's.
func (s *Server) requestDone(cs *connStats, op, cxid int32, zxid int64, latency time.Duration) {
	ms := latency.Milliseconds()
	s.stats.latency.add(ms)
	if isUpdate(op) {
		s.stats.updateLatency.add(ms)
	} else {
		s.stats.readLatency.add(ms)
	}
	name, ok := opCodes[op]
	if !ok {
		name = "NA"
	}
	cs.done(name, cxid, zxid, ms, monotonicMillis())
}

// statOverhead is the bytes of a serialized Stat, which ZooKeeper adds
// to every read it counts per namespace.
const statOverhead = 68

// maxNamespaces bounds the namespaces counted per namespace; reads and
// writes under further top-level znodes are not counted.
const maxNamespaces = 1000

// namespaceStats are ZooKeeper's read_per_namespace and
// write_per_namespace summaries: the bytes read and written under each
// top-level znode.
type namespaceStats struct {
	mu sync.Mutex
	m  map[string]*[2]summary // namespace -> read, write
}

// topNamespace is the first component of path ("" for / and
// /zookeeper's, which ZooKeeper leaves out).
func topNamespace(path string) string {
	ns, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if ns == "zookeeper" {
		return ""
	}
	return ns
}

func (n *namespaceStats) add(path string, write int, bytes int64) {
	ns := topNamespace(path)
	if ns == "" {
		return
	}
	n.mu.Lock()
	if n.m == nil {
		n.m = map[string]*[2]summary{}
	}
	s := n.m[ns]
	if s == nil && len(n.m) < maxNamespaces {
		s = &[2]summary{}
		n.m[ns] = s
	}
	n.mu.Unlock()
	if s != nil {
		s[write].add(bytes)
	}
}

// read notes a read of path that returned bytes of data or child names.
func (n *namespaceStats) read(path string, bytes int) {
	n.add(path, 0, int64(len(path)+bytes+statOverhead))
}

// write notes a write of path with bytes of data.
func (n *namespaceStats) write(path string, bytes int) {
	n.add(path, 1, int64(len(path)+bytes))
}

// metrics appends the per-namespace summaries, namespaces in order.
func (n *namespaceStats) metrics(out []metric) []metric {
	n.mu.Lock()
	names := slices.Sorted(maps.Keys(n.m))
	sums := make([]*[2]summary, len(names))
	for i, ns := range names {
		sums[i] = n.m[ns]
	}
	n.mu.Unlock()
	for i, ns := range names {
		for w, kind := range []string{"read", "write"} {
			if v := sums[i][w].read(); v.count > 0 {
				out = appendSummary(out, ns+"_"+kind+"_per_namespace", v, false)
			}
		}
	}
	return out
}

// written is the path and data bytes of a create, setData or delete
// (a sequential create's path with its ten-digit suffix).
type written struct {
	path  string
	bytes int
}

func writtenBytes(op int32, req any) *written {
	switch r := req.(type) {
	case createRequest:
		if r.flags&2 != 0 { // the sequential modes
			return &written{r.path + "0000000000", len(r.data)}
		}
		return &written{r.path, len(r.data)}
	case setDataRequest:
		return &written{r.path, len(r.data)}
	case pathVersion:
		if op == opDelete {
			return &written{r.path, 0}
		}
	}
	return nil
}
