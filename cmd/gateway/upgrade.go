package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"hourglass/node/adminpb"
)

const upgradeUsage = `usage: gateway upgrade status [--json] [--admin-addr ADDR] [TLS flags]

status  each engine's enabled version, what each member's build supports,
        and the upgrades pending (a version is enabled, through the log,
        once every member announced support for it)
`

// upgradeCmd runs `gateway upgrade status`.
func upgradeCmd(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "status" {
		fmt.Fprint(out, upgradeUsage)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return nil
		}
		return errors.New("upgrade: want status")
	}
	return adminQuery("upgrade status", args[1:], out, func(ctx context.Context, c adminpb.AdminClient) (*adminpb.UpgradeStatusResponse, error) {
		return c.UpgradeStatus(ctx, &adminpb.UpgradeStatusRequest{})
	}, printUpgradeStatus)
}

// printUpgradeStatus prints an upgrade status for people.
func printUpgradeStatus(out io.Writer, st *adminpb.UpgradeStatusResponse) {
	fmt.Fprintf(out, "node %s, applied %d\n", st.NodeId, st.Applied)
	fmt.Fprintln(out, "engines (enabled version; this build supports):")
	for _, e := range st.Engines {
		at := "from the start"
		if e.EnabledAt > 0 {
			at = fmt.Sprintf("since position %d", e.EnabledAt)
		}
		fmt.Fprintf(out, "  %-13s v%d %s; %s\n", e.Name, e.Enabled, at, versionRange(e.Supported))
	}
	fmt.Fprintf(out, "members (%d):\n", len(st.Members))
	for _, m := range st.Members {
		if !m.Announced {
			fmt.Fprintf(out, "  %s: has not announced\n", m.Id)
			continue
		}
		var vs []string
		for _, r := range m.Supported {
			vs = append(vs, r.Name+" "+versionRange(r))
		}
		fmt.Fprintf(out, "  %s: %s\n", m.Id, strings.Join(vs, ", "))
	}
	if len(st.Pending) == 0 {
		fmt.Fprintln(out, "pending: none")
		return
	}
	fmt.Fprintln(out, "pending:")
	for _, p := range st.Pending {
		if len(p.Missing) == 0 {
			fmt.Fprintf(out, "  %s v%d: every member supports it; being enabled\n", p.Name, p.Version)
			continue
		}
		fmt.Fprintf(out, "  %s v%d: waiting for %s\n", p.Name, p.Version, strings.Join(p.Missing, ", "))
	}
}

// versionRange prints r as "v1" or "v1-v2"; nil is "none".
func versionRange(r *adminpb.VersionRange) string {
	switch {
	case r == nil:
		return "none"
	case r.Min == r.Max:
		return fmt.Sprintf("v%d", r.Min)
	}
	return fmt.Sprintf("v%d-v%d", r.Min, r.Max)
}
