// Package metastore holds MetaStore implementations. Local is the
// single-node register, kept durably in Pebble. Replicated is the register
// of a cluster (3 or 5 nodes): every node runs an Acceptor on its own Pebble
// database, served over gRPC (package metastorepb), and any node reads and
// writes through a Replicated that runs single-decree Paxos per version on
// a majority of the acceptors, as Delos does:
//
//	acc, _ := metastore.NewAcceptor(db) // on every node
//	metastore.RegisterAcceptor(grpcServer, acc)
//
//	c1, closer1, _ := metastore.DialAcceptor("node1:7000") // ... one per node
//	m, _ := metastore.NewReplicated([]metastore.AcceptorClient{c1, c2, c3},
//		metastore.Config{ProposerID: nodeID})
//	value, version, err := m.Read(ctx)
//	err = m.Write(ctx, next, version)
package metastore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"

	"hourglass/internal/pebbledb"
	"hourglass/virtuallog"
)

// ErrLocalFailed: a write or fsync of Local's database failed; the
// register answers no more calls until its process restarts.
var ErrLocalFailed = errors.New("metastore: register's disk failed")

// registerKey is where Local keeps version(8 bytes, big endian) || value.
var registerKey = []byte("virtuallog/chain")

// Local is a MetaStore in one Pebble database on one node. Writes are
// fsynced before they return.
type Local struct {
	db *pebble.DB
	mu sync.Mutex // serializes conditional writes
	// failed is the write or fsync error after which the register
	// answers nothing (its database may show a chain that is not
	// durable; see pebbledb.ErrFailed).
	failed atomic.Pointer[error]
}

var _ virtuallog.MetaStore = (*Local)(nil)

// NewLocal returns a MetaStore over db. The caller keeps ownership of db and
// closes it after the last use of the store.
func NewLocal(db *pebble.DB) *Local { return &Local{db: db} }

// Failed returns the disk failure that stopped the register (it wraps
// ErrLocalFailed), nil while its disk works.
func (m *Local) Failed() error {
	if err := m.failed.Load(); err != nil {
		return *err
	}
	return nil
}

// Read implements virtuallog.MetaStore.
func (m *Local) Read(ctx context.Context) ([]byte, uint64, error) {
	if err := m.failed.Load(); err != nil {
		return nil, 0, *err
	}
	v, closer, err := m.db.Get(registerKey)
	if err == pebble.ErrNotFound {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer closer.Close()
	if len(v) < 8 {
		return nil, 0, fmt.Errorf("metastore: corrupt register of %d bytes", len(v))
	}
	return append([]byte(nil), v[8:]...), binary.BigEndian.Uint64(v), nil
}

// Write implements virtuallog.MetaStore.
func (m *Local) Write(ctx context.Context, value []byte, expected uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, version, err := m.Read(ctx)
	if err != nil {
		return err
	}
	if version != expected {
		return fmt.Errorf("%w: at %d, expected %d", virtuallog.ErrVersionMismatch, version, expected)
	}
	rec := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(value)), expected+1)
	rec = append(rec, value...)
	err = pebbledb.Write(func() error { return m.db.Set(registerKey, rec, pebble.Sync) })
	if errors.Is(err, pebbledb.ErrFailed) {
		err = fmt.Errorf("%w: %w", ErrLocalFailed, err)
		m.failed.Store(&err)
	}
	return err
}
