// Command pgload is a closed-loop load generator for the Postgres wire
// protocol, written against github.com/jackc/pgx/v5, a driver users use.
// It drives PostgreSQL and the Hourglass gateway alike, so that
// scripts/bench-pg.sh can compare the two with the same load.
//
// It creates the table pgload (id bigint PRIMARY KEY, v bigint NOT NULL,
// pad text), dropping any earlier one, then runs the phases of -phases in
// order, each for -duration with -clients connections, each connection
// keeping one statement outstanding (pgx's extended protocol, statements
// prepared once per connection). Connections are spread round-robin over
// -servers. Each phase prints one CSV line:
//
//	phase,clients,ops,ops_per_sec,p50_ms,p99_ms,errors
//
// ops counts successful statements; latencies are of successful ones only.
// The phases are:
//
//	insert   single-row INSERTs of new ids, each its own transaction
//	select   point SELECTs by primary key of ids the insert phase made
//	update   single-row UPDATEs by primary key (v = v + 1)
//
// Usage:
//
//	go run ./conformance/pgload -servers 127.0.0.1:5432 -clients 16 -duration 10s
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// config is the run's configuration, filled from the flags.
type config struct {
	servers  []string
	user     string
	database string
	clients  int
	duration time.Duration
	phases   []string
	pad      string
}

var statements = map[string]string{
	"insert": "INSERT INTO pgload (id, v, pad) VALUES ($1, 0, $2)",
	"select": "SELECT v, pad FROM pgload WHERE id = $1",
	"update": "UPDATE pgload SET v = v + 1 WHERE id = $1",
}

func main() {
	var cfg config
	servers := flag.String("servers", "127.0.0.1:5432", "comma-separated host:port list; connections are spread over it")
	flag.StringVar(&cfg.user, "user", "postgres", "user name")
	flag.StringVar(&cfg.database, "database", "postgres", "database name")
	flag.IntVar(&cfg.clients, "clients", 1, "number of connections")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "length of each phase")
	phases := flag.String("phases", "insert,select,update", "phases to run, in order")
	size := flag.Int("size", 100, "bytes of the pad column")
	flag.Parse()
	cfg.servers = strings.Split(*servers, ",")
	cfg.phases = strings.Split(*phases, ",")
	cfg.pad = strings.Repeat("x", *size)
	for _, p := range cfg.phases {
		if statements[p] == "" {
			fmt.Fprintf(os.Stderr, "pgload: unknown phase %q\n", p)
			os.Exit(2)
		}
	}
	if cfg.clients < 1 {
		fmt.Fprintln(os.Stderr, "pgload: -clients must be at least 1")
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "pgload:", err)
		os.Exit(1)
	}
}

func (c config) url(i int) string {
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable&connect_timeout=10", c.user, c.servers[i%len(c.servers)], c.database)
}

func run(cfg config) error {
	ctx := context.Background()
	conns := make([]*pgx.Conn, cfg.clients)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close(ctx)
			}
		}
	}()
	for i := range conns {
		c, err := pgx.Connect(ctx, cfg.url(i))
		if err != nil {
			return fmt.Errorf("connect to %s: %w", cfg.servers[i%len(cfg.servers)], err)
		}
		conns[i] = c
	}
	for _, q := range []string{"DROP TABLE IF EXISTS pgload", "CREATE TABLE pgload (id bigint PRIMARY KEY, v bigint NOT NULL, pad text)"} {
		if _, err := conns[0].Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	fmt.Println("phase,clients,ops,ops_per_sec,p50_ms,p99_ms,errors")
	var inserted atomic.Int64
	for _, phase := range cfg.phases {
		if phase != "insert" && inserted.Load() == 0 {
			return fmt.Errorf("phase %s needs rows: run insert first", phase)
		}
		rows := inserted.Load()
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			lats     []time.Duration
			failures atomic.Int64
			firstErr atomic.Value
		)
		deadline := time.Now().Add(cfg.duration)
		start := time.Now()
		for i, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano())))
				var mine []time.Duration
				for time.Now().Before(deadline) {
					var args []any
					switch phase {
					case "insert":
						args = []any{inserted.Add(1) - 1, cfg.pad}
					default:
						args = []any{rng.Int64N(rows)}
					}
					t0 := time.Now()
					var err error
					if phase == "select" {
						var v int64
						var pad string
						err = c.QueryRow(ctx, statements[phase], args...).Scan(&v, &pad)
					} else {
						_, err = c.Exec(ctx, statements[phase], args...)
					}
					if err != nil {
						failures.Add(1)
						firstErr.CompareAndSwap(nil, err)
						if c.IsClosed() {
							return
						}
						continue
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lats = append(lats, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		if err, _ := firstErr.Load().(error); err != nil {
			fmt.Fprintf(os.Stderr, "pgload: %s: %d errors, the first: %v\n", phase, failures.Load(), err)
		}
		slices.Sort(lats)
		fmt.Printf("%s,%d,%d,%.0f,%.3f,%.3f,%d\n", phase, cfg.clients, len(lats), float64(len(lats))/elapsed.Seconds(),
			quantile(lats, 0.50), quantile(lats, 0.99), failures.Load())
	}
	return nil
}

// quantile is the q-quantile of sorted latencies, in milliseconds.
func quantile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[int(q*float64(len(sorted)-1))]) / float64(time.Millisecond)
}
