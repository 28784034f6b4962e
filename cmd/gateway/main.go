// Command gateway is the Hourglass binary: `gateway serve` runs a node that
// speaks the Redis API over the shared log; the other sub-commands
// administer a running node through its local admin endpoint.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"

	"hourglass/platform/node"
	"hourglass/platform/node/adminpb"
	"hourglass/virtuallog/vlogpb"
)

const usage = `usage: gateway <command> [flags]

commands:
  serve        run a node (embedded single-node default: data in ./data,
               Redis API on 127.0.0.1:6379)
  reconfigure  seal the active loglet and move the log to a fresh one
  status       print the log's chain of segments and the node's progress

Run 'gateway <command> -h' for the command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "reconfigure":
		err = reconfigure(os.Args[2:], os.Stdout)
	case "status":
		err = statusCmd(os.Args[2:], os.Stdout)
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "gateway: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gateway:", err)
		}
		os.Exit(1)
	}
}

// serveFlags maps the serve flags onto a node.Config. Flags given on the
// command line override the config file.
func serveFlags(args []string) (node.Config, *slog.Logger, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var (
		cfg       node.Config
		file      = fs.String("config", "", "JSON config file; keys are the flag names")
		logFormat = fs.String("log-format", "text", "log format: text or json")
		logLevel  = fs.String("log-level", "info", "log level: debug, info, warn, error")
	)
	def := node.Default()
	fs.StringVar(&cfg.DataDir, "data-dir", def.DataDir, "directory for the node's data")
	fs.StringVar(&cfg.RedisAddr, "redis-addr", def.RedisAddr, "Redis API address (port 0 picks a free port)")
	fs.StringVar(&cfg.ZKAddr, "zk-addr", def.ZKAddr, "ZooKeeper API address (reserved: not served by this version)")
	fs.StringVar(&cfg.PGAddr, "pg-addr", def.PGAddr, "Postgres API address (reserved: not served by this version)")
	fs.StringVar(&cfg.AdminAddr, "admin-addr", def.AdminAddr, "local admin endpoint address")
	fs.StringVar(&cfg.DebugAddr, "debug-addr", "", "serve Go pprof profiles on this address (off when empty)")
	fs.Int64Var(&cfg.StoreCacheBytes, "store-cache-bytes", def.StoreCacheBytes, "block cache of the local state store, in bytes")
	fs.Uint64Var(&cfg.LogRetain, "log-retain", def.LogRetain, "applied log entries kept before trimming")
	fs.Int64Var(&cfg.ProtoMaxBulkLen, "proto-max-bulk-len", 0, "largest Redis bulk argument in bytes (0: 512 MiB)")
	fs.Int64Var(&cfg.ClientQueryBufferLimit, "client-query-buffer-limit", 0, "largest Redis request in bytes (0: 1 GiB)")
	fs.IntVar(&cfg.MaxMultibulkLen, "max-multibulk-len", 0, "most arguments in one Redis request (0: 1048576)")
	fs.IntVar(&cfg.MaxClients, "maxclients", 0, "most concurrent Redis clients (0: 10000)")
	if err := fs.Parse(args); err != nil {
		return cfg, nil, err
	}
	if fs.NArg() > 0 {
		return cfg, nil, fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	if *file != "" {
		fromFile := node.Config{}
		if err := fromFile.LoadFile(*file); err != nil {
			return cfg, nil, err
		}
		// Start from the file (defaults fill what it leaves out), then
		// re-apply what the command line set explicitly.
		merged := fromFile
		fs.Visit(func(f *flag.Flag) { applyFlag(&merged, &cfg, f.Name) })
		cfg = merged
	}
	logger, err := newLogger(os.Stderr, *logFormat, *logLevel)
	if err != nil {
		return cfg, nil, err
	}
	cfg.Logger = logger
	return cfg, logger, nil
}

// applyFlag copies the field behind flag name from src to dst.
func applyFlag(dst, src *node.Config, name string) {
	switch name {
	case "data-dir":
		dst.DataDir = src.DataDir
	case "redis-addr":
		dst.RedisAddr = src.RedisAddr
	case "zk-addr":
		dst.ZKAddr = src.ZKAddr
	case "pg-addr":
		dst.PGAddr = src.PGAddr
	case "admin-addr":
		dst.AdminAddr = src.AdminAddr
	case "debug-addr":
		dst.DebugAddr = src.DebugAddr
	case "store-cache-bytes":
		dst.StoreCacheBytes = src.StoreCacheBytes
	case "log-retain":
		dst.LogRetain = src.LogRetain
	case "proto-max-bulk-len":
		dst.ProtoMaxBulkLen = src.ProtoMaxBulkLen
	case "client-query-buffer-limit":
		dst.ClientQueryBufferLimit = src.ClientQueryBufferLimit
	case "max-multibulk-len":
		dst.MaxMultibulkLen = src.MaxMultibulkLen
	case "maxclients":
		dst.MaxClients = src.MaxClients
	}
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log-format %q: want text or json", format)
}

func serve(args []string) error {
	cfg, logger, err := serveFlags(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	n, err := node.Start(ctx, cfg)
	if err != nil {
		return err
	}
	logger.Info("node ready", "data_dir", cfg.DataDir, "listeners", strings.Join(n.Listeners(), " "))
	<-ctx.Done()
	logger.Info("shutting down")
	return n.Close()
}

// adminClient dials the admin endpoint named by the common admin flags.
func adminClient(name string, args []string, extra func(*flag.FlagSet)) (adminpb.AdminClient, func(), error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	addr := fs.String("admin-addr", node.DefaultAdminAddr, "the node's admin endpoint")
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	return adminpb.NewAdminClient(conn), func() { conn.Close() }, nil
}

func reconfigure(args []string, out io.Writer) error {
	var kind string
	client, done, err := adminClient("reconfigure", args, func(fs *flag.FlagSet) {
		fs.StringVar(&kind, "kind", "", "loglet kind of the new segment (default: the active segment's)")
	})
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := client.Reconfigure(ctx, &adminpb.ReconfigureRequest{LogletKind: kind})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "reconfigured in %dus: new segment starts at %d\n", resp.Micros, resp.Start)
	printChain(out, resp.Chain)
	return nil
}

func statusCmd(args []string, out io.Writer) error {
	var asJSON bool
	client, done, err := adminClient("status", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print the status as JSON")
	})
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := client.Status(ctx, &adminpb.StatusRequest{})
	if err != nil {
		return err
	}
	if asJSON {
		b, err := protojson.Marshal(st)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, string(b))
		return nil
	}
	fmt.Fprintf(out, "tail %d, applied %d (lag %d)\n", st.Tail, st.Applied, st.Tail-min(st.Tail, st.Applied))
	fmt.Fprintf(out, "listeners: %s\n", strings.Join(st.Listeners, " "))
	printChain(out, st.Chain)
	return nil
}

func printChain(out io.Writer, chain *vlogpb.Chain) {
	fmt.Fprintf(out, "chain (%d segments):\n", len(chain.GetSegments()))
	for i, seg := range chain.GetSegments() {
		state := "sealed"
		if i == len(chain.Segments)-1 {
			state = "active"
		}
		end := "..."
		if i+1 < len(chain.Segments) {
			end = fmt.Sprint(chain.Segments[i+1].Start)
		}
		fmt.Fprintf(out, "  [%d, %s) %s loglet %d on %s, %s\n", seg.Start, end, seg.Loglet.Kind, seg.Loglet.Id, strings.Join(seg.Loglet.Servers, ","), state)
	}
}
