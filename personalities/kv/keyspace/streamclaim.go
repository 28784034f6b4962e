package keyspace

import "math"

// XCLAIM and XAUTOCLAIM: pending entries change hands. Idle times are
// measured on the log time.

// claimer is one XCLAIM or XAUTOCLAIM run: the group, the consumer that
// claims and how.
type claimer struct {
	s        *stream
	g        *streamGroup
	consumer []byte
	touched  bool  // the consumer was created or marked seen
	time     int64 // the delivery time to set
	retry    int64 // the delivery count to set; -1: count one more
	justID   bool
}

// claim hands the pending entry n (owner nil for one FORCE makes) to the
// consumer and returns its reply: the ID, or the entry (null if gone).
func (c *claimer) claim(n nack, owner []byte) (any, error) {
	if !c.touched {
		if _, err := c.s.touchConsumer(c.g, c.consumer); err != nil {
			return nil, err
		}
		c.touched = true
	}
	n.delivered = c.time
	switch {
	case c.retry >= 0:
		n.count = c.retry
	case !c.justID:
		n.count++
	}
	n.consumer = c.consumer
	if err := c.s.setPending(c.g, n, owner); err != nil {
		return nil, err
	}
	if c.justID {
		return n.id.reply(), nil
	}
	v, ok, err := c.s.entry(n.id)
	if err != nil || !ok {
		return nil, err
	}
	return entryReply(n.id, v)
}

// XCLAIM key group consumer min-idle-time id... [IDLE ms] [TIME ms]
// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]

func execXclaim(ks *Keyspace, args [][]byte) (any, error) {
	s, g, err := ks.openGroup(args[1], args[2])
	if err != nil {
		return nil, err
	}
	minIdle, ok := ParseInt(args[4])
	if !ok {
		return nil, Error("ERR Invalid min-idle-time argument for XCLAIM")
	}
	minIdle = max(minIdle, 0)
	var ids []streamID
	j := 5
	for ; j < len(args); j++ {
		id, err := strictID(args[j])
		if err != nil {
			break
		}
		ids = append(ids, id)
	}
	c := &claimer{s: s, g: g, consumer: args[3], time: -1, retry: -1}
	force := false
	var lastID streamID
	for ; j < len(args); j++ {
		more := j+1 < len(args)
		switch o := args[j]; {
		case EqFold(o, "force"):
			force = true
		case EqFold(o, "justid"):
			c.justID = true
		case EqFold(o, "idle") && more:
			j++
			v, ok := ParseInt(args[j])
			if !ok {
				return nil, Error("ERR Invalid IDLE option argument for XCLAIM")
			}
			c.time = ks.now - v
		case EqFold(o, "time") && more:
			j++
			v, ok := ParseInt(args[j])
			if !ok {
				return nil, Error("ERR Invalid TIME option argument for XCLAIM")
			}
			c.time = v
		case EqFold(o, "retrycount") && more:
			j++
			v, ok := ParseInt(args[j])
			if !ok {
				return nil, Error("ERR Invalid RETRYCOUNT option argument for XCLAIM")
			}
			c.retry = v
		case EqFold(o, "lastid") && more:
			j++
			if lastID, err = strictID(args[j]); err != nil {
				return nil, err
			}
		default:
			return nil, Errorf("ERR Unrecognized XCLAIM option '%s'", o)
		}
	}
	if lastID.cmp(g.lastID) > 0 {
		g.lastID = lastID
		if err := s.saveGroup(g); err != nil {
			return nil, err
		}
	}
	if c.time < 0 || c.time > ks.now {
		c.time = ks.now
	}
	out := []any{}
	for _, id := range ids {
		n, pending, err := s.pending(g, id)
		if err != nil {
			return nil, err
		}
		if _, exists, err := s.entry(id); err != nil {
			return nil, err
		} else if !exists {
			if pending {
				if err := s.dropPending(g, n); err != nil {
					return nil, err
				}
			}
			continue
		}
		var owner []byte
		switch {
		case pending:
			owner = n.consumer
			if minIdle != 0 && ks.now-n.delivered < minIdle {
				continue
			}
		case force:
			n = nack{id: id, delivered: ks.now, count: 1}
		default:
			continue
		}
		r, err := c.claim(n, owner)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// XAUTOCLAIM key group consumer min-idle-time start [COUNT count]
// [JUSTID]

type xautoclaimArgs struct {
	minIdle int64
	start   streamID
	count   int64
	justID  bool
}

// autoclaimAttempts is how many pending entries XAUTOCLAIM looks at per
// entry it may claim, as in Redis.
const autoclaimAttempts = 10

func parseXautoclaim(args [][]byte) (xautoclaimArgs, error) {
	x := xautoclaimArgs{count: 100}
	n, ok := ParseInt(args[4])
	if !ok {
		return x, Error("ERR Invalid min-idle-time argument for XAUTOCLAIM")
	}
	x.minIdle = max(n, 0)
	var err error
	if x.start, err = parseIntervalID(args[5], false); err != nil {
		return x, err
	}
	for j := 6; j < len(args); j++ {
		switch {
		case EqFold(args[j], "count") && j+1 < len(args):
			n, ok := ParseInt(args[j+1])
			if !ok || n < 1 || n > math.MaxInt64/16 {
				return x, Error("ERR COUNT must be > 0")
			}
			x.count = n
			j++
		case EqFold(args[j], "justid"):
			x.justID = true
		default:
			return x, ErrSyntax
		}
	}
	return x, nil
}

func checkXautoclaim(args [][]byte) error {
	_, err := parseXautoclaim(args)
	return err
}

func execXautoclaim(ks *Keyspace, args [][]byte) (any, error) {
	x, err := parseXautoclaim(args)
	if err != nil {
		return nil, err
	}
	s, g, err := ks.openGroup(args[1], args[2])
	if err != nil {
		return nil, err
	}
	c := &claimer{s: s, g: g, consumer: args[3], time: ks.now, retry: -1, justID: x.justID}
	// Visit at most count*10 pending entries, and one more for the
	// cursor.
	var seen []nack
	limit := x.count * autoclaimAttempts
	err = s.scanPending(g, x.start, func(n nack) (bool, error) {
		seen = append(seen, n)
		return int64(len(seen)) <= limit, nil
	})
	if err != nil {
		return nil, err
	}
	claimed, deleted := []any{}, []any{}
	count, next := x.count, streamID{}
	for i, n := range seen {
		if count == 0 || int64(i) == limit {
			next = n.id
			break
		}
		if _, exists, err := s.entry(n.id); err != nil {
			return nil, err
		} else if !exists {
			if err := s.dropPending(g, n); err != nil {
				return nil, err
			}
			deleted = append(deleted, n.id.reply())
			count--
			continue
		}
		if x.minIdle != 0 && ks.now-n.delivered < x.minIdle {
			continue
		}
		r, err := c.claim(n, n.consumer)
		if err != nil {
			return nil, err
		}
		claimed = append(claimed, r)
		count--
	}
	return []any{next.reply(), claimed, deleted}, nil
}
