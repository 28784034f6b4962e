package node

import (
	"hourglass/node/adminpb"
)

// trimStatus is the log's trim policy as this node applies it: every
// member's last report, whether it still holds the trim back, the votes
// and the point the node trims below.
func (n *Node) trimStatus() *adminpb.TrimStatus {
	p := n.views.Policy()
	st := &adminpb.TrimStatus{RetentionMs: p.Retention.Milliseconds(), Votes: n.base.TrimVotes()}
	if !p.Now.IsZero() {
		st.LogTimeMs = p.Now.UnixMilli()
	}
	if len(st.Votes) > 0 {
		st.Point = n.base.Applied()
		for _, v := range st.Votes {
			st.Point = min(st.Point, v)
		}
	}
	for _, m := range p.Members {
		mv := &adminpb.MemberView{Id: m.Node, Reported: m.Reported, Waited: m.Waited, LeftBehind: m.LeftBehind}
		if m.Reported {
			mv.Applied, mv.Durable = m.Applied, m.Durable
			mv.ReportedMs, mv.ReportPosition = m.At.UnixMilli(), m.Pos
			mv.Backup, mv.HasBackup = m.Backup, m.HasBackup
		}
		st.Members = append(st.Members, mv)
	}
	return st
}
