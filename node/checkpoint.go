package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"hourglass/internal/pebbledb"
	"hourglass/node/adminpb"
	"hourglass/platform"
)

// checkpointChunk is the size of the pieces a checkpoint travels in.
const checkpointChunk = 1 << 20

// Checkpoint streams a consistent copy of this node's applied state (a
// Pebble checkpoint of the LocalStore, applied cursor included).
func (p *peerService) Checkpoint(_ *adminpb.CheckpointRequest, stream adminpb.Peer_CheckpointServer) error {
	return p.n.withCheckpoint(func(dir string) error {
		p.n.log.Info("sending a checkpoint to a peer", "dir", dir)
		return sendFiles(dir, nil, func(rel string, off uint64, data []byte) error {
			return stream.Send(&adminpb.CheckpointChunk{File: rel, Offset: off, Data: data})
		})
	})
}

// sendFiles sends every file under dir in chunks (a file's first chunk
// has offset 0, an empty file one empty chunk). skip, if set, is asked
// first about each file (its path relative to dir, its size): a file it
// takes care of is not sent.
func sendFiles(dir string, skip func(rel string, size int64) (bool, error), send func(rel string, off uint64, data []byte) error) error {
	buf := make([]byte, checkpointChunk)
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if skip != nil {
			info, err := d.Info()
			if err != nil {
				return err
			}
			if done, err := skip(rel, info.Size()); done || err != nil {
				return err
			}
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		var off uint64
		for {
			k, err := io.ReadFull(f, buf)
			if k > 0 || off == 0 {
				if err := send(rel, off, buf[:k]); err != nil {
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

// restore is the BaseEngine's Restore: the log was trimmed past this
// node's applied state (it was down, or cut off, for long), so it replaces
// the LocalStore with a checkpoint from the first peer that gives one.
func (n *Node) restore(ctx context.Context, old *pebble.DB) (*pebble.DB, error) {
	chain, _ := n.vlog.Chain()
	var errs []error
	for _, m := range chain.Members {
		if m.Id == n.cfg.NodeID {
			continue
		}
		db, err := n.restoreFrom(ctx, m.Id, old)
		if err == nil {
			return db, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", m.Id, err))
		old = db
	}
	return old, fmt.Errorf("node: no peer gave a checkpoint: %w", errors.Join(errs...))
}

// restoreFrom copies peer id's checkpoint into place as this node's
// LocalStore, closing old; it returns the store to use from then on (the
// old one, reopened, if anything failed).
func (n *Node) restoreFrom(ctx context.Context, id string, old *pebble.DB) (*pebble.DB, error) {
	tmp := filepath.Join(n.cfg.DataDir, "store.restore")
	bytes, err := n.fetchCheckpoint(ctx, id, tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return old, err
	}
	// Swap the stores: the old one goes aside until the new one opens.
	store := filepath.Join(n.cfg.DataDir, "store")
	aside := filepath.Join(n.cfg.DataDir, "store.old")
	open := func() (*pebble.DB, error) {
		return pebbledb.Open(store, pebbledb.Options{FS: n.cfg.FS, Logger: n.log.With("db", "store"), CacheBytes: n.cfg.StoreCacheBytes})
	}
	if err := old.Close(); err != nil {
		return old, err
	}
	os.RemoveAll(aside)
	if err := os.Rename(store, aside); err != nil {
		db, rerr := open()
		return db, errors.Join(err, rerr)
	}
	if err := os.Rename(tmp, store); err != nil {
		os.Rename(aside, store)
		db, rerr := open()
		return db, errors.Join(err, rerr)
	}
	db, err := open()
	if err != nil {
		os.RemoveAll(store)
		os.Rename(aside, store)
		db, rerr := open()
		return db, errors.Join(err, rerr)
	}
	os.RemoveAll(aside)
	applied, _ := platform.AppliedPosition(db)
	n.log.Info("restored the applied state from a peer's checkpoint", "peer", id, "bytes", bytes, "applied", applied)
	return db, nil
}

// fetchCheckpoint downloads peer id's checkpoint into dir.
func (n *Node) fetchCheckpoint(ctx context.Context, id, dir string) (int64, error) {
	addr, err := n.resolve(id)
	if err != nil {
		return 0, err
	}
	c, err := n.conns.get(addr)
	if err != nil {
		return 0, err
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	stream, err := adminpb.NewPeerClient(c).Checkpoint(cctx, &adminpb.CheckpointRequest{})
	if err != nil {
		return 0, err
	}
	if err := os.RemoveAll(dir); err != nil {
		return 0, err
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
			return 0, err
		}
		rel := filepath.Clean(chunk.File)
		if !filepath.IsLocal(rel) {
			return 0, fmt.Errorf("checkpoint file %q escapes the directory", chunk.File)
		}
		f := files[rel]
		if f == nil {
			path := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return 0, err
			}
			if f, err = os.Create(path); err != nil {
				return 0, err
			}
			files[rel] = f
		}
		if _, err := f.WriteAt(chunk.Data, int64(chunk.Offset)); err != nil {
			return 0, err
		}
		bytes += int64(len(chunk.Data))
	}
	for rel, f := range files {
		if err := f.Sync(); err != nil {
			return 0, err
		}
		f.Close()
		delete(files, rel)
	}
	return bytes, nil
}
