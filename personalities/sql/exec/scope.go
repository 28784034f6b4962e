package exec

import (
	"strings"

	"hourglass/personalities/sql/pgerror"
)

// Scope is the set of columns names resolve against in one query level:
// the columns of its FROM items, in order, with an enclosing query's
// scope as parent (for correlated references).
type Scope struct {
	Cols   []Column
	Parent *Scope
	// Tables lists the range-table names (aliases) of the FROM items, for
	// "t.*" and for errors.
	Tables []string
	// aliased maps the name of a relation read under an alias to the
	// alias, for the error naming it.
	aliased map[string]string
	// refs counts the references resolved here from nested queries (a
	// subquery or FROM item is correlated when it adds to it).
	refs int
}

// ErrUnknownColumn is the 42703 error for a column reference that
// resolves nowhere.
func errUnknownColumn(name string, pos int32) error {
	if !strings.Contains(name, ".") {
		name = `"` + name + `"`
	}
	return pgerror.New(pgerror.UndefinedColumn, "column %s does not exist", name).WithPosition(pos)
}

// resolve finds a column by its (qualified) name: fields is [col],
// [table, col] or [schema, table, col]. It returns the column's position,
// how many query levels out it is, and the column.
func (s *Scope) resolve(fields []string, pos int32) (int, int, *Column, error) {
	level := 0
	for sc := s; sc != nil; sc, level = sc.Parent, level+1 {
		idx, err := sc.find(fields, pos)
		if err != nil {
			return 0, 0, nil, err
		}
		if idx >= 0 {
			if level > 0 {
				sc.refs++
			}
			return idx, level, &sc.Cols[idx], nil
		}
	}
	name := strings.Join(fields, ".")
	if len(fields) > 1 && !s.hasTable(fields[len(fields)-2]) {
		qual := fields[len(fields)-2]
		for sc := s; sc != nil; sc = sc.Parent {
			if alias, ok := sc.aliased[qual]; ok {
				e := pgerror.New(pgerror.UndefinedTable, "invalid reference to FROM-clause entry for table \"%s\"", qual).WithPosition(pos)
				e.Hint = "Perhaps you meant to reference the table alias \"" + alias + "\"."
				return 0, 0, nil, e
			}
		}
		return 0, 0, nil, pgerror.New(pgerror.UndefinedTable, "missing FROM-clause entry for table \"%s\"", fields[len(fields)-2]).WithPosition(pos)
	}
	return 0, 0, nil, errUnknownColumn(name, pos)
}

// addTable adds a FROM item's name; two items of one FROM clause may
// not have the same.
func (s *Scope) addTable(name string) error {
	for _, t := range s.Tables {
		if t == name {
			return pgerror.New(pgerror.DuplicateAlias, "table name \"%s\" specified more than once", name)
		}
	}
	s.Tables = append(s.Tables, name)
	return nil
}

func (s *Scope) hasTable(name string) bool {
	for sc := s; sc != nil; sc = sc.Parent {
		for _, t := range sc.Tables {
			if t == name {
				return true
			}
		}
	}
	return false
}

// find looks in this level only: -1 if absent; an error if ambiguous.
func (s *Scope) find(fields []string, pos int32) (int, error) {
	col := fields[len(fields)-1]
	qual := ""
	if len(fields) > 1 {
		qual = fields[len(fields)-2]
	}
	found := -1
	for i, c := range s.Cols {
		if c.Hidden || c.Name != col || (qual != "" && c.Qualifier != qual) || (qual == "" && c.OnlyQualified) {
			continue
		}
		if found >= 0 {
			return 0, pgerror.New(pgerror.AmbiguousColumn, "column reference \"%s\" is ambiguous", col).WithPosition(pos)
		}
		found = i
	}
	return found, nil
}

// noteAlias records that relation rel is read under alias.
func (s *Scope) noteAlias(rel, alias string) {
	if s.aliased == nil {
		s.aliased = map[string]string{}
	}
	s.aliased[rel] = alias
}
