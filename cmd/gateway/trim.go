package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"hourglass/node/adminpb"
)

// printTrim prints the trim policy of a status: the point the node trims
// the log below, the votes that make it, and each member's last report
// with whether it still holds the trim back.
func printTrim(out io.Writer, t *adminpb.TrimStatus) {
	if t == nil {
		return
	}
	var votes []string
	for voter, pos := range t.Votes {
		votes = append(votes, fmt.Sprintf("%s=%d", voter, pos))
	}
	slices.Sort(votes)
	retention := time.Duration(t.RetentionMs) * time.Millisecond
	fmt.Fprintf(out, "trim: below %d (votes %s), retention %s in log time\n", t.Point, strings.Join(votes, " "), retention)
	for _, m := range t.Members {
		state := "holds the trim"
		if m.LeftBehind {
			state = "left behind (silent longer than the retention; catches up by checkpoint)"
		}
		if !m.Reported {
			fmt.Fprintf(out, "  %s: never reported, %s\n", m.Id, state)
			continue
		}
		age := time.Duration(t.LogTimeMs-m.ReportedMs) * time.Millisecond
		backup := ""
		if m.HasBackup {
			backup = fmt.Sprintf(", backup keeps the log from %d", m.Backup)
		}
		fmt.Fprintf(out, "  %s: applied %d, durable %d%s, reported at %d (%s ago in log time), %s\n", m.Id, m.Applied, m.Durable, backup, m.ReportPosition, age, state)
	}
}
