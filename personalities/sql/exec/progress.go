package exec

import (
	"sort"
	"sync"
	"sync/atomic"

	"hourglass/personalities/sql/catalog"
)

// pg_stat_progress_copy: the COPY commands under way on this node (its
// process), as Postgres shows those of its server, with the bytes and rows
// each has taken so far.

// CopyProgress is a COPY's fixed description.
type CopyProgress struct {
	PID      int32
	Database string
	Relid    catalog.Oid
	Command  string // "COPY FROM" or "COPY TO"
	Type     string // "PIPE" (STDIN/STDOUT): the only kind served
}

// CopyRun is one COPY under way.
type CopyRun struct {
	CopyProgress
	bytes  atomic.Int64
	tuples atomic.Int64
}

// Bytes adds n to the bytes processed.
func (r *CopyRun) Bytes(n int64) { r.bytes.Add(n) }

// Tuple counts a row processed.
func (r *CopyRun) Tuple() { r.tuples.Add(1) }

// Done removes the COPY from the view.
func (r *CopyRun) Done() {
	copies.Lock()
	delete(copies.m, r)
	copies.Unlock()
}

var copies struct {
	sync.Mutex
	m map[*CopyRun]struct{}
}

// StartCopy adds a COPY to pg_stat_progress_copy until its Done.
func StartCopy(p CopyProgress) *CopyRun {
	r := &CopyRun{CopyProgress: p}
	copies.Lock()
	if copies.m == nil {
		copies.m = map[*CopyRun]struct{}{}
	}
	copies.m[r] = struct{}{}
	copies.Unlock()
	return r
}

func init() {
	registerSys(catalog.PgCatalogNamespace, 12040, 'v', "pg_stat_progress_copy",
		"pid int4, datid oid, datname name, relid oid, command text, type text, bytes_processed int8, bytes_total int8, tuples_processed int8, tuples_excluded int8",
		pgStatProgressCopy)
}

func pgStatProgressCopy(*sysGen) ([]Row, error) {
	copies.Lock()
	runs := make([]*CopyRun, 0, len(copies.m))
	for r := range copies.m {
		runs = append(runs, r)
	}
	copies.Unlock()
	sort.Slice(runs, func(i, j int) bool { return runs[i].PID < runs[j].PID })
	rows := make([]Row, 0, len(runs))
	for _, r := range runs {
		rows = append(rows, Row{int64(r.PID), oidv(catalog.DatabaseOid), r.Database, oidv(r.Relid), r.Command, r.Type,
			r.bytes.Load(), int64(0), r.tuples.Load(), int64(0)})
	}
	return rows, nil
}
