package exec

import (
	"fmt"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// Identity columns: GENERATED { ALWAYS | BY DEFAULT } AS IDENTITY [(
// sequence options )]. The column owns a sequence named table_col_seq;
// its default is that sequence's nextval (kept apart from Default, which
// Postgres leaves empty for identity columns).

// identityDefault is an identity column's default: nextval of its
// sequence, assigned to the column's type.
func identityDefault(c *catalog.Column) Expr {
	call := &FuncExpr{Fn: functions["nextval"][0], Args: []Expr{&Const{T: types.T(types.OidRegclass), Value: int64(c.Sequence)}}, T: types.Int8Type}
	if c.Type.Oid == types.OidInt8 {
		return call
	}
	return &CastExpr{Arg: call, T: c.Type}
}

// identityValue decides what an INSERT's explicit value for column c
// means under its OVERRIDING clause: skip (use the default instead, for
// OVERRIDING USER VALUE), or an error (a GENERATED ALWAYS column without
// OVERRIDING SYSTEM VALUE).
func identityValue(c *catalog.Column, override pg.OverridingKind) (bool, error) {
	if c.Identity == 0 {
		return false, nil
	}
	switch override {
	case pg.OverridingKind_OVERRIDING_USER_VALUE:
		return true, nil
	case pg.OverridingKind_OVERRIDING_SYSTEM_VALUE:
		return false, nil
	}
	if c.Identity == 'a' {
		return false, pgerror.New(pgerror.GeneratedAlways, "cannot insert a non-DEFAULT value into column \"%s\"", c.Name).
			WithDetail("Column \"%s\" is an identity column defined as GENERATED ALWAYS.", c.Name).
			WithHint("Use OVERRIDING SYSTEM VALUE to override.")
	}
	return false, nil
}

// identityColumn makes col an identity column (constraint c of its
// definition) of table obj: NOT NULL, with a sequence created by the
// returned function once the table's oid is known.
func (a *analyzer) identityColumn(w *catalog.Writer, schema *catalog.Object, obj *catalog.Object, col *catalog.Column, c *pg.Constraint) (func() error, error) {
	switch col.Type.Oid {
	case types.OidInt2, types.OidInt4, types.OidInt8:
	default:
		return nil, pgerror.New(pgerror.InvalidParameterValue, "identity column type must be smallint, integer, or bigint")
	}
	if col.Identity != 0 {
		return nil, pgerror.New(pgerror.SyntaxError, "multiple identity specifications for column \"%s\" of table \"%s\"", col.Name, obj.Name)
	}
	col.Identity = 'd'
	if c.GeneratedWhen == "a" {
		col.Identity = 'a'
	}
	col.NotNull = true
	num, name, t := col.Num, col.Name, col.Type.Oid
	return func() error {
		seqName := fmt.Sprintf("%s_%s_seq", obj.Name, name)
		var rest []*pg.Node
		for _, n := range c.Options {
			if d := n.GetDefElem(); d != nil && d.Defname == "sequence_name" {
				names := strVals(d.Arg.GetList().Items)
				seqName = names[len(names)-1]
				continue
			}
			rest = append(rest, n)
		}
		opts := &catalog.Sequence{Type: t, Increment: 1}
		if _, err := a.sequenceOptions(opts, rest, true, schema.Oid); err != nil {
			return err
		}
		seq, err := a.createSequence(w, schema, seqName, t, obj, num)
		if err != nil {
			return err
		}
		seq.Sequence = opts
		seq.Sequence.OwnedByTable, seq.Sequence.OwnedByColumn = obj.Oid, num
		if err := w.Put(seq); err != nil {
			return err
		}
		obj.Column(num).Sequence = seq.Oid
		return nil
	}, nil
}
