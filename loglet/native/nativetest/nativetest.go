// Package nativetest runs in-process LogServers for the tests of the
// native loglet and of the loglets built on it. Each LogServer lives on a
// crashable in-memory filesystem, so a test can throw away everything that
// was not fsynced.
package nativetest

import (
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"

	"hourglass/internal/pebbledb"
	"hourglass/loglet/native"
)

// Server is one LogServer and the filesystem it stores on.
type Server struct {
	FS     *vfs.MemFS
	Server *native.LogServer
}

// Open opens a LogServer on fs (vfs.NewCrashableMem() for a new one). It
// is closed when the test ends, if the test did not close it before.
func Open(t testing.TB, fs *vfs.MemFS) *Server {
	t.Helper()
	return &Server{FS: fs, Server: open(t, "log", pebbledb.Options{FS: fs})}
}

// open opens a LogServer on a new Pebble database; it is closed when the
// test ends.
func open(t testing.TB, dir string, o pebbledb.Options) *native.LogServer {
	t.Helper()
	db, err := pebbledb.Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	s, err := native.OpenLogServer(db, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Crash returns a LogServer over only the data s had synced; s is shut
// down afterwards (its later writes go to the discarded filesystem).
func (s *Server) Crash(t testing.TB) *Server {
	t.Helper()
	clone := s.FS.CrashClone(vfs.CrashCloneCfg{})
	s.Server.Close()
	return Open(t, clone)
}

// OpenOnDisk opens a LogServer on the real filesystem in dir, so that its
// fsyncs are real (for benchmarks). It is closed when the test ends.
func OpenOnDisk(t testing.TB, dir string) *native.LogServer {
	t.Helper()
	return open(t, dir, pebbledb.Options{})
}
