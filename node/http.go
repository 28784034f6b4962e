package node

import (
	"context"
	"crypto/tls"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/protobuf/encoding/protojson"

	"hourglass/internal/metrics"
	"hourglass/internal/pebbledb"
	"hourglass/internal/tlsconf"
	"hourglass/node/adminpb"
	"hourglass/virtuallog/metastore"
)

// statusPage is the status page: it polls status.json and metrics and
// draws them.
//
//go:embed status.html
var statusPage []byte

// readyTimeout bounds /readyz's sync with the log.
const readyTimeout = 2 * time.Second

// registerGauges adds the node's state, read at scrape time, to its
// metrics: connections per API, the applied and tail positions and the
// lag between them, the trim point, the store's size, and the log's
// chain (segments, reconfigurations, failovers).
func (n *Node) registerGauges(sl *sharedLog) {
	m := n.metrics
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	counter := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, f)
	}
	for api, clients := range map[string]func() int{
		metrics.Redis:     func() int { return n.kv.Clients() },
		metrics.ZooKeeper: func() int { return n.zk.Clients() },
		metrics.Postgres:  func() int { return n.sql.Clients() },
	} {
		m.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "hourglass_connections",
			Help:        "Open client connections, by API.",
			ConstLabels: prometheus.Labels{"api": api},
		}, func() float64 { return float64(clients()) }))
	}
	applied := func() float64 { return float64(n.base.Applied()) }
	m.MustRegister(
		gauge("hourglass_applied_position", "Log position below which this node has applied every entry.", applied),
		gauge("hourglass_log_tail_position", "Highest log tail this node has learned (from a sync, an append or a read).",
			func() float64 { return float64(sl.tail.Load()) }),
		gauge("hourglass_apply_lag_entries", "Entries below the known tail that this node has not applied yet.", func() float64 {
			return float64(max(sl.tail.Load(), n.base.Applied()) - n.base.Applied())
		}),
		gauge("hourglass_log_trimmed_position", "Position below which this node has trimmed the log.",
			func() float64 { return float64(sl.trimmed.Load()) }),
		gauge("hourglass_log_trim_members_left_behind", "Members the log is no longer kept for: silent longer than the trim retention, they catch up by checkpoint.", func() float64 {
			var left int
			for _, m := range n.views.Policy().Members {
				if m.LeftBehind {
					left++
				}
			}
			return float64(left)
		}),
		gauge("hourglass_store_size_bytes", "Disk space of the node's applied state (the LocalStore).", func() float64 {
			var size uint64
			n.base.WithStore(func(db *pebble.DB) error {
				size = db.Metrics().DiskSpaceUsage()
				return nil
			})
			return float64(size)
		}),
		gauge("hourglass_backup_copied_position", "Log position below which the backup directory holds every entry this node copied (0 without --backup-dir).",
			func() float64 { return float64(n.backupCopied.Load()) }),
		gauge("hourglass_log_segments", "Segments in the VirtualLog's chain.", func() float64 {
			c, _ := n.vlog.Chain()
			return float64(len(c.Segments))
		}),
		counter("hourglass_log_reconfigurations_total", "Loglets the VirtualLog's chain has moved to since it began (reconfigurations and failovers of the whole ensemble).", func() float64 {
			c, _ := n.vlog.Chain()
			return float64(max(c.GetNextLogletId(), 2) - 2)
		}),
		counter("hourglass_log_failovers_total", "Reconfigurations this node made because the active loglet failed.",
			func() float64 { return float64(n.vlog.Failovers()) }),
		gauge("hourglass_read_lease_held", "1 while this node holds a read lease (it answers reads without the log's tail), else 0.", func() float64 {
			if _, self := n.lease.Holders(); self {
				return 1
			}
			return 0
		}),
		gauge("hourglass_read_lease_holders", "Other nodes whose read leases this node honours: its writes and reads wait for them to apply.", func() float64 {
			others, _ := n.lease.Holders()
			return float64(len(others))
		}),
	)
	for path, f := range map[string]func() uint64{
		"lease": func() uint64 { l, _ := n.lease.Reads(); return l },
		"sync":  func() uint64 { _, s := n.lease.Reads(); return s },
	} {
		m.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "hourglass_reads_total",
			Help:        "Reads by how they were made linearizable: under the read lease, or by syncing with the log's tail.",
			ConstLabels: prometheus.Labels{"path": path},
		}, func() float64 { return float64(f()) }))
	}
}

// serveHTTP starts the HTTP listener: /metrics (Prometheus), /healthz
// (the process serves HTTP), /readyz (the node applies the log and can
// sync with it, so its APIs answer), and the status page (/) with the
// status it shows (/status.json, what gateway status prints).
func (n *Node) serveHTTP(addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(statusPage)
	})
	mux.HandleFunc("GET /status.json", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		st, err := (&adminService{n: n}).Status(ctx, &adminpb.StatusRequest{})
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		b, err := protojson.Marshal(st)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	})
	mux.Handle("/metrics", promhttp.HandlerFor(n.metrics.Registry(), promhttp.HandlerOpts{}))
	// ZooKeeper's AdminServer, as on --zk-admin-addr.
	admin := n.cfg.ZKAdminCommandURL
	if admin == "" {
		admin = "/commands"
	}
	zkAdmin := n.zk.AdminHandler(admin)
	mux.Handle(admin, zkAdmin)
	mux.Handle(strings.TrimSuffix(admin, "/")+"/", zkAdmin)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := n.ready(r.Context()); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	// Failed handshakes (a client without a certificate, say) go to the
	// node's log at debug level rather than to stderr.
	n.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(n.log.With("api", "http").Handler(), slog.LevelDebug)}
	if n.tls == nil {
		return n.listen("http", addr, n.http.Serve)
	}
	// HTTPS with the node's certificate, which a SIGHUP reloads for the
	// next handshake, as on the other TLS listeners.
	auth := tlsconf.NoClient
	if a := n.cfg.HTTPTLSAuthClients; a != "" {
		auth, _ = tlsconf.ParseClientAuth(a) // checked by Validate
	}
	conf := n.tls.Server(auth)
	return n.listen("http", addr, func(ln net.Listener) error { return n.http.Serve(tls.NewListener(ln, conf)) })
}

// ready reports why the node cannot serve, or nil: its apply loop
// stopped, or it cannot sync with the log (no majority, say) within
// readyTimeout.
func (n *Node) ready(ctx context.Context) error {
	if err := n.diskFailure(); err != nil {
		return err
	}
	if err := n.base.Err(); err != nil {
		return fmt.Errorf("apply stopped: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	v, err := n.base.Sync(ctx)
	if err != nil {
		return fmt.Errorf("cannot sync with the log: %w", err)
	}
	v.Close()
	return nil
}

// diskFailure reports a write or fsync error that stopped one of the
// node's databases (its LogServer, MetaStore acceptor or register, or the
// store of its apply loop): the node serves no writes until its disk takes
// synced writes again and it restarts in place (see Run). nil while its
// disks work.
func (n *Node) diskFailure() error {
	var err error
	switch {
	case n.server != nil && n.server.Failed() != nil:
		err = n.server.Failed()
	case n.acceptor != nil && n.acceptor.Failed() != nil:
		err = fmt.Errorf("the MetaStore acceptor's disk failed: %w", n.acceptor.Failed())
	case n.base != nil && errors.Is(n.base.Err(), pebbledb.ErrFailed):
		err = fmt.Errorf("the store's disk failed, apply stopped: %w", n.base.Err())
	}
	if l, ok := n.meta.(*metastore.Local); ok && err == nil {
		err = l.Failed()
	}
	if err == nil {
		return nil
	}
	return fmt.Errorf("node %s: %w; the node restarts once its disk takes writes again", n.cfg.NodeID, err)
}

// serveDebug serves Go's pprof profiles.
func (n *Node) serveDebug(addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	n.debug = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return n.listen("debug", addr, n.debug.Serve)
}
