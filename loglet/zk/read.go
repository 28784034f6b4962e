package zk

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"hourglass/loglet"
)

// pollInterval bounds a wait at the tail between looks, in case a watch
// is lost with a connection.
const pollInterval = time.Second

// ReadNext implements loglet.Reader.
func (l *Loglet) ReadNext(ctx context.Context, from loglet.Position, max int) ([][]byte, error) {
	if max <= 0 {
		max = 1
	}
	for {
		if es, ok := l.cached(from, max); ok {
			return es, nil
		}
		tailData, metaStat, tailCh, metaCh, err := l.watch(ctx)
		if err != nil {
			return nil, unavailable(err)
		}
		tail, err := strconv.ParseUint(string(tailData), 10, 64)
		if err != nil {
			return nil, unavailable(err)
		}
		if trim, _, err := l.getPosition(ctx, "trim"); err != nil {
			return nil, unavailable(err)
		} else if from < trim {
			l.mu.Lock()
			if trim > l.mu.trimmed {
				l.mu.trimmed = trim
			}
			l.mu.Unlock()
			return nil, loglet.ErrTrimmed
		}
		if from < tail {
			return l.readBatch(ctx, from, max)
		}
		if metaStat.Version != 0 {
			return nil, loglet.ErrSealed
		}
		select {
		case <-tailCh:
		case <-metaCh:
		case <-time.After(pollInterval):
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-l.stop:
			return nil, loglet.ErrClosed
		}
	}
}

// watch reads tail and meta with watches set before the reads, so that a
// change after them fires a returned channel. The handle shares one
// watch per znode among its readers and sets a new one only once the last
// fired, so idle readers that poll do not pile up watches.
func (l *Loglet) watch(ctx context.Context) (tail []byte, meta *gozk.Stat, tailCh, metaCh <-chan gozk.Event, err error) {
	l.mu.Lock()
	tailCh, metaCh = l.mu.tailWatch, l.mu.metaWatch
	l.mu.Unlock()
	newTail, newMeta := fired(tailCh), fired(metaCh)
	type got struct {
		tail           []byte
		meta           *gozk.Stat
		tailCh, metaCh <-chan gozk.Event
	}
	g, err := call(l, ctx, func() (g got, err error) {
		g.tailCh, g.metaCh = tailCh, metaCh
		if newTail {
			g.tail, _, g.tailCh, err = l.conn.GetW(l.p("tail"))
		} else {
			g.tail, _, err = l.conn.Get(l.p("tail"))
		}
		if err != nil {
			return g, err
		}
		if newMeta {
			_, g.meta, g.metaCh, err = l.conn.GetW(l.p("meta"))
		} else {
			_, g.meta, err = l.conn.Get(l.p("meta"))
		}
		return g, err
	})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	l.mu.Lock()
	if newTail {
		l.mu.tailWatch = g.tailCh
	}
	if newMeta {
		l.mu.metaWatch = g.metaCh
	}
	l.mu.Unlock()
	return g.tail, g.meta, g.tailCh, g.metaCh, nil
}

// fired reports whether a watch is absent or has fired (its channel, once
// fired, is closed).
func fired(ch <-chan gozk.Event) bool {
	if ch == nil {
		return true
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// cached serves a read from the last batch decoded.
func (l *Loglet) cached(from loglet.Position, max int) ([][]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.mu.batch
	if b.entries == nil || from < l.mu.trimmed || from < b.start || from >= b.start+loglet.Position(len(b.entries)) {
		return nil, false
	}
	i := int(from - b.start)
	n := min(max, len(b.entries)-i)
	out := make([][]byte, n)
	for j := range out {
		out[j] = append([]byte(nil), b.entries[i+j]...)
	}
	return out, true
}

// readBatch reads the committed batch holding from: the one named from
// (a sequential reader's case), else the one the listing of root/b says.
func (l *Loglet) readBatch(ctx context.Context, from loglet.Position, max int) ([][]byte, error) {
	start := from
	data, err := l.getBatch(ctx, start)
	if errors.Is(err, gozk.ErrNoNode) {
		starts, err := l.batches(ctx)
		if err != nil {
			return nil, err
		}
		i, found := slices.BinarySearch(starts, from)
		if !found {
			i--
		}
		if i < 0 {
			return nil, loglet.ErrTrimmed
		}
		start = starts[i]
		data, err = l.getBatch(ctx, start)
		if errors.Is(err, gozk.ErrNoNode) {
			return nil, loglet.ErrTrimmed // deleted since the listing
		}
	}
	if err != nil {
		return nil, unavailable(err)
	}
	appends, err := parseBatch(data)
	if err != nil {
		return nil, err
	}
	entries := flatten(appends)
	if from >= start+loglet.Position(len(entries)) {
		return nil, unavailable(ErrCorrupt) // the batch ends before from: not this package's layout
	}
	l.mu.Lock()
	l.mu.batch = cachedBatch{start: start, entries: entries}
	l.mu.Unlock()
	es, _ := l.cached(from, max)
	return es, nil
}

func (l *Loglet) getBatch(ctx context.Context, start loglet.Position) ([]byte, error) {
	data, _, err := l.getData(ctx, "b/"+batchName(start))
	return data, err
}

// batches lists the batches' first positions, in order.
func (l *Loglet) batches(ctx context.Context) ([]loglet.Position, error) {
	names, err := call(l, ctx, func() ([]string, error) {
		names, _, err := l.conn.Children(l.p("b"))
		return names, err
	})
	if err != nil {
		return nil, unavailable(err)
	}
	starts := make([]loglet.Position, 0, len(names))
	for _, n := range names {
		p, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			return nil, unavailable(ErrCorrupt)
		}
		starts = append(starts, p)
	}
	slices.Sort(starts)
	return starts, nil
}
