// Package virtuallog is the VirtualLog: one shared log made of a chain of
// loglet segments, kept in a MetaStore. Only the last segment accepts
// appends; positions are global and never reused, and readers cross segment
// boundaries transparently.
//
// Reconfiguration is how everything about the log changes (loglet type,
// sequencer, servers): seal the active loglet, take its tail as the start of
// a new segment, and write the extended chain conditionally. Any client can
// finish a reconfiguration another began, and an append that meets a sealed
// loglet follows the chain to its successor and retries there.
//
//	vl, err := virtuallog.Open(ctx, virtuallog.Config{Meta: m, Provider: p, Initial: cfg})
//	pos, err := vl.Append(ctx, id, [][]byte{entry})
//	start, err := vl.Reconfigure(ctx, nil) // move to a fresh loglet of the same kind
package virtuallog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"hourglass/loglet"
	"hourglass/virtuallog/vlogpb"
)

// Provider opens loglets named in the chain. It owns the handles it returns
// (one per loglet per process, so that a loglet never has two sequencers in
// one process) and closes them in Drop or when it is itself shut down.
type Provider interface {
	// Open returns the loglet cfg names, opening it on first use.
	Open(ctx context.Context, cfg *vlogpb.LogletConfig) (loglet.Loglet, error)
	// Fresh fills in a config for a new loglet of the given kind ("" for
	// the provider's default) with the given id, placed according to
	// chain (the chain it will join: its members and log servers).
	Fresh(kind string, id uint64, chain *vlogpb.Chain) (*vlogpb.LogletConfig, error)
	// Drop closes the handle of a loglet that left the chain.
	Drop(cfg *vlogpb.LogletConfig)
}

// Config configures a VirtualLog.
type Config struct {
	Meta     MetaStore
	Provider Provider
	// InitialKind is the loglet kind of the first segment when the
	// MetaStore holds no chain yet ("" for the provider's default).
	InitialKind string
	// Initial, if set, fills in the first chain's membership before it is
	// written (only when the MetaStore holds no chain yet). It may also
	// put sealed segments in it (a backup loglet holding the log below
	// InitialStart): they end where the first active segment starts.
	Initial func(*vlogpb.Chain)
	// InitialStart is the position the first active segment starts at
	// when the MetaStore holds no chain yet: 0 for a new log, or the
	// position a LocalStore restored from a backup has applied up to.
	InitialStart uint64
	// Archive, if set, is asked by PrefixTrim about each sealed segment
	// [seg.Start, end) it would drop: a loglet config that holds the
	// same entries elsewhere (a backup's copy) keeps the segment in the
	// chain on that loglet, readable after the trim; nil lets it go. A
	// segment already archived is kept by returning its own config; a
	// new config gets a fresh loglet id from the chain. Only segments
	// that reach the first kept one without a gap stay, so the chain
	// stays contiguous.
	Archive func(seg *vlogpb.Segment, end uint64) *vlogpb.LogletConfig
	Logger  *slog.Logger
	// SealWait is how long an appender that finds the active loglet
	// sealed waits for the sealer to install a successor before finishing
	// the reconfiguration itself. 0 means 200ms.
	SealWait time.Duration
}

// VirtualLog is a client of the shared log. It is safe for concurrent use.
type VirtualLog struct {
	meta     MetaStore
	provider Provider
	log      *slog.Logger
	sealWait time.Duration
	archive  func(*vlogpb.Segment, uint64) *vlogpb.LogletConfig

	mu struct {
		sync.Mutex
		chain   *vlogpb.Chain
		version uint64
		// changed is closed and replaced when the cached chain changes.
		changed chan struct{}
	}
	// reconfigMu keeps one local reconfiguration at a time; others that
	// arrive meanwhile adopt its result.
	reconfigMu sync.Mutex
	// failovers counts the reconfigurations this client made because
	// the active loglet failed.
	failovers atomic.Uint64
	// storageTried is when (UnixNano) an append last tried to replace a
	// loglet whose servers' disks failed (see storageFailover).
	storageTried atomic.Int64
}

// sealedReadWait bounds one read of a sealed segment, after which the
// reader re-reads the chain before it tries again.
const sealedReadWait = 2 * time.Second

// storageRetry is how often appends try to replace a loglet too many of
// whose servers' disks failed.
const storageRetry = time.Second

// Failovers returns how many times this client replaced a failed active
// loglet (its reconfiguration won).
func (v *VirtualLog) Failovers() uint64 { return v.failovers.Load() }

// Open returns a VirtualLog over cfg.Meta, creating the first segment if
// the MetaStore is empty.
func Open(ctx context.Context, cfg Config) (*VirtualLog, error) {
	if cfg.Meta == nil || cfg.Provider == nil {
		return nil, errors.New("virtuallog: Meta and Provider are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.SealWait == 0 {
		cfg.SealWait = 200 * time.Millisecond
	}
	v := &VirtualLog{meta: cfg.Meta, provider: cfg.Provider, log: cfg.Logger, sealWait: cfg.SealWait, archive: cfg.Archive}
	v.mu.changed = make(chan struct{})
	for {
		chain, version, err := v.refresh(ctx)
		if err != nil {
			return nil, err
		}
		if len(chain.Segments) > 0 {
			return v, nil
		}
		// Initial may take loglet ids (for the sealed segments it adds)
		// from the counter before the first active loglet takes its own.
		init := &vlogpb.Chain{NextLogletId: 1}
		if cfg.Initial != nil {
			cfg.Initial(init)
		}
		first, err := cfg.Provider.Fresh(cfg.InitialKind, init.NextLogletId, init)
		if err != nil {
			return nil, err
		}
		init.NextLogletId++
		init.Segments = append(init.Segments, &vlogpb.Segment{Start: cfg.InitialStart, Loglet: first})
		if err := v.write(ctx, init, version); err != nil && !errors.Is(err, ErrVersionMismatch) {
			return nil, err
		}
	}
}

// Chain returns a copy of the most recently read chain and its version.
func (v *VirtualLog) Chain() (*vlogpb.Chain, uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return proto.Clone(v.mu.chain).(*vlogpb.Chain), v.mu.version
}

// ReadChain reads the chain from the MetaStore (rather than the cached
// one Chain returns) and returns a copy of it and its version.
func (v *VirtualLog) ReadChain(ctx context.Context) (*vlogpb.Chain, uint64, error) {
	if _, _, err := v.refresh(ctx); err != nil {
		return nil, 0, err
	}
	chain, version := v.Chain()
	return chain, version, nil
}

func (v *VirtualLog) cached() (*vlogpb.Chain, uint64, chan struct{}) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.mu.chain, v.mu.version, v.mu.changed
}

// refresh re-reads the chain from the MetaStore.
func (v *VirtualLog) refresh(ctx context.Context) (*vlogpb.Chain, uint64, error) {
	raw, version, err := v.meta.Read(ctx)
	if err != nil {
		return nil, 0, err
	}
	chain := &vlogpb.Chain{}
	if err := proto.Unmarshal(raw, chain); err != nil {
		return nil, 0, fmt.Errorf("virtuallog: decode chain: %w", err)
	}
	v.install(chain, version)
	chain, version, _ = v.cached()
	return chain, version, nil
}

// install caches chain if it is newer than the cached one.
func (v *VirtualLog) install(chain *vlogpb.Chain, version uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.mu.chain != nil && version <= v.mu.version {
		return
	}
	v.mu.chain, v.mu.version = chain, version
	close(v.mu.changed)
	v.mu.changed = make(chan struct{})
}

// write conditionally writes chain over version and caches it on success.
func (v *VirtualLog) write(ctx context.Context, chain *vlogpb.Chain, version uint64) error {
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(chain)
	if err != nil {
		return err
	}
	if err := v.meta.Write(ctx, raw, version); err != nil {
		return err
	}
	v.install(chain, version+1)
	return nil
}

func active(chain *vlogpb.Chain) *vlogpb.Segment { return chain.Segments[len(chain.Segments)-1] }

// activeLoglet returns the cached chain's active segment and its loglet.
func (v *VirtualLog) activeLoglet(ctx context.Context) (*vlogpb.Segment, loglet.Loglet, error) {
	chain, _, _ := v.cached()
	seg := active(chain)
	l, err := v.provider.Open(ctx, seg.Loglet)
	return seg, l, err
}

// Append appends entries to the active segment and returns the global
// position of the first. If the active loglet is sealed, Append follows the
// chain to the successor (finishing the reconfiguration if its initiator
// stalls) and retries there with the same id. Errors other than sealed are
// returned as the loglet reported them (loglet.ErrOutcomeUnknown among
// them).
func (v *VirtualLog) Append(ctx context.Context, id loglet.AppendID, entries [][]byte) (uint64, error) {
	for {
		seg, l, err := v.activeLoglet(ctx)
		if err != nil {
			return 0, err
		}
		p, err := l.Append(ctx, id, entries)
		var ue *loglet.OutcomeUnknownError
		switch {
		case err == nil:
			return seg.Start + p, nil
		case errors.As(err, &ue):
			// Sealed mid-way: the chain's boundary settles it.
			pos, in, err := v.settle(ctx, seg, ue)
			if err != nil {
				return 0, err
			}
			if in {
				return pos, nil
			}
			v.log.Debug("append settled outside the sealed segment; retrying", "id", id, "first", ue.First, "loglet", seg.Loglet.Id)
		case errors.Is(err, loglet.ErrSealed):
			v.log.Debug("append met a sealed loglet; retrying", "id", id, "loglet", seg.Loglet.Id, "err", err)
			if err := v.awaitSuccessor(ctx, seg); err != nil {
				return 0, err
			}
		case errors.Is(err, loglet.ErrStorageFailed) && !errors.Is(err, loglet.ErrOutcomeUnknown):
			if !v.storageFailover(ctx, seg, err) {
				return 0, err
			}
		case errors.Is(err, loglet.ErrUnavailable) && !errors.Is(err, loglet.ErrOutcomeUnknown):
			// Nothing was appended, and the loglet cannot take appends
			// (its sequencer is gone): replace it, then retry.
			if err := v.failover(ctx, seg, err); err != nil {
				return 0, err
			}
		default:
			return 0, err
		}
	}
}

// settle decides an append that seg's loglet was sealed in the middle of:
// once the chain has a successor, the entries are in the log exactly if
// they lie below the successor's start. in=false means they are not, and
// the append may be retried on the successor.
func (v *VirtualLog) settle(ctx context.Context, seg *vlogpb.Segment, ue *loglet.OutcomeUnknownError) (pos uint64, in bool, err error) {
	if err := v.awaitSuccessor(ctx, seg); err != nil {
		return 0, false, err
	}
	chain, _, _ := v.cached()
	var end uint64
	for i, s := range chain.Segments {
		if s.Loglet.Id == seg.Loglet.Id && i+1 < len(chain.Segments) {
			end = chain.Segments[i+1].Start
		}
	}
	first, last := seg.Start+ue.First, seg.Start+ue.First+uint64(ue.N)
	switch {
	case end == 0:
		return 0, false, ue // the segment was trimmed away meanwhile: cannot tell
	case last <= end:
		return first, true, nil
	case first >= end:
		return 0, false, nil
	}
	return 0, false, ue // straddles the boundary: cannot be, but do not guess
}

// failover replaces the active loglet seg, which refused an append as
// unavailable, unless someone already did. A short random pause first lets
// one of the nodes that noticed win without a fight.
// storageFailover handles an append that seg's loglet refused because
// fewer than a quorum of its servers can write (their disks failed):
// nothing was appended. The loglet is replaced, which its seal allows
// only once a quorum of servers writes again (restarted once their disks
// work); until then the append fails with the storage error, and such
// attempts are made at most once per storageRetry. It reports whether
// the append may be retried on a successor.
func (v *VirtualLog) storageFailover(ctx context.Context, seg *vlogpb.Segment, cause error) bool {
	now := time.Now().UnixNano()
	last := v.storageTried.Load()
	if now-last < int64(storageRetry) || !v.storageTried.CompareAndSwap(last, now) {
		return false
	}
	if err := v.failover(ctx, seg, cause); err != nil {
		v.log.Warn("cannot replace a loglet whose servers' disks failed; appends fail until they restart", "loglet", seg.Loglet.Id, "err", err)
		return false
	}
	return true
}

func (v *VirtualLog) failover(ctx context.Context, seg *vlogpb.Segment, cause error) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(rand.Int64N(int64(20 * time.Millisecond)))):
	}
	chain, _, err := v.refresh(ctx)
	if err != nil {
		return err
	}
	if active(chain).Loglet.Id != seg.Loglet.Id {
		return nil
	}
	v.log.Warn("active loglet unavailable; reconfiguring", "loglet", seg.Loglet.Id, "cause", cause)
	_, won, err := v.change(ctx, Change{Kind: seg.Loglet.Kind}, seg.Loglet.Id)
	if won {
		v.failovers.Add(1)
	}
	return err
}

// CheckTail returns the global tail: every append acknowledged before the
// call lies below it.
func (v *VirtualLog) CheckTail(ctx context.Context) (uint64, error) {
	for {
		seg, l, err := v.activeLoglet(ctx)
		if err != nil {
			return 0, err
		}
		tail, sealed, err := l.CheckTail(ctx)
		if err != nil {
			return 0, err
		}
		if !sealed {
			return seg.Start + tail, nil
		}
		// Sealed: a successor may hold later appends. If the MetaStore
		// has none, no append can have been acknowledged beyond the seal.
		newer, _, err := v.refresh(ctx)
		if err != nil {
			return 0, err
		}
		if active(newer).Loglet.Id == seg.Loglet.Id {
			return seg.Start + tail, nil
		}
	}
}

// locate returns the segment holding global position pos and the end of
// that segment (the next segment's start, or 0 with last=true).
func locate(chain *vlogpb.Chain, pos uint64) (seg *vlogpb.Segment, end uint64, last bool, ok bool) {
	segs := chain.Segments
	if pos < segs[0].Start {
		return nil, 0, false, false
	}
	for i := len(segs) - 1; i >= 0; i-- {
		if pos >= segs[i].Start {
			if i == len(segs)-1 {
				return segs[i], 0, true, true
			}
			return segs[i], segs[i+1].Start, false, true
		}
	}
	return nil, 0, false, false
}

// ReadNext returns up to max committed entries from global position from,
// never crossing a segment boundary in one call. It blocks until from is
// committed or ctx is done, and returns loglet.ErrTrimmed below the trim
// point.
func (v *VirtualLog) ReadNext(ctx context.Context, from uint64, max int) ([][]byte, error) {
	if max <= 0 {
		max = 1
	}
	for {
		chain, _, _ := v.cached()
		seg, end, last, ok := locate(chain, from)
		if !ok {
			return nil, loglet.ErrTrimmed
		}
		n := max
		if !last && uint64(n) > end-from {
			n = int(end - from)
		}
		l, err := v.provider.Open(ctx, seg.Loglet)
		if err != nil {
			return nil, err
		}
		var entries [][]byte
		if hr, ok := l.(loglet.HintedReader); ok && !last {
			// The chain fixes this sealed segment's end: everything
			// below it is committed. A read no server answers in time
			// looks at the chain again: the segment may have moved to
			// another loglet (rehomed, archived).
			rctx, cancel := context.WithTimeout(ctx, sealedReadWait)
			entries, err = hr.ReadNextCommitted(rctx, from-seg.Start, n, end-seg.Start)
			cancel()
			if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				if _, _, err := v.refresh(ctx); err != nil {
					return nil, err
				}
				continue
			}
		} else {
			entries, err = l.ReadNext(ctx, from-seg.Start, n)
		}
		switch {
		case err == nil:
			return entries, nil
		case errors.Is(err, loglet.ErrSealed) && last:
			// The active segment was sealed at or below from; wait for
			// its successor to appear in the chain.
			if err := v.awaitSuccessor(ctx, seg); err != nil {
				return nil, err
			}
		case errors.Is(err, loglet.ErrUnavailable) && last:
			// The active loglet cannot say what is committed (its
			// sequencer is gone): replace it, which fixes its end.
			if err := v.failover(ctx, seg, err); err != nil {
				return nil, err
			}
		case errors.Is(err, loglet.ErrTrimmed):
			// A trim may have moved the segment to another loglet (an
			// archive) since this client read the chain: read it there.
			newer, _, rerr := v.refresh(ctx)
			if rerr != nil {
				return nil, err
			}
			if now, _, _, ok := locate(newer, from); !ok || now.Loglet.Id == seg.Loglet.Id {
				return nil, err
			}
		default:
			return nil, err
		}
	}
}

// awaitSuccessor returns once the chain holds a segment after seg (whose
// loglet is sealed). It re-reads the MetaStore, also waking on local chain
// changes, and if no successor appears within sealWait (the sealer stalled
// or died) it installs one itself.
func (v *VirtualLog) awaitSuccessor(ctx context.Context, seg *vlogpb.Segment) error {
	deadline := time.Now().Add(v.sealWait)
	backoff := 100 * time.Microsecond
	for {
		chain, _, err := v.refresh(ctx)
		if err != nil {
			return err
		}
		if active(chain).Loglet.Id != seg.Loglet.Id {
			return nil
		}
		if time.Now().After(deadline) {
			v.log.Warn("active loglet sealed without successor; finishing the reconfiguration", "loglet", seg.Loglet.Id)
			_, _, err := v.change(ctx, Change{Kind: seg.Loglet.Kind}, seg.Loglet.Id)
			return err
		}
		_, _, changed := v.cached()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 10*time.Millisecond)
	}
}

// Change describes a reconfiguration.
type Change struct {
	// Kind is the loglet kind of the new segment; "" keeps the active
	// segment's.
	Kind string
	// Edit, if set, changes the chain (its members, its log servers) in
	// the same conditional write that installs the new segment, whose
	// loglet is placed according to the edited chain.
	Edit func(*vlogpb.Chain) error
}

// Reconfigure seals the active loglet and extends the chain with a fresh
// loglet of the given kind ("" keeps the active kind), returning the new
// segment's start. If another client reconfigured concurrently, the loser
// adopts the winner's chain and returns its new segment's start.
func (v *VirtualLog) Reconfigure(ctx context.Context, kind string) (uint64, error) {
	start, _, err := v.change(ctx, Change{Kind: kind}, 0)
	return start, err
}

// Change reconfigures as c describes (see Reconfigure). Unlike a plain
// reconfiguration, a change that loses a race to another is applied again
// on top of the winner's chain, so its edit is never lost.
func (v *VirtualLog) Change(ctx context.Context, c Change) (uint64, error) {
	for {
		start, won, err := v.change(ctx, c, 0)
		if err != nil || won || c.Edit == nil {
			return start, err
		}
		// Someone else's reconfiguration won: apply the edit again on
		// top of theirs.
	}
}

// change is Change; if only is non-zero it moves on only from the loglet
// with that id, and returns at once if the chain has moved past it. won
// reports whether this call's chain was written (rather than another's
// adopted).
func (v *VirtualLog) change(ctx context.Context, c Change, only uint64) (start uint64, won bool, err error) {
	v.reconfigMu.Lock()
	defer v.reconfigMu.Unlock()
	chain, version, err := v.refresh(ctx)
	if err != nil {
		return 0, false, err
	}
	seg := active(chain)
	if only != 0 && seg.Loglet.Id != only {
		return seg.Start, false, nil
	}
	for {
		l, err := v.provider.Open(ctx, seg.Loglet)
		if err != nil {
			return 0, false, err
		}
		// 1. Seal; Seal returns the tail at which the loglet froze, which
		//    CheckTail would report from now on.
		tail, err := l.Seal(ctx)
		if err != nil {
			return 0, false, fmt.Errorf("virtuallog: seal loglet %d: %w", seg.Loglet.Id, err)
		}
		next := proto.Clone(chain).(*vlogpb.Chain)
		if c.Edit != nil {
			if err := c.Edit(next); err != nil {
				return 0, false, err
			}
		}
		k := c.Kind
		if k == "" {
			k = seg.Loglet.Kind
		}
		fresh, err := v.provider.Fresh(k, chain.NextLogletId, next)
		if err != nil {
			return 0, false, err
		}
		// 2. Conditionally write chain i+1 over chain i.
		start := seg.Start + tail
		next.Segments = append(next.Segments, &vlogpb.Segment{Start: start, Loglet: fresh})
		next.NextLogletId++
		err = v.write(ctx, next, version)
		if err == nil {
			v.log.Info("reconfigured", "sealed_loglet", seg.Loglet.Id, "new_loglet", fresh.Id, "kind", fresh.Kind, "sequencer", fresh.Sequencer, "start", start)
			return start, true, nil
		}
		if !errors.Is(err, ErrVersionMismatch) {
			return 0, false, err
		}
		// 3. Lost the race: re-read. If someone else moved past seg,
		//    adopt their chain; otherwise (a trim, say) try again.
		if chain, version, err = v.refresh(ctx); err != nil {
			return 0, false, err
		}
		if cur := active(chain); cur.Loglet.Id != seg.Loglet.Id {
			return cur.Start, false, nil
		}
	}
}

// PrefixTrim discards the log below global position pos: whole segments
// below pos leave the chain (their loglets are trimmed to nothing and
// dropped), unless Archive keeps them on another loglet, and the segment
// holding pos is trimmed inside its loglet. The active segment always
// stays.
func (v *VirtualLog) PrefixTrim(ctx context.Context, pos uint64) error {
	for {
		chain, version, err := v.refresh(ctx)
		if err != nil {
			return err
		}
		segs := chain.Segments
		drop := 0
		for drop < len(segs)-1 && segs[drop+1].Start <= pos {
			drop++
		}
		next, gone := v.archived(chain, drop)
		if next != nil {
			if err := v.write(ctx, next, version); err != nil {
				if errors.Is(err, ErrVersionMismatch) {
					continue
				}
				return err
			}
			for _, s := range gone {
				v.discard(ctx, s)
			}
		}
		seg := segs[drop]
		if pos <= seg.Start {
			return nil
		}
		l, err := v.provider.Open(ctx, seg.Loglet)
		if err != nil {
			return err
		}
		return l.PrefixTrim(ctx, pos-seg.Start)
	}
}

// archived works out the chain after dropping the first drop segments:
// those Archive keeps (the run just below segment drop) stay on their
// archive loglets, the rest leave; an empty segment (sealed where it
// began) leaves without breaking the run. It returns nil if the chain
// does not change, and the segments whose loglets are to be discarded.
func (v *VirtualLog) archived(chain *vlogpb.Chain, drop int) (*vlogpb.Chain, []*vlogpb.Segment) {
	if drop == 0 {
		return nil, nil
	}
	next := proto.Clone(chain).(*vlogpb.Chain)
	segs := next.Segments
	var kept []*vlogpb.Segment // below drop, highest first
	var gone []*vlogpb.Segment
	changed := false
	k := drop - 1
	for ; k >= 0 && v.archive != nil; k-- {
		s, end := segs[k], segs[k+1].Start
		if s.Start >= end {
			gone = append(gone, chain.Segments[k])
			changed = true
			continue
		}
		cfg := v.archive(s, end)
		if cfg == nil {
			break
		}
		if !proto.Equal(cfg, s.Loglet) {
			gone = append(gone, chain.Segments[k])
			cfg = proto.Clone(cfg).(*vlogpb.LogletConfig)
			cfg.Id = next.NextLogletId
			next.NextLogletId++
			s.Loglet = cfg
			changed = true
		}
		kept = append(kept, s)
	}
	if k < 0 && !changed {
		return nil, nil
	}
	gone = append(gone, chain.Segments[:k+1]...)
	slices.Reverse(kept)
	next.Segments = append(kept, segs[drop:]...)
	return next, gone
}

// discard trims a segment that left the chain to nothing and drops it.
// Failures only leave garbage behind, so they are logged.
func (v *VirtualLog) discard(ctx context.Context, s *vlogpb.Segment) {
	l, err := v.provider.Open(ctx, s.Loglet)
	if err == nil {
		var tail uint64
		if tail, _, err = l.CheckTail(ctx); err == nil {
			err = l.PrefixTrim(ctx, tail)
		}
	}
	if err != nil {
		v.log.Warn("discarding trimmed loglet", "loglet", s.Loglet.Id, "err", err)
	}
	v.provider.Drop(s.Loglet)
}
