package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"hourglass/internal/pebbledb"
	"hourglass/loglet"
	"hourglass/platform"
	"hourglass/platform/node/adminpb"
)

// checkpointChunk is the size of the pieces a checkpoint travels in.
const checkpointChunk = 1 << 20

// Checkpoint streams a consistent copy of this node's applied state (a
// Pebble checkpoint of the LocalStore, applied cursor included).
func (p *peerService) Checkpoint(_ *adminpb.CheckpointRequest, stream adminpb.Peer_CheckpointServer) error {
	n := p.n
	var suffix [8]byte
	rand.Read(suffix[:])
	dir := filepath.Join(n.cfg.DataDir, "checkpoints", hex.EncodeToString(suffix[:]))
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := n.storeDB.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	n.log.Info("sending a checkpoint to a peer", "dir", dir)
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		buf := make([]byte, checkpointChunk)
		var off uint64
		for {
			k, err := io.ReadFull(f, buf)
			if k > 0 || off == 0 {
				if err := stream.Send(&adminpb.CheckpointChunk{File: rel, Offset: off, Data: buf[:k]}); err != nil {
					return err
				}
				off += uint64(k)
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	})
}

// catchUp makes sure the log still holds what this node has not applied.
// If the log was trimmed past the node's applied position (it was down
// for long), it replaces the LocalStore with a checkpoint from a peer,
// which resumes applying from the checkpoint's cursor.
func (n *Node) catchUp(ctx context.Context) error {
	if !n.cfg.Ensemble() {
		return nil // a single node never trims below what it has applied
	}
	for attempt := 0; ; attempt++ {
		trimmed, err := n.missingPrefix(ctx)
		if err != nil || !trimmed {
			return err
		}
		if attempt == 3 {
			return errors.New("node: the log is still trimmed past the restored checkpoints")
		}
		chain, _ := n.vlog.Chain()
		var errs []error
		restored := false
		for _, m := range chain.Members {
			if m.Id == n.cfg.NodeID {
				continue
			}
			if err := n.restoreFrom(ctx, m.Id); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", m.Id, err))
				continue
			}
			restored = true
			break
		}
		if !restored {
			return fmt.Errorf("node: log trimmed past this node's state and no peer gave a checkpoint: %w", errors.Join(errs...))
		}
	}
}

// missingPrefix reports whether the log was trimmed past this node's
// applied position.
func (n *Node) missingPrefix(ctx context.Context) (bool, error) {
	applied, err := platform.AppliedPosition(n.storeDB)
	if err != nil {
		return false, err
	}
	tail, err := n.vlog.CheckTail(ctx)
	if err != nil {
		return false, err
	}
	if applied >= tail {
		return false, nil
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = n.vlog.ReadNext(cctx, applied, 1)
	switch {
	case errors.Is(err, loglet.ErrTrimmed):
		n.log.Warn("the log was trimmed past this node's applied position", "applied", applied, "tail", tail)
		return true, nil
	case err == nil:
		return false, nil
	}
	return false, err
}

// restoreFrom copies peer id's checkpoint into place as this node's
// LocalStore.
func (n *Node) restoreFrom(ctx context.Context, id string) error {
	addr, err := n.resolve(id)
	if err != nil {
		return err
	}
	c, err := n.conns.get(addr)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	stream, err := adminpb.NewPeerClient(c).Checkpoint(cctx, &adminpb.CheckpointRequest{})
	if err != nil {
		return err
	}
	tmp := filepath.Join(n.cfg.DataDir, "store.restore")
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	files := map[string]*os.File{}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	var bytes int64
	for {
		chunk, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		rel := filepath.Clean(chunk.File)
		if filepath.IsAbs(rel) || rel == ".." || len(rel) > 2 && rel[:3] == "../" {
			return fmt.Errorf("checkpoint file %q escapes the directory", chunk.File)
		}
		f := files[rel]
		if f == nil {
			path := filepath.Join(tmp, rel)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if f, err = os.Create(path); err != nil {
				return err
			}
			files[rel] = f
		}
		if _, err := f.WriteAt(chunk.Data, int64(chunk.Offset)); err != nil {
			return err
		}
		bytes += int64(len(chunk.Data))
	}
	for rel, f := range files {
		if err := f.Sync(); err != nil {
			return err
		}
		f.Close()
		delete(files, rel)
	}
	// Swap the stores: the old one goes aside until the new one opens.
	store := filepath.Join(n.cfg.DataDir, "store")
	old := filepath.Join(n.cfg.DataDir, "store.old")
	if err := n.storeDB.Close(); err != nil {
		return err
	}
	n.storeDB = nil
	os.RemoveAll(old)
	open := func() (*pebble.DB, error) {
		return pebbledb.Open(store, pebbledb.Options{Logger: n.log.With("db", "store"), CacheBytes: n.cfg.StoreCacheBytes})
	}
	swap := func() error {
		if err := os.Rename(store, old); err != nil {
			return err
		}
		if err := os.Rename(tmp, store); err != nil {
			os.Rename(old, store)
			return err
		}
		return nil
	}
	if err := swap(); err != nil {
		if db, rerr := open(); rerr == nil {
			n.storeDB = db
		}
		return err
	}
	db, err := open()
	if err != nil {
		// Put the old store back so that the node can try another peer.
		os.RemoveAll(store)
		os.Rename(old, store)
		if db, rerr := open(); rerr == nil {
			n.storeDB = db
		}
		return err
	}
	n.storeDB = db
	os.RemoveAll(old)
	applied, _ := platform.AppliedPosition(db)
	n.log.Info("restored the applied state from a peer's checkpoint", "peer", id, "bytes", bytes, "applied", applied)
	return nil
}
