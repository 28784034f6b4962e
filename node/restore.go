package node

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"hourglass/loglet/backup"
)

// RestoreConfig says what Restore builds.
type RestoreConfig struct {
	// From is the backup directory.
	From string
	// DataDir is the data directory to build; it must not exist or be
	// empty.
	DataDir string
	// To is the log position to restore to (the state reflects every
	// entry below it and none at or above it); ToSet false means the
	// latest position the backup reaches.
	To    uint64
	ToSet bool
	// Logger receives the restoring node's logs; nil discards them.
	Logger *slog.Logger
}

// RestoreResult is what Restore built.
type RestoreResult struct {
	// Position is the restored state's applied position and Checksum its
	// state digest there (as the Checksum admin call reports it).
	Position uint64
	Checksum []byte
	// Checkpoint is the position of the checkpoint it started from; the
	// backup's log entries [Checkpoint, Position) were applied on top.
	Checkpoint uint64
}

// Restore builds a node's data directory from a backup: the newest
// checkpoint at or below the position asked for, then the backup's log
// entries from there up to the position, applied offline by a node that
// runs the real engine stack over them (no listener reachable from
// elsewhere, nothing appended), so the state is exactly what a node had
// at that position. `gateway serve --data-dir` then serves it; its log
// starts at the restored position. For a new ensemble, restore the same
// position into each node's data directory.
func Restore(ctx context.Context, cfg RestoreConfig) (RestoreResult, error) {
	if err := checkBackupDir(cfg.From); err != nil {
		return RestoreResult{}, err
	}
	cps, err := Checkpoints(cfg.From)
	if err != nil {
		return RestoreResult{}, err
	}
	lg, err := backup.Open(filepath.Join(cfg.From, backupLogDir))
	if err != nil {
		return RestoreResult{}, err
	}
	to := cfg.To
	if !cfg.ToSet {
		to = latestReachable(cps, lg)
	}
	if to > 0 && (len(cps) == 0 || cps[0].Position > 0) {
		// A log backed up from its very start needs no checkpoint: the
		// empty state at position 0 is one.
		cps = append([]Manifest{{Format: backup.FormatVersion}}, cps...)
	}
	for i := len(cps) - 1; i >= 0; i-- {
		if cps[i].Position <= to && lg.Covers(cps[i].Position, to) {
			return restoreFrom(ctx, cfg, cps[i], to, lg)
		}
	}
	return RestoreResult{}, fmt.Errorf("%w: no checkpoint at or below %d from which the backup's log reaches it (log holds %v)", ErrBackupMissing, to, lg.Ranges())
}

// latestReachable is the highest position a checkpoint plus the log
// after it reaches.
func latestReachable(cps []Manifest, lg *backup.Log) uint64 {
	var best uint64
	for _, m := range cps {
		reach := m.Position
		for _, r := range lg.Ranges() {
			if r.First <= m.Position && m.Position <= r.End {
				reach = max(reach, r.End)
			}
		}
		best = max(best, reach)
	}
	return best
}

// restoreFrom builds cfg.DataDir from checkpoint m and the log up to to.
// A restore that fails removes what it built.
func restoreFrom(ctx context.Context, cfg RestoreConfig, m Manifest, to uint64, lg *backup.Log) (_ RestoreResult, err error) {
	res := RestoreResult{Position: to, Checkpoint: m.Position}
	if ents, err := os.ReadDir(cfg.DataDir); err == nil && len(ents) > 0 {
		return res, fmt.Errorf("node: restore into %s: the directory is not empty", cfg.DataDir)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(cfg.DataDir)
		}
	}()
	cdir := checkpointDir(cfg.From, m.Position)
	store := filepath.Join(cfg.DataDir, "store")
	for _, f := range m.Files {
		if err := copyChecked(filepath.Join(cdir, f.Name), filepath.Join(store, f.Name), f); err != nil {
			return res, err
		}
	}
	if to > m.Position {
		if err := copyLog(lg, m.Position, to, filepath.Join(cfg.DataDir, restoredLogDir)); err != nil {
			return res, err
		}
		if err := writeMarker(cfg.DataDir, restoreMarker{Format: backup.FormatVersion, Start: m.Position, End: to, Log: restoredLogDir}); err != nil {
			return res, err
		}
		if err := replay(ctx, cfg, to); err != nil {
			return res, err
		}
		// The store now holds the state at to; the replay's log and chain
		// go, and the node's log starts afresh at to.
		for _, d := range []string{"log", "meta", restoredLogDir} {
			if err := os.RemoveAll(filepath.Join(cfg.DataDir, d)); err != nil {
				return res, err
			}
		}
	}
	if err := writeMarker(cfg.DataDir, restoreMarker{Format: backup.FormatVersion, Start: to, End: to}); err != nil {
		return res, err
	}
	applied, sum, err := checkpointDigest(store)
	if err != nil {
		return res, err
	}
	if applied != to {
		return res, fmt.Errorf("node: restore reached position %d, not %d", applied, to)
	}
	if to == m.Position && !equalHex(m.Checksum, sum) {
		return res, fmt.Errorf("%w: checkpoint %d: state checksum %x, the manifest records %s", ErrBackupCorrupt, m.Position, sum, m.Checksum)
	}
	res.Checksum = sum
	return res, backup.SyncDirs(cfg.DataDir)
}

// replay runs a node on cfg.DataDir whose log ends at to, until it has
// applied everything below to, and makes its state durable.
func replay(ctx context.Context, cfg RestoreConfig, to uint64) error {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	local := "127.0.0.1:0"
	n, err := Start(ctx, Config{
		DataDir:   cfg.DataDir,
		RedisAddr: local, ZKAddr: local, PGAddr: local, AdminAddr: local,
		ReadLease: -1,
		Logger:    logger,
		replayEnd: to,
	})
	if err != nil {
		return fmt.Errorf("node: replaying the backup's log: %w", err)
	}
	defer n.Close()
	if _, _, err := n.base.Checksum(ctx, to); err != nil {
		return fmt.Errorf("node: replaying the backup's log: %w", err)
	}
	return n.base.MakeDurable()
}

// copyLog copies the backup log's entries [from, to) into a new backup
// log in dir.
func copyLog(lg *backup.Log, from, to uint64, dir string) error {
	w, err := backup.OpenWriter(dir, backup.WriterOptions{})
	if err != nil {
		return err
	}
	defer w.Close()
	for pos := from; pos < to; {
		es, err := lg.Read(pos, int(min(to-pos, 4096)))
		if err != nil {
			return err
		}
		if err := w.Append(pos, es); err != nil {
			return err
		}
		pos += uint64(len(es))
	}
	return nil
}

// writeMarker writes the data directory's restore marker.
func writeMarker(dataDir string, m restoreMarker) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	return backup.WriteFileSynced(filepath.Join(dataDir, restoreMarkerFile), append(b, '\n'))
}

// copyChecked copies a checkpoint file, checking it against its manifest
// entry on the way.
func copyChecked(src, dst string, f ManifestFile) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBackupCorrupt, err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if err != nil {
		return err
	}
	if n != f.Size || hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		return fmt.Errorf("%w: %s does not match its manifest", ErrBackupCorrupt, src)
	}
	return out.Sync()
}

// VerifyReport is what Verify found.
type VerifyReport struct {
	Checkpoints []Manifest
	LogRanges   []backup.Range
	// Replayed says the newest checkpoint's state was rebuilt from
	// ReplayedFrom (an older checkpoint plus the log, or the checkpoint
	// itself) and its checksum matched the manifest's.
	Replayed     bool
	ReplayedFrom uint64
}

// Verify checks a backup directory: its format, every checkpoint's files
// against their manifests, every log record's checksum and the log's
// continuity, and that restoring the newest checkpoint's position (from
// the checkpoint before it plus the log, where the log covers the way)
// reproduces the checksum its manifest records. Every problem found is
// in the error.
func Verify(ctx context.Context, dir string, logger *slog.Logger) (VerifyReport, error) {
	var rep VerifyReport
	if err := checkBackupDir(dir); err != nil {
		return rep, err
	}
	cps, err := Checkpoints(dir)
	if err != nil {
		return rep, err
	}
	rep.Checkpoints = cps
	var errs []error
	for _, m := range cps {
		if err := checkFiles(checkpointDir(dir, m.Position), m); err != nil {
			errs = append(errs, err)
		}
	}
	lg, err := backup.Open(filepath.Join(dir, backupLogDir))
	if err != nil {
		return rep, errors.Join(append(errs, err)...)
	}
	rep.LogRanges = lg.Ranges()
	if len(errs) > 0 || len(cps) == 0 {
		return rep, errors.Join(errs...)
	}
	newest := cps[len(cps)-1]
	from := newest
	for i := len(cps) - 2; i >= 0; i-- {
		if lg.Covers(cps[i].Position, newest.Position) {
			from = cps[i]
			break
		}
	}
	tmp, err := os.MkdirTemp("", "hourglass-verify-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(tmp)
	res, err := restoreFrom(ctx, RestoreConfig{From: dir, DataDir: filepath.Join(tmp, "data"), Logger: logger}, from, newest.Position, lg)
	if err != nil {
		return rep, err
	}
	if !equalHex(newest.Checksum, res.Checksum) {
		return rep, fmt.Errorf("%w: restoring position %d from checkpoint %d gives checksum %x, the manifest records %s", ErrBackupCorrupt, newest.Position, from.Position, res.Checksum, newest.Checksum)
	}
	rep.Replayed, rep.ReplayedFrom = true, from.Position
	return rep, nil
}

// checkBackupDir checks that dir is a backup directory of a format this
// build reads.
func checkBackupDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "FORMAT")); err != nil {
		return fmt.Errorf("node: %s is not a backup directory: %w", dir, err)
	}
	return backup.CheckFormat(dir)
}
