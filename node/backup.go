package node

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"hourglass/internal/pebbledb"
	"hourglass/loglet"
	"hourglass/loglet/backup"
	"hourglass/node/adminpb"
	"hourglass/platform"
	"hourglass/virtuallog/vlogpb"
)

// backupVoter is the LogBackup's trim vote: the log is not trimmed below
// what the backup directory holds.
const backupVoter = "backup"

// backupLogDir is the log's directory inside a backup directory.
const backupLogDir = "log"

// openBackup opens the backup directory's log for appending and votes
// that the log is kept from where the copy goes on: the position after
// the last entry copied, or, in a new backup, this node's applied
// position. It runs before the apply loop starts, so no trim can pass the
// vote meanwhile.
func (n *Node) openBackup() (*backup.Writer, platform.Position, error) {
	if err := os.MkdirAll(n.cfg.BackupDir, 0o755); err != nil {
		return nil, 0, err
	}
	if err := backup.WriteFormat(n.cfg.BackupDir); err != nil {
		return nil, 0, err
	}
	w, err := backup.OpenWriter(filepath.Join(n.cfg.BackupDir, backupLogDir), backup.WriterOptions{})
	if err != nil {
		return nil, 0, err
	}
	next, ok := w.Tail()
	run := next
	if !ok {
		next, run = n.base.Applied(), n.base.Applied()
	} else {
		// The contiguous run the copy continues starts where the last
		// range of the backup's log starts.
		l, err := backup.Open(filepath.Join(n.cfg.BackupDir, backupLogDir))
		if err != nil {
			w.Close()
			return nil, 0, err
		}
		if rs := l.Ranges(); len(rs) > 0 {
			run = rs[len(rs)-1].First
		}
	}
	n.voteBackup(next)
	n.backupRun.Store(run)
	n.backupCopied.Store(next)
	return w, next, nil
}

// backupLoop is the LogBackup: it copies every committed entry of the
// log, in order, into the backup directory (fsynced before the trim vote
// moves past it), until the node stops.
func (n *Node) backupLoop(w *backup.Writer, next platform.Position) {
	defer n.wg.Done()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-n.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	n.log.Info("copying the log to the backup directory", "dir", n.cfg.BackupDir, "from", next)
	backoff := func() bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
			return true
		}
	}
	for {
		entries, err := n.vlog.ReadNext(ctx, next, 256)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, loglet.ErrTrimmed) {
			// The log lost entries before they were copied (the backup
			// was off, or another node trimmed): go on from this node's
			// applied position, leaving a gap in the backup's log that
			// verify reports; checkpoints taken from here on cover it.
			gapEnd := n.base.Applied()
			if gapEnd <= next {
				if !backoff() {
					return
				}
				continue
			}
			n.log.Warn("the log was trimmed before the backup copied it; the backup's log has a gap", "from", next, "to", gapEnd)
			next = gapEnd
			n.backupRun.Store(next)
			continue
		}
		if err != nil {
			n.log.Warn("reading the log for the backup failed; retrying", "pos", next, "err", err)
			if !backoff() {
				return
			}
			continue
		}
		if err := w.Append(next, entries); err != nil {
			n.log.Error("writing the backup failed; retrying", "pos", next, "err", err)
			if !backoff() {
				return
			}
			continue
		}
		next += platform.Position(len(entries))
		n.backupCopied.Store(next)
		n.voteBackup(next)
		n.maybeRoll(ctx, next)
	}
}

// voteBackup votes the backup's trim point: a segment boundary at or
// below what the backup holds (so never above the active segment's
// start), so that the log is trimmed at segment boundaries only and
// every sealed segment it trims moves whole to the backup loglet (see
// archive) instead of leaving the chain.
func (n *Node) voteBackup(copied platform.Position) {
	// The start of the segment that holds what the backup has copied:
	// a trim inside it would take entries a lagging reader still needs
	// from the LogServers, before the segment can move to the backup.
	n.base.SetTrimPrefix(backupVoter, segmentStart(n.vlog, copied))
}

// backupTrimPoint is where this node's backup asks the log to be kept
// from (the backup vote as it stands now), and false without a backup
// directory; the node's views reports carry it to every member.
func (n *Node) backupTrimPoint() (platform.Position, bool) {
	if n.cfg.BackupDir == "" {
		return 0, false
	}
	return segmentStart(n.vlog, n.backupCopied.Load()), true
}

// maybeRoll ends the active segment once it holds more than LogRetain
// entries the backup has copied, so that the trim, which with a backup
// stops at segment boundaries, can move it to the backup loglet and the
// LogServers keep about twice LogRetain entries. Only the node that runs
// the active sequencer (or a single node) rolls, so the sequencer stays
// where it is; one roll runs at a time.
func (n *Node) maybeRoll(ctx context.Context, copied platform.Position) {
	chain, _ := n.vlog.Chain()
	active := chain.Segments[len(chain.Segments)-1]
	if seq := active.Loglet.Sequencer; seq != "" && seq != n.cfg.NodeID {
		return
	}
	if copied < active.Start || copied-active.Start <= n.cfg.LogRetain || !n.rolling.CompareAndSwap(false, true) {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer n.rolling.Store(false)
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		start, err := n.vlog.Reconfigure(rctx, "")
		if err != nil {
			if ctx.Err() == nil {
				n.log.Warn("rolling the log's active segment failed", "err", err)
			}
			return
		}
		n.log.Info("rolled the log's active segment for the backup", "new_segment", start)
	}()
}

// archive is the VirtualLog's Archive: a sealed segment about to be
// trimmed away stays in the chain on a backup loglet when this node's
// backup directory holds all of it (a lagging node then reads it from
// there instead of restoring a peer's checkpoint); a segment already on
// one stays, whichever node archived it.
func (n *Node) archive(seg *vlogpb.Segment, end uint64) *vlogpb.LogletConfig {
	if seg.Loglet.Kind == "backup" {
		return seg.Loglet
	}
	if n.cfg.BackupDir == "" || n.backupRun.Load() > seg.Start || n.backupCopied.Load() < end || end <= seg.Start {
		return nil
	}
	dir, err := filepath.Abs(filepath.Join(n.cfg.BackupDir, backupLogDir))
	if err != nil {
		return nil
	}
	return &vlogpb.LogletConfig{Kind: "backup", Path: dir, Base: seg.Start}
}

// restoreMarker is the file a restore leaves in a data directory: the
// log of the restored store starts at Start; when End > Start the backup
// loglet in Log (relative to the data directory) holds [Start, End) and
// the first active segment starts at End.
type restoreMarker struct {
	Format int    `json:"format"`
	Start  uint64 `json:"start"`
	End    uint64 `json:"end"`
	Log    string `json:"log,omitempty"`
}

// restoreMarkerFile is the marker's name in the data directory.
const restoreMarkerFile = "RESTORED"

// readRestoreMarker reads the data directory's restore marker; ok is
// false when there is none.
func readRestoreMarker(dataDir string) (m restoreMarker, ok bool, err error) {
	b, err := os.ReadFile(filepath.Join(dataDir, restoreMarkerFile))
	if errors.Is(err, os.ErrNotExist) {
		return m, false, nil
	}
	if err != nil {
		return m, false, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, false, fmt.Errorf("node: %s: %w", restoreMarkerFile, err)
	}
	if m.Format != backup.FormatVersion || m.End < m.Start {
		return m, false, fmt.Errorf("node: %s: format %d, [%d, %d): not one this build reads", restoreMarkerFile, m.Format, m.Start, m.End)
	}
	return m, true, nil
}

// initialSegments puts a restored data directory's backup segment (if
// any) in a new chain.
func initialSegments(m restoreMarker, c *vlogpb.Chain) {
	if m.End > m.Start {
		c.Segments = append(c.Segments, &vlogpb.Segment{Start: m.Start, Loglet: &vlogpb.LogletConfig{
			Kind: "backup", Id: c.NextLogletId, Path: m.Log, Base: m.Start,
		}})
		c.NextLogletId++
	}
}

// openBackupLoglet opens a backup loglet; a relative path is inside the
// node's data directory.
func (n *Node) openBackupLoglet(_ context.Context, cfg *vlogpb.LogletConfig, _ bool) (loglet.Loglet, error) {
	dir := cfg.Path
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(n.cfg.DataDir, dir)
	}
	return backup.OpenLoglet(dir, cfg.Base)
}

// placeBackup refuses a backup loglet as a new segment: it is made from a
// backup, sealed, and never appended to.
func placeBackup(cfg *vlogpb.LogletConfig, _ *vlogpb.Chain) error {
	return fmt.Errorf("node: loglet %d: a backup loglet is sealed; the log cannot move onto one", cfg.Id)
}

// replayLog is the log of a node that Restore runs: the log up to end
// (the backup's entries), with nothing beyond it and no appends, so the
// node's state stops exactly at end.
type replayLog struct {
	platform.Log
	end platform.Position
}

// errReplay refuses a restoring node's appends.
var errReplay = errors.New("node: restoring from a backup: the log is read-only")

func (r replayLog) Append(context.Context, platform.AppendID, [][]byte) (platform.Position, error) {
	return 0, fmt.Errorf("%w: %w", platform.ErrUnavailable, errReplay)
}

func (r replayLog) CheckTail(context.Context) (platform.Position, error) { return r.end, nil }

func (r replayLog) ReadNext(ctx context.Context, from platform.Position, max int) ([][]byte, error) {
	if from >= r.end {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	entries, err := r.Log.ReadNext(ctx, from, min(max, int(min(r.end-from, 1<<20))))
	if uint64(len(entries)) > r.end-from {
		entries = entries[:r.end-from]
	}
	return entries, err
}

func (r replayLog) PrefixTrim(context.Context, platform.Position) error { return nil }

// withCheckpoint makes a Pebble checkpoint of the LocalStore in use in a
// directory of its own under the data directory, runs f on it, and
// removes it.
func (n *Node) withCheckpoint(f func(dir string) error) error {
	var suffix [8]byte
	rand.Read(suffix[:])
	dir := filepath.Join(n.cfg.DataDir, "checkpoints", hex.EncodeToString(suffix[:]))
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := n.base.WithStore(func(db *pebble.DB) error { return db.Checkpoint(dir, pebble.WithFlushedWAL()) }); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return f(dir)
}

// Backup streams a checkpoint of the applied state to a `gateway backup
// create`: its position and checksum first, then its files, those the
// caller holds already by reference.
func (a *adminService) Backup(req *adminpb.BackupRequest, stream adminpb.Admin_BackupServer) error {
	n := a.n
	have := map[string]*adminpb.BackupFile{}
	for _, f := range req.Have {
		have[f.Name] = f
	}
	// Flushed first, the state is in table files, which the next backup
	// shares, rather than in the write-ahead log, which it cannot.
	if err := n.base.WithStore(func(db *pebble.DB) error { return db.Flush() }); err != nil {
		return err
	}
	return n.withCheckpoint(func(dir string) error {
		applied, sum, err := settleCheckpoint(dir)
		if err != nil {
			return err
		}
		n.log.Info("sending a checkpoint to a backup", "applied", applied)
		if err := stream.Send(&adminpb.BackupChunk{Applied: applied, Checksum: sum, NodeId: n.cfg.NodeID}); err != nil {
			return err
		}
		return sendFiles(dir, func(rel string, size int64) (bool, error) {
			h := have[rel]
			if h == nil || h.Size != uint64(size) {
				return false, nil
			}
			got, err := fileSHA256(filepath.Join(dir, rel))
			if err != nil || string(got) != string(h.Sha256) {
				return false, err
			}
			return true, stream.Send(&adminpb.BackupChunk{File: rel, Have: true})
		}, func(rel string, off uint64, data []byte) error {
			return stream.Send(&adminpb.BackupChunk{File: rel, Offset: off, Data: data})
		})
	})
}

// settleCheckpoint opens the checkpoint in dir, flushes what its
// write-ahead log holds into a table file (a checkpoint copies the WAL
// file whole, stale recycled bytes included), and returns its applied
// position and state digest.
func settleCheckpoint(dir string) (platform.Position, []byte, error) {
	db, err := pebbledb.Open(dir, pebbledb.Options{NoCompactions: true})
	if err != nil {
		return 0, nil, fmt.Errorf("open checkpoint: %w", err)
	}
	applied, sum, err := platform.StateDigest(db)
	if err == nil {
		err = db.Flush()
	}
	return applied, sum, errors.Join(err, db.Close())
}

// checkpointDigest opens the checkpoint in dir read-only and reads its
// applied position and state digest.
func checkpointDigest(dir string) (platform.Position, []byte, error) {
	db, err := pebbledb.Open(dir, pebbledb.Options{ReadOnly: true})
	if err != nil {
		return 0, nil, fmt.Errorf("open checkpoint: %w", err)
	}
	defer db.Close()
	return platform.StateDigest(db)
}

// fileSHA256 hashes the file at path.
func fileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
