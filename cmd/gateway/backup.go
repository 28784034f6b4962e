package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"hourglass/node"
)

// backupCmd runs `gateway backup create|restore|verify`.
func backupCmd(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("backup: want create, restore or verify")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "create":
		return backupCreate(ctx, args[1:], out)
	case "restore":
		return backupRestore(ctx, args[1:], out)
	case "verify":
		return backupVerify(ctx, args[1:], out)
	}
	return fmt.Errorf("backup %q: want create, restore or verify", args[0])
}

func backupCreate(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("backup create", flag.ContinueOnError)
	to := fs.String("to", "", "the backup directory (created if needed; a node's --backup-dir copies the log into the same one)")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	client, done, err := adminClient(fs, args)
	if err != nil {
		return err
	}
	defer done()
	if *to == "" {
		return errors.New("backup create: --to is required")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := node.CreateBackup(ctx, client, *to)
	if err != nil {
		return err
	}
	m := res.Manifest
	if res.Existed {
		fmt.Fprintf(out, "checkpoint at position %d already in the backup (checksum %s)\n", m.Position, m.Checksum)
		return nil
	}
	fmt.Fprintf(out, "checkpoint at position %d from node %s: checksum %s, %d files, %d bytes copied, %d bytes linked from the previous checkpoint\n",
		m.Position, m.Node, m.Checksum, len(m.Files), res.Copied, res.Linked)
	return nil
}

func backupRestore(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("backup restore", flag.ContinueOnError)
	from := fs.String("from", "", "the backup directory")
	dataDir := fs.String("data-dir", "", "the data directory to build (must not exist or be empty)")
	toPos := fs.Uint64("to-position", 0, "restore the state at this log position (default: the latest the backup reaches)")
	logFormat := fs.String("log-format", "text", "log format of the restoring node: text or json")
	logLevel := fs.String("log-level", "warn", "log level of the restoring node: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *dataDir == "" {
		return errors.New("backup restore: --from and --data-dir are required")
	}
	logger, err := newLogger(os.Stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	cfg := node.RestoreConfig{From: *from, DataDir: *dataDir, Logger: logger}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "to-position" {
			cfg.To, cfg.ToSet = *toPos, true
		}
	})
	res, err := node.Restore(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "restored position %d (checkpoint %d, then %d log entries): checksum %x\n", res.Position, res.Checkpoint, res.Position-res.Checkpoint, res.Checksum)
	return nil
}

func backupVerify(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("backup verify", flag.ContinueOnError)
	from := fs.String("from", "", "the backup directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" {
		return errors.New("backup verify: --from is required")
	}
	logger, err := newLogger(os.Stderr, "text", "warn")
	if err != nil {
		return err
	}
	rep, err := node.Verify(ctx, *from, logger)
	for _, m := range rep.Checkpoints {
		fmt.Fprintf(out, "checkpoint %d: node %s, %s, checksum %s, %d files\n", m.Position, m.Node, m.Created.Format(time.RFC3339), m.Checksum, len(m.Files))
	}
	for _, r := range rep.LogRanges {
		fmt.Fprintf(out, "log: positions [%d, %d)\n", r.First, r.End)
	}
	if len(rep.LogRanges) > 1 {
		fmt.Fprintf(out, "log: %d gaps (a restore cannot cross one)\n", len(rep.LogRanges)-1)
	}
	if rep.Replayed {
		fmt.Fprintf(out, "restore of the newest checkpoint's position from checkpoint %d reproduces its checksum\n", rep.ReplayedFrom)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "backup OK")
	return nil
}
