// Package faultfs wraps a Pebble filesystem (vfs.FS) with the disk faults
// the tests inject into LogServers, MetaStore acceptors and stores: a full
// disk, whose writes fail with ENOSPC while it is full, and fsyncs that
// fail with EIO. A fault is switched by a function the test controls, so
// it can come and go while the database is open:
//
//	var full atomic.Bool
//	db, _ := pebbledb.Open("log", pebbledb.Options{FS: faultfs.DiskFull(vfs.NewMem(), full.Load)})
//	full.Store(true) // every write fails with ENOSPC from here on
//
// FromEnv is gateway serve's test-only hook: the environment variable
// EnvDiskFull names a file, and the node's disk is full while it exists.
package faultfs

import (
	"os"
	"syscall"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/cockroachdb/pebble/v2/vfs/errorfs"
)

// EnvDiskFull is the environment variable of gateway serve's test-only
// disk-full hook: while the file it names exists, every write of the
// node's databases fails with ENOSPC. It is meant for tests of the
// full-disk behaviour and nothing else.
const EnvDiskFull = "HOURGLASS_TEST_DISK_FULL_WHILE"

// DiskFull returns fs whose writes fail with syscall.ENOSPC while full
// reports true: file creation, writes, preallocation and fsyncs (a
// filesystem may report a full disk only at fsync, when it allocates
// delayed blocks). Reads, renames and removals go on, as they do on a
// full disk. full is called on every such operation and must be safe for
// concurrent use.
func DiskFull(fs vfs.FS, full func() bool) vfs.FS {
	return errorfs.Wrap(fs, errorfs.InjectorFunc(func(op errorfs.Op) error {
		switch op.Kind {
		case errorfs.OpCreate, errorfs.OpReuseForWrite, errorfs.OpFileWrite, errorfs.OpFileWriteAt,
			errorfs.OpFilePreallocate, errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo:
		default:
			return nil
		}
		if !full() {
			return nil
		}
		return &os.PathError{Op: "write", Path: op.Path, Err: syscall.ENOSPC}
	}))
}

// FailSync returns fs whose fsyncs fail with syscall.EIO while fail
// reports true, as a disk's failed writeback surfaces. fail must be safe
// for concurrent use.
func FailSync(fs vfs.FS, fail func() bool) vfs.FS {
	return errorfs.Wrap(fs, errorfs.InjectorFunc(func(op errorfs.Op) error {
		switch op.Kind {
		case errorfs.OpFileSync, errorfs.OpFileSyncData, errorfs.OpFileSyncTo:
		default:
			return nil
		}
		if !fail() {
			return nil
		}
		return &os.PathError{Op: "fsync", Path: op.Path, Err: syscall.EIO}
	}))
}

// FromEnv returns the filesystem gateway serve's databases use: nil (the
// real one) normally; the real one with a full disk while the file named
// by EnvDiskFull exists, when that variable is set.
func FromEnv() vfs.FS {
	path := os.Getenv(EnvDiskFull)
	if path == "" {
		return nil
	}
	return DiskFull(vfs.Default, func() bool {
		_, err := os.Stat(path)
		return err == nil
	})
}
