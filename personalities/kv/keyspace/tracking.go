package keyspace

import "bytes"

// Client-side caching: a node whose clients track keys (CLIENT TRACKING)
// must learn which keys every applied command changed, to send them
// invalidations. The keyspace notes a key wherever it stamps a record
// with a new version (put and remove, the same points WATCH sees), and
// notes a flush for FLUSHDB and FLUSHALL, as Redis's signalModifiedKey
// and signalFlushedDb call into its tracking. The notes go to
// Effects.Invalidated, and only while the node's TrackingObserver says
// that somebody there tracks: with nobody tracking, noting costs one
// comparison.

// TrackingObserver is an optional ability of Effects.Observers: whether
// a client of this node tracks keys. Like Observers, its answer shapes
// only what is noted, never what apply writes.
type TrackingObserver interface {
	Tracking() bool
}

// Invalidation is a change client-side caches must hear of: a key
// written, or every key (Key nil) for a flush. Origin is the
// Effects.Origin of the command that made it.
type Invalidation struct {
	Key    []byte
	Origin int64
}

// tracking reports whether the node's observers ask for invalidations.
func (fx *Effects) trackingWanted() bool {
	o, ok := fx.Observers.(TrackingObserver)
	return ok && o.Tracking()
}

// noteWritten records that key changed, if the node tracks keys. The
// database does not matter: Redis's tracking table knows key names only.
func (fx *Effects) noteWritten(key []byte) {
	if fx != nil && fx.tracking {
		fx.Invalidated = append(fx.Invalidated, Invalidation{bytes.Clone(key), fx.Origin})
	}
}

// noteFlushed records that every key may have changed.
func (fx *Effects) noteFlushed() {
	if fx != nil && fx.tracking {
		fx.Invalidated = append(fx.Invalidated, Invalidation{nil, fx.Origin})
	}
}
