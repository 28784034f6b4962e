package exec

import (
	"fmt"
	"math"

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
		opts, err := sequenceOptions(t, c.Options, &seqName)
		if err != nil {
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

// sequenceOptions reads sequence options (START WITH, INCREMENT BY,
// MINVALUE, MAXVALUE, CACHE, [NO] CYCLE, AS type, SEQUENCE NAME) over
// the defaults of a sequence of type t, as CREATE SEQUENCE does.
func sequenceOptions(t types.Oid, opts []*pg.Node, name *string) (*catalog.Sequence, error) {
	q := &catalog.Sequence{Type: t, Increment: 1, Cache: 1}
	var start, min, max *int64
	for _, n := range opts {
		d := n.GetDefElem()
		if d == nil {
			continue
		}
		if d.Defname == "sequence_name" {
			names := strVals(d.Arg.GetList().Items)
			*name = names[len(names)-1]
			continue
		}
		if d.Defname == "cycle" {
			q.Cycle = d.Arg == nil || d.Arg.GetBoolean() == nil || d.Arg.GetBoolean().Boolval
			continue
		}
		if d.Arg == nil {
			continue // NO MINVALUE, NO MAXVALUE
		}
		v, err := defInt(d)
		if err != nil {
			return nil, err
		}
		switch d.Defname {
		case "start":
			start = &v
		case "increment":
			if v == 0 {
				return nil, pgerror.New(pgerror.InvalidParameterValue, "INCREMENT must not be zero")
			}
			q.Increment = v
		case "minvalue":
			min = &v
		case "maxvalue":
			max = &v
		case "cache":
			if v <= 0 {
				return nil, pgerror.New(pgerror.InvalidParameterValue, "CACHE (%d) must be greater than zero", v)
			}
			q.Cache = v
		default:
			return nil, pgerror.New(pgerror.FeatureNotSupported, "sequence option %s is not supported", d.Defname)
		}
	}
	typeMax := sequenceTypeMax(t)
	q.Min, q.Max = 1, typeMax
	if q.Increment < 0 {
		q.Min, q.Max = -typeMax-1, -1
	}
	if min != nil {
		q.Min = *min
	}
	if max != nil {
		q.Max = *max
	}
	q.Start = q.Min
	if q.Increment < 0 {
		q.Start = q.Max
	}
	if start != nil {
		q.Start = *start
	}
	if q.Min >= q.Max {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "MINVALUE (%d) must be less than MAXVALUE (%d)", q.Min, q.Max)
	}
	if q.Start < q.Min {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "START value (%d) cannot be less than MINVALUE (%d)", q.Start, q.Min)
	}
	if q.Start > q.Max {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "START value (%d) cannot be greater than MAXVALUE (%d)", q.Start, q.Max)
	}
	return q, nil
}

// sequenceTypeMax is the largest value of a sequence of type t.
func sequenceTypeMax(t types.Oid) int64 {
	switch t {
	case types.OidInt2:
		return math.MaxInt16
	case types.OidInt4:
		return math.MaxInt32
	}
	return math.MaxInt64
}

// defInt reads a DefElem's integer argument.
func defInt(d *pg.DefElem) (int64, error) {
	switch {
	case d.Arg.GetInteger() != nil:
		return int64(d.Arg.GetInteger().Ival), nil
	case d.Arg.GetFloat() != nil:
		var v int64
		if _, err := fmt.Sscan(d.Arg.GetFloat().Fval, &v); err == nil {
			return v, nil
		}
	}
	return 0, pgerror.New(pgerror.SyntaxError, "%s requires a numeric value", d.Defname)
}
