package viewtracking

import (
	"encoding/binary"
	"time"

	"hourglass/platform"
)

// Report is one member's last report, as the log holds it.
type Report struct {
	// Node is the member's id.
	Node string
	// Applied is the first position the member had not applied when it
	// reported; Durable the first position its durable (fsynced) applied
	// state did not cover: after a crash of its machine it replays the
	// log from there at the earliest.
	Applied, Durable platform.Position
	// Retention is the member's configured retention (see
	// Config.Retention).
	Retention time.Duration
	// Backup is where the member's log backup asks the log to be kept
	// from (see Config.Backup), if HasBackup: the log is not trimmed
	// below it while the member is waited for.
	Backup    platform.Position
	HasBackup bool
	// At is the log time of the report's entry; Pos its position.
	At  time.Time
	Pos platform.Position
}

// reportSize is the fixed part of an encoded report: applied, durable,
// retention in milliseconds, log time in milliseconds, position, and the
// backup's position plus one (0: no backup).
const reportSize = 48

// encode returns r as the header value (and the stored record: At and
// Pos are zero in a proposal, filled in at apply).
func (r Report) encode() []byte {
	b := make([]byte, 0, reportSize+len(r.Node))
	b = binary.BigEndian.AppendUint64(b, r.Applied)
	b = binary.BigEndian.AppendUint64(b, r.Durable)
	b = binary.BigEndian.AppendUint64(b, uint64(r.Retention.Milliseconds()))
	b = binary.BigEndian.AppendUint64(b, uint64(r.At.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, r.Pos)
	var backup uint64
	if r.HasBackup {
		backup = r.Backup + 1
	}
	b = binary.BigEndian.AppendUint64(b, backup)
	return append(b, r.Node...)
}

// decodeReport parses an encoded report; false if b is not one.
func decodeReport(b []byte) (Report, bool) {
	if len(b) <= reportSize {
		return Report{}, false
	}
	u := func(i int) uint64 { return binary.BigEndian.Uint64(b[8*i:]) }
	return Report{
		Applied:   u(0),
		Durable:   u(1),
		Retention: time.Duration(u(2)) * time.Millisecond,
		At:        time.UnixMilli(int64(u(3))),
		Pos:       u(4),
		Backup:    max(u(5), 1) - 1,
		HasBackup: u(5) > 0,
		Node:      string(b[reportSize:]),
	}, true
}

// MemberView is one member's place in the trim policy.
type MemberView struct {
	// Report is the member's last report; zero but for Node if it never
	// reported (Reported is false).
	Report
	Reported bool
	// Waited: the member still holds the trim back (at its Durable, 0 if
	// it never reported). LeftBehind: its last report (or, if it never
	// reported, the first report of any member) is older than the
	// retention in log time; it is no longer waited for and catches up
	// by a peer's checkpoint if the log was trimmed past it.
	Waited, LeftBehind bool
}

// Policy is the trim policy at one point of the log: the log may be
// trimmed below Point.
type Policy struct {
	// Point is the lowest durable position over the members still waited
	// for, and below the position their log backups keep the log from;
	// Set is false when no member is waited for.
	Point platform.Position
	Set   bool
	// Retention is the retention in force: the longest any member
	// announced, and at least the one given.
	Retention time.Duration
	// Now is the log time the policy was computed at.
	Now time.Time
	// Members are the members' views, in the order given.
	Members []MemberView
}

// Compute is the trim policy: given the reports applied so far, the
// members of the ensemble, the log time now and this node's retention,
// it returns which members are still waited for and the lowest durable
// position among them. It is a pure function of its arguments: replicas
// that applied the same reports and see the same members at the same log
// time compute the same policy.
//
// A member is waited for until the log time is more than the retention
// past its last report; one that never reported counts as having reported
// position 0 at the first report of any member (a founding node that
// starts late is waited for; one added long after catches up by
// checkpoint). Reports of nodes that are not members are ignored. The
// retention in force is the longest one given or announced by a member,
// so every node enforces the same one.
func Compute(reports map[string]Report, members []string, now time.Time, retention time.Duration) Policy {
	p := Policy{Retention: retention, Now: now}
	var first time.Time
	for _, r := range reports {
		if first.IsZero() || r.At.Before(first) {
			first = r.At
		}
	}
	for _, id := range members {
		if r, ok := reports[id]; ok {
			p.Retention = max(p.Retention, r.Retention)
		}
	}
	for _, id := range members {
		r, ok := reports[id]
		m := MemberView{Report: r, Reported: ok}
		m.Node = id
		since := r.At
		if !ok {
			since = first
		}
		m.LeftBehind = !since.IsZero() && now.Sub(since) > p.Retention
		m.Waited = !m.LeftBehind
		if m.Waited && (!p.Set || m.Durable < p.Point) {
			p.Point, p.Set = m.Durable, true
		}
		if m.Waited && m.HasBackup && m.Backup < p.Point {
			p.Point = m.Backup
		}
		p.Members = append(p.Members, m)
	}
	return p
}
