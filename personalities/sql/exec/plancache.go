package exec

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/types"
)

// A Statement run again (a prepared statement's Executes, a replayed
// transaction's statements at apply) reuses its last plan when nothing
// the plan depends on changed: the catalog (the same loaded version,
// compared by identity, so a transaction's own DDL never matches), the
// session settings analysis reads (user, search path, the type
// settings) and the parameter types. Only simple statements are kept:
// one table, no subqueries, CTEs, joins, set operations, function calls
// in FROM or aggregation. Their plans hold no state between runs
// (uncorrelated subqueries, CTEs and hash joins keep their rows in the
// plan for one statement, and are never kept).

// planCache is a Statement's last plan and what it was made for.
type planCache struct {
	mu struct {
		sync.Mutex
		cat    *catalog.Catalog
		key    string
		params []types.Type
		p      *planned
	}
	// simple is computed once: whether the statement may be kept.
	once   sync.Once
	simple bool
}

// sessionKey is what of a session analysis and planning read.
func sessionKey(s *Session) string {
	t := s.Types
	return fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%s\x00%d\x00%s", s.User, strings.Join(s.SearchPath, ","),
		t.TimeZoneName, t.DateStyle, t.IntervalStyle, t.ExtraFloatDigits, t.ByteaOutput)
}

// cached returns the kept plan of s for env and params, or nil.
func (s *Statement) cached(env *Env, params []types.Type) (*planned, error) {
	if !s.isSimple() {
		return nil, nil
	}
	cat, err := env.Catalog()
	if err != nil {
		return nil, err
	}
	c := &s.plans
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.p == nil || c.mu.cat != cat || !slices.Equal(c.mu.params, params) || c.mu.key != sessionKey(env.Session) {
		return nil, nil
	}
	return c.mu.p, nil
}

// keep records p as s's plan for env and params.
func (s *Statement) keep(env *Env, params []types.Type, p *planned) {
	if !s.isSimple() || env.cat == nil {
		return
	}
	c := &s.plans
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.cat, c.mu.key, c.mu.params, c.mu.p = env.cat, sessionKey(env.Session), slices.Clone(params), p
}

func (s *Statement) isSimple() bool {
	s.plans.once.Do(func() { s.plans.simple = simpleStatement(s.Node) })
	return s.plans.simple
}

// simpleStatement reports whether n is a SELECT, INSERT ... VALUES,
// UPDATE or DELETE of one table without any of the constructs whose
// plans keep rows between runs.
func simpleStatement(n *pg.Node) bool {
	var from []*pg.Node
	switch x := n.Node.(type) {
	case *pg.Node_SelectStmt:
		sel := x.SelectStmt
		if sel.Op != pg.SetOperation_SETOP_NONE || len(sel.GroupClause) > 0 || sel.HavingClause != nil ||
			len(sel.WindowClause) > 0 || len(sel.DistinctClause) > 0 || len(sel.ValuesLists) > 0 {
			return false
		}
		from = sel.FromClause
	case *pg.Node_InsertStmt:
		if x.InsertStmt.OnConflictClause != nil || x.InsertStmt.SelectStmt.GetSelectStmt().GetFromClause() != nil {
			return false
		}
	case *pg.Node_UpdateStmt:
		if len(x.UpdateStmt.FromClause) > 0 {
			return false
		}
	case *pg.Node_DeleteStmt:
		if len(x.DeleteStmt.UsingClause) > 0 {
			return false
		}
	default:
		return false
	}
	for _, f := range from {
		if f.GetRangeVar() == nil {
			return false
		}
	}
	if len(from) > 1 {
		return false
	}
	return !containsAny(n.ProtoReflect())
}

// containsAny reports whether m holds a subquery, a CTE, a join, a
// function call (an aggregate or a window function looks like any
// other) or a FROM item other than a table.
func containsAny(m protoreflect.Message) bool {
	switch m.Interface().(type) {
	case *pg.SubLink, *pg.WithClause, *pg.CommonTableExpr, *pg.JoinExpr, *pg.FuncCall, *pg.RangeSubselect, *pg.RangeFunction:
		return true
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len() && !found; i++ {
				found = containsAny(l.Get(i).Message())
			}
		case fd.Message() != nil && !fd.IsMap():
			found = containsAny(v.Message())
		}
		return !found
	})
	return found
}
