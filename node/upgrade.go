package node

import (
	"context"
	"maps"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"hourglass/engines/timekeeper"
	"hourglass/engines/upgrade"
	"hourglass/node/adminpb"
	"hourglass/personalities/sql"
)

// supportedVersions is this build's registry of versions: each engine
// and personality of the stack, by the name it goes by, with the
// versions the build can apply. An engine whose format changes raises
// its top version here (through its package), and the upgrade engine
// enables it once every member runs a build that has it.
func supportedVersions() upgrade.Supported {
	tlo, thi := timekeeper.Versions()
	slo, shi := sql.Versions()
	one := upgrade.Range{Min: 1, Max: 1}
	return upgrade.Supported{
		"lease":        one,
		"time":         {Min: tlo, Max: thi},
		"batching":     one,
		"views":        one,
		"sessionorder": one,
		"kv":           one,
		"zk":           one,
		"sql":          {Min: slo, Max: shi},
	}
}

// memberIDs returns the ensemble's members, as the chain names them; a
// single node is its own only member.
func (n *Node) memberIDs() []string {
	chain, _ := n.vlog.Chain()
	var ids []string
	for _, m := range chain.GetMembers() {
		ids = append(ids, m.Id)
	}
	if len(ids) == 0 {
		ids = []string{n.cfg.NodeID}
	}
	return ids
}

func (a *adminService) UpgradeStatus(ctx context.Context, req *adminpb.UpgradeStatusRequest) (*adminpb.UpgradeStatusResponse, error) {
	st, err := a.n.upgrade.Status()
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "upgrade status: %v", err)
	}
	resp := &adminpb.UpgradeStatusResponse{NodeId: a.n.cfg.NodeID, Applied: st.Applied}
	for _, name := range slices.Sorted(maps.Keys(st.Enabled)) {
		e := st.Enabled[name]
		ev := &adminpb.EngineVersion{Name: name, Enabled: e.Version, EnabledAt: e.At}
		if r, ok := st.Supported[name]; ok {
			ev.Supported = &adminpb.VersionRange{Name: name, Min: r.Min, Max: r.Max}
		}
		resp.Engines = append(resp.Engines, ev)
	}
	for _, id := range st.Members {
		s, ok := st.Announced[id]
		m := &adminpb.MemberVersions{Id: id, Announced: ok}
		for _, name := range slices.Sorted(maps.Keys(s)) {
			m.Supported = append(m.Supported, &adminpb.VersionRange{Name: name, Min: s[name].Min, Max: s[name].Max})
		}
		resp.Members = append(resp.Members, m)
	}
	for _, p := range st.Pending {
		resp.Pending = append(resp.Pending, &adminpb.PendingUpgrade{Name: p.Name, Version: p.Version, Missing: p.Missing})
	}
	return resp, nil
}
