// Package metrics holds one node's Prometheus metrics: the request
// counters and latency histograms every API records, and the log's
// latencies, all registered on the node's own registry (a process may
// run several nodes, as the tests do).
//
// A nil *Set, and the nil *Command it hands out, record nothing, so a
// component built without metrics needs no checks:
//
//	m := set.Command(metrics.Redis, "set") // cache it: a map lookup
//	start := time.Now()
//	...
//	m.Done(start, failed)
package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// The api label's values.
const (
	Redis     = "redis"
	ZooKeeper = "zookeeper"
	Postgres  = "postgres"
)

// Set is one node's metrics.
type Set struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	// LogAppend and LogCheckTail time the VirtualLog's calls made by
	// this node's engine stack; Fsync times its LogServer's durable
	// batch commits.
	LogAppend, LogCheckTail, Fsync prometheus.Observer
	// AppendErrors counts appends that failed or whose outcome is
	// unknown.
	AppendErrors prometheus.Counter
	// SystemKeysRead counts the keys of the other APIs' state that SQL
	// queries of the system schemas (redis.*, zookeeper.*) read on this
	// node: a query whose conditions narrow the scan reads fewer.
	SystemKeysRead prometheus.Counter

	commands sync.Map // commandKey -> *Command
}

type commandKey struct{ api, name string }

// latencyBuckets span 50µs to about 3s: loopback reads sit at the low
// end, fsynced writes on a disk in the milliseconds.
var latencyBuckets = prometheus.ExponentialBuckets(50e-6, 2, 17)

// New returns a Set on a fresh registry that also holds the Go runtime's
// and the process's collectors.
func New() *Set {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := factory{reg}
	s := &Set{
		reg: reg,
		requests: f.counterVec(prometheus.CounterOpts{
			Name: "hourglass_requests_total",
			Help: "Requests answered, by API and command (Redis command, ZooKeeper operation, SQL command tag).",
		}, "api", "command"),
		errors: f.counterVec(prometheus.CounterOpts{
			Name: "hourglass_request_errors_total",
			Help: "Requests answered with an error (a Redis error reply, a ZooKeeper error code, a Postgres ErrorResponse).",
		}, "api", "command"),
		latency: f.histogramVec(prometheus.HistogramOpts{
			Name:    "hourglass_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer being ready, by API and command.",
			Buckets: latencyBuckets,
		}, "api", "command"),
		LogAppend:      f.histogram("hourglass_log_append_duration_seconds", "Time for an append to the shared log to become durable on a majority."),
		LogCheckTail:   f.histogram("hourglass_log_check_tail_duration_seconds", "Time to learn the shared log's tail (a read's sync)."),
		Fsync:          f.histogram("hourglass_logserver_fsync_duration_seconds", "Time of one durable (fsynced) batch commit of this node's LogServer."),
		AppendErrors:   f.counter("hourglass_log_append_errors_total", "Appends to the shared log that failed or whose outcome is unknown."),
		SystemKeysRead: f.counter("hourglass_sql_system_keys_read_total", "Keys of the Redis and ZooKeeper APIs' state read by SQL queries of the redis and zookeeper schemas on this node."),
	}
	return s
}

// Registry returns the registry to serve.
func (s *Set) Registry() *prometheus.Registry { return s.reg }

// MustRegister adds collectors (gauges read at scrape time, for
// instance) to the set's registry.
func (s *Set) MustRegister(cs ...prometheus.Collector) {
	if s != nil {
		s.reg.MustRegister(cs...)
	}
}

// Command returns the recorder of one command of one API. Callers on a
// hot path cache it.
func (s *Set) Command(api, name string) *Command {
	if s == nil {
		return nil
	}
	k := commandKey{api, name}
	if c, ok := s.commands.Load(k); ok {
		return c.(*Command)
	}
	c, _ := s.commands.LoadOrStore(k, &Command{
		requests: s.requests.WithLabelValues(api, name),
		errors:   s.errors.WithLabelValues(api, name),
		latency:  s.latency.WithLabelValues(api, name),
	})
	return c.(*Command)
}

// Since observes the time since start on o, if there is one.
func Since(o prometheus.Observer, start time.Time) {
	if o != nil {
		o.Observe(time.Since(start).Seconds())
	}
}

// Command records one command's requests.
type Command struct {
	requests, errors prometheus.Counter
	latency          prometheus.Observer
}

// Done records one request that arrived at start, answered now.
func (c *Command) Done(start time.Time, failed bool) {
	if c == nil {
		return
	}
	c.requests.Inc()
	if failed {
		c.errors.Inc()
	}
	c.latency.Observe(time.Since(start).Seconds())
}

// factory makes metrics and registers them.
type factory struct{ reg prometheus.Registerer }

func (f factory) counterVec(o prometheus.CounterOpts, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(o, labels)
	f.reg.MustRegister(v)
	return v
}

func (f factory) histogramVec(o prometheus.HistogramOpts, labels ...string) *prometheus.HistogramVec {
	v := prometheus.NewHistogramVec(o, labels)
	f.reg.MustRegister(v)
	return v
}

func (f factory) histogram(name, help string) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: latencyBuckets})
	f.reg.MustRegister(h)
	return h
}

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}
