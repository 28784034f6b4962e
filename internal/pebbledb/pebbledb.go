// Package pebbledb opens the Pebble databases a node keeps (the LogServer's
// log, the MetaStore, the LocalStore) with the node's logger and one set of
// defaults, so that every store is configured in one place.
package pebbledb

import (
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Options configures Open. The zero value opens an on-disk database with
// pebble's defaults and discards pebble's own log lines.
type Options struct {
	// FS is the filesystem; nil means the real one. Tests may pass
	// vfs.NewMem() or a fault-injecting FS.
	FS vfs.FS
	// Logger receives pebble's informational and error messages.
	Logger *slog.Logger
	// CacheBytes is the block cache size; 0 means 8 MiB.
	CacheBytes int64
	// MemTableBytes is the memtable size; 0 means pebble's default.
	MemTableBytes uint64
	// ReadOnly opens an existing database without writing to it (a
	// checkpoint, say).
	ReadOnly bool
	// NoCompactions turns automatic compactions off, so that the table
	// files stay as they are (a checkpoint's, shared with a backup).
	NoCompactions bool
}

// Open opens (creating if needed) the database in dir.
func Open(dir string, o Options) (*pebble.DB, error) {
	if o.CacheBytes == 0 {
		o.CacheBytes = 8 << 20
	}
	cache := pebble.NewCache(o.CacheBytes)
	defer cache.Unref()
	po := &pebble.Options{
		FS:                          o.FS,
		Cache:                       cache,
		Logger:                      slogAdapter{o.Logger},
		ReadOnly:                    o.ReadOnly,
		DisableAutomaticCompactions: o.NoCompactions,
	}
	if o.MemTableBytes != 0 {
		po.MemTableSize = o.MemTableBytes
	}
	// Bloom filters on every level: point lookups of absent keys (a SET of
	// a new key looks it up first) skip the tables that cannot hold them.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, fmt.Errorf("open pebble at %s: %w", dir, err)
	}
	return db, nil
}

// slogAdapter turns pebble's printf-style logging into structured records.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Infof(format string, args ...any) {
	if a.l != nil {
		a.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (a slogAdapter) Errorf(format string, args ...any) {
	if a.l != nil {
		a.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (a slogAdapter) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if a.l != nil {
		a.l.Error(msg, "component", "pebble", "fatal", true)
	}
	var cause error
	for _, a := range args {
		if e, ok := a.(error); ok {
			cause = e
			break
		}
	}
	panic(&fatalError{msg: msg, err: cause})
}
