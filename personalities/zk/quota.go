package zk

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Quotas live in the tree, as in ZooKeeper 3.8: zkCli.sh's setquota
// writes /zookeeper/quota<path>/zookeeper_limits (the limits, as a
// StatsTrack string), and zookeeper_stats beside it, whose data the
// server keeps as the count and bytes of <path>'s subtree. Every create,
// delete and setData under the deepest path with a limits node updates
// its stats at apply, in place (the stats znode's version and mzxid stay,
// and no watch fires); a create or setData that would pass a hard limit
// (countHardLimit, byteHardLimit) fails with QuotaExceeded, on every
// replica alike; passing a soft limit (count, bytes) is logged.
const (
	quotaRoot      = "/zookeeper/quota"
	quotaLimitNode = "zookeeper_limits"
	quotaStatNode  = "zookeeper_stats"
)

// statsTrack is ZooKeeper's StatsTrack: named longs, written as
// "count=4,bytes=5=;byteHardLimit=10;countHardLimit=10".
type statsTrack map[string]int64

// statsPairSep separates a StatsTrack's pairs.
var statsPairSep = regexp.MustCompile(`[,;]+`)

// maxStatsPairs bounds the pairs read from one StatsTrack.
const maxStatsPairs = 64

// parseStatsTrack reads a StatsTrack as ZooKeeper does: pairs split on
// runs of , and ;, each key=value with an empty value meaning -1.
// ZooKeeper throws on a pair it cannot read; here such a pair is
// skipped.
func parseStatsTrack(b []byte) statsTrack {
	s := statsTrack{}
	if len(b) == 0 {
		return s
	}
	for i, pair := range statsPairSep.Split(string(b), -1) {
		if i == maxStatsPairs {
			break
		}
		kv := javaSplit(pair, "=")
		if len(kv) < 2 {
			continue
		}
		v := int64(-1)
		if kv[1] != "" {
			n, err := strconv.ParseInt(kv[1], 10, 64)
			if err != nil {
				continue
			}
			v = n
		}
		s[kv[0]] = v
	}
	return s
}

// get returns a value, -1 when absent.
func (s statsTrack) get(key string) int64 {
	if v, ok := s[key]; ok {
		return v
	}
	return -1
}

// String writes the StatsTrack as ZooKeeper's toString does: count and
// bytes first, then "=" and the other keys sorted, each after a ";".
func (s statsTrack) String() string {
	var b strings.Builder
	b.WriteString("count=" + strconv.FormatInt(s.get("count"), 10))
	b.WriteString(",bytes=" + strconv.FormatInt(s.get("bytes"), 10))
	var keys []string
	for k := range s {
		if k != "count" && k != "bytes" {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		b.WriteByte('=')
		slices.Sort(keys)
		for _, k := range keys {
			b.WriteString(";" + k + "=" + strconv.FormatInt(s[k], 10))
		}
	}
	return b.String()
}

// quotaPrefix returns the deepest of path and its ancestors (not the
// root) that has a limits node, or "" (ZooKeeper's
// getMaxPrefixWithQuota).
func (c *change) quotaPrefix(path string) (string, error) {
	root, err := c.get(quotaRoot)
	if err != nil || root == nil || root.numChildren == 0 {
		return "", err
	}
	for p := path; p != "/"; p = parentOf(p) {
		n, err := c.get(quotaRoot + p + "/" + quotaLimitNode)
		if err != nil || n != nil {
			return p, err
		}
	}
	return "", nil
}

// checkQuota refuses a create (countDiff 1) or setData that would take
// the subtree of path's quota past a hard limit, as ZooKeeper's
// checkQuota does: only a limit on what changes is checked, the hard one
// if set, else the soft one, which is only logged.
func (c *change) checkQuota(path string, bytesDiff, countDiff int64) (int32, error) {
	prefix, err := c.quotaPrefix(path)
	if err != nil || prefix == "" {
		return errOK, err
	}
	limits, stats, err := c.quotaNodes(prefix)
	if err != nil || limits == nil || stats == nil {
		return errOK, err
	}
	lim, cur := parseStatsTrack(limits.data), parseStatsTrack(stats.data)
	for _, q := range []struct {
		diff              int64
		soft, hard, value string
	}{
		{countDiff, "count", "countHardLimit", "count"},
		{bytesDiff, "bytes", "byteHardLimit", "bytes"},
	} {
		if q.diff == 0 || lim.get(q.soft) < 0 && lim.get(q.hard) < 0 {
			continue
		}
		limit, hard := lim.get(q.hard), true
		if limit < 0 {
			limit, hard = lim.get(q.soft), false
		}
		if n := cur.get(q.value) + q.diff; n > limit {
			if hard {
				c.warn("Quota exceeded", "path", prefix, q.value, n, "hardLimit", limit)
				return errQuotaExceeded, nil
			}
		}
	}
	return errOK, nil
}

// quotaNodes returns a quota's limits and stats znodes (nil if absent).
func (c *change) quotaNodes(prefix string) (limits, stats *znode, err error) {
	if limits, err = c.get(quotaRoot + prefix + "/" + quotaLimitNode); err != nil {
		return nil, nil, err
	}
	stats, err = c.get(quotaRoot + prefix + "/" + quotaStatNode)
	return limits, stats, err
}

// updateQuota adds a write's change in bytes and znodes to the stats of
// path's quota, and logs a soft limit passed (ZooKeeper's
// updateQuotaStat).
func (c *change) updateQuota(path string, bytesDiff, countDiff int64) error {
	prefix, err := c.quotaPrefix(path)
	if err != nil || prefix == "" {
		return err
	}
	limits, stats, err := c.quotaNodes(prefix)
	if err != nil || stats == nil {
		return err
	}
	cur := parseStatsTrack(stats.data)
	cur["count"] = cur.get("count") + countDiff
	cur["bytes"] = cur.get("bytes") + bytesDiff
	stats.data = []byte(cur.String())
	c.set(quotaRoot+prefix+"/"+quotaStatNode, stats)
	if limits != nil {
		lim := parseStatsTrack(limits.data)
		for _, k := range []string{"count", "bytes"} {
			if l := lim.get(k); l > -1 && l < cur.get(k) {
				c.warn("Quota exceeded", "path", prefix, k, cur.get(k), "limit", l)
			}
		}
	}
	return nil
}

// quotaCreated handles a znode made under the quota tree: a stats node
// gets the count and bytes of its quota's subtree (ZooKeeper's
// updateQuotaForPath).
func (c *change) quotaCreated(path string) error {
	parent := parentOf(path)
	if !strings.HasPrefix(parent, quotaRoot) || childName(path) != quotaStatNode {
		return nil
	}
	count, bytes, err := c.subtree(strings.TrimPrefix(parent, quotaRoot))
	if err != nil {
		return err
	}
	n, err := c.get(path)
	if err != nil || n == nil {
		return err
	}
	n.data = []byte(statsTrack{"count": count, "bytes": bytes}.String())
	c.set(path, n)
	return nil
}

// subtree counts the znodes of path's subtree, itself included, and
// their bytes of data, as the change sees them.
func (c *change) subtree(path string) (count, bytes int64, err error) {
	if path == "" {
		path = "/"
	}
	stack := []string{path}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n, err := c.get(p)
		if err != nil {
			return 0, 0, err
		}
		if n == nil {
			continue
		}
		count++
		bytes += int64(len(n.data))
		kids, err := c.children(p)
		if err != nil {
			return 0, 0, err
		}
		for _, k := range kids {
			if p == "/" {
				stack = append(stack, "/"+k)
			} else {
				stack = append(stack, p+"/"+k)
			}
		}
	}
	return count, bytes, nil
}

// children lists parent's children as the change sees them, in no
// particular order.
func (c *change) children(parent string) ([]string, error) {
	kids, err := children(c.r, parent)
	if err != nil {
		return nil, err
	}
	for _, p := range c.order {
		if p == "/" || parentOf(p) != parent {
			continue
		}
		name := childName(p)
		i := slices.Index(kids, name)
		switch {
		case c.nodes[p] == nil && i >= 0:
			kids = slices.Delete(kids, i, i+1)
		case c.nodes[p] != nil && i < 0:
			kids = append(kids, name)
		}
	}
	return kids, nil
}

// warn logs a quota passed, on every replica as it applies.
func (c *change) warn(msg string, args ...any) {
	if c.log != nil {
		c.log.Warn(msg, args...)
	}
}
