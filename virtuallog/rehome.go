package virtuallog

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"google.golang.org/protobuf/proto"

	"hourglass/loglet"
	"hourglass/virtuallog/vlogpb"
)

// rehomeBatch is how many entries one append of a rehome copies.
const rehomeBatch = 256

// Rehome copies the first sealed segment whose loglet stale reports
// (its servers left the ensemble, say) onto a fresh loglet of the given
// kind, placed as a new loglet would be, and swaps it into the chain in
// place of the old one, whose loglet is then discarded. It returns
// whether a segment moved; false with a nil error means no segment was
// stale. Readers of the old loglet find the segment on the new one (see
// ReadNext), and a segment trimmed meanwhile is simply not moved.
//
// The copy is safe to interrupt anywhere: the fresh loglet's id is
// reserved in the chain first (so no reconfiguration reuses it), and the
// chain names the fresh loglet only once it holds the whole segment and
// is sealed at its end.
func (v *VirtualLog) Rehome(ctx context.Context, kind string, stale func(*vlogpb.LogletConfig, *vlogpb.Chain) bool) (bool, error) {
	chain, _, err := v.refresh(ctx)
	if err != nil {
		return false, err
	}
	var seg *vlogpb.Segment
	var n uint64
	for i, s := range chain.Segments[:len(chain.Segments)-1] {
		if end := chain.Segments[i+1].Start; end > s.Start && stale(s.Loglet, chain) {
			seg, n = s, end-s.Start
			break
		}
	}
	if seg == nil {
		return false, nil
	}
	id, chain, err := v.reserveID(ctx)
	if err != nil {
		return false, err
	}
	cfg, err := v.provider.Fresh(kind, id, chain)
	if err != nil {
		return false, err
	}
	dropCopy := func() { v.discard(ctx, &vlogpb.Segment{Start: seg.Start, Loglet: cfg}) }
	abandon := func(err error) (bool, error) {
		dropCopy()
		return false, fmt.Errorf("virtuallog: rehoming segment at %d (loglet %d): %w", seg.Start, seg.Loglet.Id, err)
	}
	if err := v.copySegment(ctx, seg.Loglet, cfg, n); err != nil {
		return abandon(err)
	}
	for {
		chain, version, err := v.refresh(ctx)
		if err != nil {
			return abandon(err)
		}
		next := proto.Clone(chain).(*vlogpb.Chain)
		var at *vlogpb.Segment
		for _, s := range next.Segments[:len(next.Segments)-1] {
			if s.Loglet.Id == seg.Loglet.Id {
				at = s
			}
		}
		if at == nil {
			// Trimmed (or moved) meanwhile.
			dropCopy()
			return false, nil
		}
		at.Loglet = cfg
		err = v.write(ctx, next, version)
		if errors.Is(err, ErrVersionMismatch) {
			continue
		}
		if err != nil {
			return abandon(err)
		}
		v.log.Info("rehomed a sealed segment", "start", seg.Start, "entries", n, "old_loglet", seg.Loglet.Id, "old_servers", seg.Loglet.Servers, "new_loglet", cfg.Id, "servers", cfg.Servers)
		v.discard(ctx, seg)
		return true, nil
	}
}

// reserveID takes the chain's next loglet id for a loglet that joins
// the chain later, and returns it with the chain that reserved it.
func (v *VirtualLog) reserveID(ctx context.Context) (uint64, *vlogpb.Chain, error) {
	for {
		chain, version, err := v.refresh(ctx)
		if err != nil {
			return 0, nil, err
		}
		next := proto.Clone(chain).(*vlogpb.Chain)
		id := next.NextLogletId
		next.NextLogletId++
		err = v.write(ctx, next, version)
		if err == nil {
			return id, next, nil
		}
		if !errors.Is(err, ErrVersionMismatch) {
			return 0, nil, err
		}
	}
}

// copySegment appends the n committed entries of loglet from to the
// fresh loglet to, at the same local positions, and seals to at n.
func (v *VirtualLog) copySegment(ctx context.Context, from, to *vlogpb.LogletConfig, n uint64) error {
	src, err := v.provider.Open(ctx, from)
	if err != nil {
		return err
	}
	dst, err := v.provider.Open(ctx, to)
	if err != nil {
		return err
	}
	client := rand.Uint64() | 1
	for pos := uint64(0); pos < n; {
		max := int(min(rehomeBatch, n-pos))
		var entries [][]byte
		if hr, ok := src.(loglet.HintedReader); ok {
			entries, err = hr.ReadNextCommitted(ctx, pos, max, n)
		} else {
			entries, err = src.ReadNext(ctx, pos, max)
		}
		if err != nil {
			return fmt.Errorf("reading %d: %w", pos, err)
		}
		entries = entries[:min(len(entries), max)]
		at, err := dst.Append(ctx, loglet.AppendID{Client: client, Seq: pos + 1}, entries)
		if err != nil {
			return fmt.Errorf("copying %d: %w", pos, err)
		}
		if at != pos {
			return fmt.Errorf("copying %d: the fresh loglet took it at %d", pos, at)
		}
		pos += uint64(len(entries))
	}
	tail, err := dst.Seal(ctx)
	if err != nil {
		return fmt.Errorf("sealing the copy: %w", err)
	}
	if tail != n {
		return fmt.Errorf("the copy sealed at %d, want %d", tail, n)
	}
	return nil
}
