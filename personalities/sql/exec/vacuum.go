package exec

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
)

// VACUUM and ANALYZE check their options and relations as Postgres does
// and answer its command tag, changing nothing: the store keeps no dead
// row versions to reclaim (a write replaces a key), and the planner
// keeps no statistics (it chooses an index by the conditions alone).
// Neither writes, so neither goes through the log. VERBOSE prints no
// INFO lines.

// vacuumOptions are the options VACUUM (...) and ANALYZE (...) take in
// Postgres 15, with whether each takes a Boolean.
var vacuumOptions = map[string]bool{
	"verbose": true, "skip_locked": true, "analyze": true, "freeze": true, "full": true,
	"disable_page_skipping": true, "process_toast": true, "truncate": true,
	"index_cleanup": false, "parallel": false,
}

// IsVacuum reports whether n is VACUUM (not ANALYZE), which may not run
// inside a transaction block.
func IsVacuum(n *pg.Node) bool {
	v := n.GetVacuumStmt()
	return v != nil && v.IsVacuumcmd
}

// vacuumStmt plans VACUUM [(options)] [table [(columns)], ...] and
// ANALYZE [(options)] [table [(columns)], ...].
func (a *analyzer) vacuumStmt(v *pg.VacuumStmt) (*planned, error) {
	verb := "ANALYZE"
	if v.IsVacuumcmd {
		verb = "VACUUM"
	}
	analyze, full, parallel := !v.IsVacuumcmd, false, false
	for _, o := range v.Options {
		d := o.GetDefElem()
		boolean, ok := vacuumOptions[d.Defname]
		if !ok || (!v.IsVacuumcmd && d.Defname != "verbose" && d.Defname != "skip_locked") {
			return nil, pgerror.New(pgerror.SyntaxError, "unrecognized %s option \"%s\"", verb, d.Defname).WithPosition(d.Location + 1)
		}
		on := true
		if boolean && d.Arg != nil {
			var err error
			if on, err = defBoolStrict(d); err != nil {
				return nil, err
			}
		}
		switch d.Defname {
		case "analyze":
			analyze = on
		case "full":
			full = on
		case "parallel":
			parallel = true
		}
	}
	if full && parallel {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "VACUUM FULL cannot be performed in parallel")
	}
	var notices []*pgerror.Error
	for _, n := range v.Rels {
		vr := n.GetVacuumRelation()
		if vr == nil || vr.Relation == nil {
			continue
		}
		if len(vr.VaCols) > 0 && !analyze {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "ANALYZE option must be specified when a column list is provided")
		}
		rv := vr.Relation
		if t := a.systemRelation(rv); t != nil {
			if t.Kind != catalog.RelTable {
				notices = append(notices, skipping(rv.Relname, verb))
			}
			continue
		}
		obj, err := a.existing(rv)
		if err != nil {
			return nil, err
		}
		if obj.RelKind != catalog.RelTable {
			notices = append(notices, skipping(obj.Name, verb))
			continue
		}
		seen := map[string]bool{}
		for _, c := range vr.VaCols {
			name := strVal(c)
			if obj.ColumnByName(name) == nil {
				return nil, pgerror.New(pgerror.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", name, obj.Name)
			}
			if seen[name] {
				return nil, pgerror.New(pgerror.DuplicateColumn, "column \"%s\" of relation \"%s\" appears more than once", name, obj.Name)
			}
			seen[name] = true
		}
	}
	return &planned{run: func(*EvalCtx) (*Result, error) {
		return &Result{Tag: verb, Notices: notices}, nil
	}}, nil
}

// skipping is the WARNING VACUUM and ANALYZE give for a relation that is
// not a table.
func skipping(name, verb string) *pgerror.Error {
	e := pgerror.New(pgerror.Warning, "skipping \"%s\" --- cannot %s non-tables or special system tables", name, strings.ToLower(verb))
	e.Severity = "WARNING"
	return e
}

// defBoolStrict reads a Boolean option's value as Postgres's
// defGetBoolean does.
func defBoolStrict(d *pg.DefElem) (bool, error) {
	if c := d.Arg.GetAConst(); c != nil && c.GetIval() != nil {
		switch c.GetIval().Ival {
		case 0:
			return false, nil
		case 1:
			return true, nil
		}
	}
	switch strings.ToLower(defString(d.Arg)) {
	case "true", "on":
		return true, nil
	case "false", "off":
		return false, nil
	}
	return false, pgerror.New(pgerror.SyntaxError, "%s requires a Boolean value", d.Defname)
}
