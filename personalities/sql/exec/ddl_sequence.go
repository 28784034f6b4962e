package exec

import (
	"math"
	"strconv"

	"google.golang.org/protobuf/proto"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// createSequenceStmt plans CREATE SEQUENCE [IF NOT EXISTS] s [AS type]
// [INCREMENT n] [MINVALUE n | NO MINVALUE] [MAXVALUE n | NO MAXVALUE]
// [START n] [CACHE n] [[NO] CYCLE] [OWNED BY t.c | NONE]. CACHE is
// accepted and recorded; values are never cached (each nextval is one
// log entry), which a client cannot tell apart.
func (a *analyzer) createSequenceStmt(cs *pg.CreateSeqStmt) (*planned, error) {
	schema, err := a.creationSchema(cs.Sequence.Schemaname)
	if err != nil {
		return nil, err
	}
	name := cs.Sequence.Relname
	if a.cat.Relation(schema.Oid, name) != nil {
		if cs.IfNotExists {
			return skipped("CREATE SEQUENCE", Notice(pgerror.DuplicateTable, "relation \"%s\" already exists, skipping", name)), nil
		}
		return nil, pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists", name)
	}
	seq := &catalog.Sequence{Type: types.OidInt8, Increment: 1}
	owner, err := a.sequenceOptions(seq, cs.Options, true, schema.Oid)
	if err != nil {
		return nil, err
	}
	return ddl("CREATE SEQUENCE", func(ctx *EvalCtx, res *Result) error {
		w := catalog.NewWriter(ctx.Env.Store)
		oid, err := w.NextOid()
		if err != nil {
			return err
		}
		if owner != nil {
			seq.OwnedByTable, seq.OwnedByColumn = owner[0].(catalog.Oid), owner[1].(int16)
		}
		return w.Put(&catalog.Object{Oid: oid, Kind: "relation", Name: name, Schema: schema.Oid, RelKind: catalog.RelSequence, Owner: a.ownerOid(), Sequence: seq})
	}), nil
}

// alterSequenceStmt plans ALTER SEQUENCE [IF EXISTS] s options, with
// RESTART [WITH n] besides CREATE SEQUENCE's options.
func (a *analyzer) alterSequenceStmt(as *pg.AlterSeqStmt) (*planned, error) {
	obj, notice, err := a.relationOf(as.Sequence, catalog.RelSequence, as.MissingOk)
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return skipped("ALTER SEQUENCE", notice), nil
	}
	c := clone(obj)
	seq := c.Sequence
	var restart *int64
	var opts []*pg.Node
	for _, o := range as.Options {
		d := o.GetDefElem()
		if d.Defname == "restart" {
			v := seq.Start
			if d.Arg != nil {
				if v, err = defInt(d); err != nil {
					return nil, err
				}
			}
			restart = &v
			continue
		}
		opts = append(opts, o)
	}
	owner, err := a.sequenceOptions(seq, opts, false, obj.Schema)
	if err != nil {
		return nil, err
	}
	if restart != nil {
		if *restart < seq.Min {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "RESTART value (%d) cannot be less than MINVALUE (%d)", *restart, seq.Min)
		}
		if *restart > seq.Max {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "RESTART value (%d) cannot be greater than MAXVALUE (%d)", *restart, seq.Max)
		}
	}
	return ddl("ALTER SEQUENCE", func(ctx *EvalCtx, res *Result) error {
		if owner != nil {
			seq.OwnedByTable, seq.OwnedByColumn = owner[0].(catalog.Oid), owner[1].(int16)
		}
		if restart != nil {
			if err := putSequenceState(ctx.Env.Store, c.Oid, *restart, false); err != nil {
				return err
			}
		}
		return catalog.NewWriter(ctx.Env.Store).Put(c)
	}), nil
}

// defInt reads a DefElem's integer argument.
func defInt(d *pg.DefElem) (int64, error) {
	switch v := d.Arg.Node.(type) {
	case *pg.Node_Integer:
		return int64(v.Integer.Ival), nil
	case *pg.Node_Float:
		n, err := strconv.ParseInt(v.Float.Fval, 10, 64)
		if err != nil {
			return 0, pgerror.New(pgerror.NumericValueOutOfRange, "value \"%s\" is out of range for type bigint", v.Float.Fval)
		}
		return n, nil
	}
	return 0, pgerror.New(pgerror.SyntaxError, "%s requires a numeric value", d.Defname)
}

// typeRange is the range of a sequence's type.
func typeRange(t types.Oid) (int64, int64) {
	switch t {
	case types.OidInt2:
		return math.MinInt16, math.MaxInt16
	case types.OidInt4:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

// sequenceOptions applies options to seq and checks the result as
// Postgres's init_params does. create fills the defaults a new sequence
// takes. It returns the OWNED BY target (table oid, column attnum), nil
// if not given; OWNED BY NONE gives {0, 0}.
func (a *analyzer) sequenceOptions(seq *catalog.Sequence, opts []*pg.Node, create bool, schema catalog.Oid) ([]any, error) {
	var minSet, maxSet, startSet, typeSet bool
	var noMin, noMax bool
	var owner []any
	seen := map[string]bool{}
	oldType := seq.Type
	for _, o := range opts {
		d := o.GetDefElem()
		if seen[d.Defname] {
			return nil, pgerror.New(pgerror.SyntaxError, "conflicting or redundant options").WithPosition(d.Location + 1)
		}
		seen[d.Defname] = true
		var err error
		switch d.Defname {
		case "as":
			t, err := ResolveTypeName(d.Arg.GetTypeName())
			if err != nil {
				return nil, err
			}
			if t.Oid != types.OidInt2 && t.Oid != types.OidInt4 && t.Oid != types.OidInt8 {
				return nil, pgerror.New(pgerror.InvalidParameterValue, "sequence type must be smallint, integer, or bigint")
			}
			seq.Type, typeSet = t.Oid, true
		case "increment":
			if seq.Increment, err = defInt(d); err != nil {
				return nil, err
			}
			if seq.Increment == 0 {
				return nil, pgerror.New(pgerror.InvalidParameterValue, "INCREMENT must not be zero")
			}
		case "minvalue":
			if d.Arg == nil {
				noMin = true
			} else if seq.Min, err = defInt(d); err != nil {
				return nil, err
			}
			minSet = true
		case "maxvalue":
			if d.Arg == nil {
				noMax = true
			} else if seq.Max, err = defInt(d); err != nil {
				return nil, err
			}
			maxSet = true
		case "start":
			if seq.Start, err = defInt(d); err != nil {
				return nil, err
			}
			startSet = true
		case "cache":
			if seq.Cache, err = defInt(d); err != nil {
				return nil, err
			}
			if seq.Cache <= 0 {
				return nil, pgerror.New(pgerror.InvalidParameterValue, "CACHE (%d) must be greater than zero", seq.Cache)
			}
		case "cycle":
			seq.Cycle = d.Arg.GetBoolean().GetBoolval()
		case "owned_by":
			names := strVals(d.Arg.GetList().Items)
			if len(names) == 1 && names[0] == "none" {
				owner = []any{catalog.Oid(0), int16(0)}
				continue
			}
			if len(names) < 2 {
				return nil, pgerror.New(pgerror.SyntaxError, "invalid OWNED BY option").WithHint("Specify OWNED BY table.column or OWNED BY NONE.")
			}
			tschema := ""
			if len(names) > 2 {
				tschema = names[len(names)-3]
			}
			t, err := a.cat.Resolve(tschema, names[len(names)-2], a.searchPath())
			if err != nil {
				return nil, err
			}
			if t == nil {
				return nil, pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", names[len(names)-2])
			}
			if t.RelKind != catalog.RelTable && t.RelKind != catalog.RelView {
				return nil, pgerror.New(pgerror.ObjectNotInPrerequisiteState, "sequence cannot be owned by relation \"%s\"", t.Name).
					WithDetail("This operation is not supported for %ss.", relKindLower(t.RelKind))
			}
			if t.Schema != schema {
				return nil, pgerror.New(pgerror.ObjectNotInPrerequisiteState, "sequence must be in same schema as table it is linked to")
			}
			col := t.ColumnByName(names[len(names)-1])
			if col == nil {
				return nil, pgerror.New(pgerror.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", names[len(names)-1], t.Name)
			}
			owner = []any{t.Oid, col.Num}
		default:
			return nil, pgerror.New(pgerror.SyntaxError, "option \"%s\" not recognized", d.Defname)
		}
	}
	lo, hi := typeRange(seq.Type)
	if create || typeSet && !maxSet {
		if !maxSet || noMax {
			// A default bound follows the type when it changes.
			if create || seq.Max == maxOf(oldType) || seq.Max == -1 {
				seq.Max = hi
				if seq.Increment < 0 {
					seq.Max = -1
				}
			}
		}
		if !minSet || noMin {
			if create || seq.Min == minOf(oldType) || seq.Min == 1 {
				seq.Min = 1
				if seq.Increment < 0 {
					seq.Min = lo
				}
			}
		}
		if create && seq.Cache == 0 {
			seq.Cache = 1
		}
	}
	if noMax {
		seq.Max = hi
		if seq.Increment < 0 {
			seq.Max = -1
		}
	}
	if noMin {
		seq.Min = 1
		if seq.Increment < 0 {
			seq.Min = lo
		}
	}
	typeName := map[types.Oid]string{types.OidInt2: "smallint", types.OidInt4: "integer", types.OidInt8: "bigint"}[seq.Type]
	if seq.Max < lo || seq.Max > hi {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "MAXVALUE (%d) is out of range for sequence data type %s", seq.Max, typeName)
	}
	if seq.Min < lo || seq.Min > hi {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "MINVALUE (%d) is out of range for sequence data type %s", seq.Min, typeName)
	}
	if seq.Min >= seq.Max {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "MINVALUE (%d) must be less than MAXVALUE (%d)", seq.Min, seq.Max)
	}
	if create && !startSet {
		seq.Start = seq.Min
		if seq.Increment < 0 {
			seq.Start = seq.Max
		}
	}
	if seq.Start < seq.Min {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "START value (%d) cannot be less than MINVALUE (%d)", seq.Start, seq.Min)
	}
	if seq.Start > seq.Max {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "START value (%d) cannot be greater than MAXVALUE (%d)", seq.Start, seq.Max)
	}
	return owner, nil
}

func maxOf(t types.Oid) int64 { _, hi := typeRange(t); return hi }
func minOf(t types.Oid) int64 { lo, _ := typeRange(t); return lo }

func relKindLower(k byte) string {
	switch k {
	case catalog.RelTable:
		return "table"
	case catalog.RelView:
		return "view"
	case catalog.RelIndex:
		return "index"
	}
	return "sequence"
}

func init() {
	setval := func(ctx *EvalCtx, a []any) (any, error) {
		seq, err := sequenceArg(ctx, a[0])
		if err != nil {
			return nil, err
		}
		v := a[1].(int64)
		called := true
		if len(a) > 2 {
			called = a[2].(bool)
		}
		if v < seq.Sequence.Min || v > seq.Sequence.Max {
			return nil, pgerror.New(pgerror.NumericValueOutOfRange, "setval: value %d is out of bounds for sequence \"%s\" (%d..%d)", v, seq.Name, seq.Sequence.Min, seq.Sequence.Max)
		}
		if err := putSequenceState(ctx.Env.Store, seq.Oid, v, called); err != nil {
			return nil, err
		}
		if called && ctx.Env.Session != nil {
			// As Postgres: setval sets currval only when is_called.
			ctx.Env.Session.Sequences.note(seq.Oid, v, false)
		}
		return v, nil
	}
	RegisterFunc(&Func{Name: "setval", Args: []types.Oid{types.OidRegclass, types.OidInt8}, Ret: types.OidInt8, Strict: true, Oid: 1576, Fn: setval})
	RegisterFunc(&Func{Name: "setval", Args: []types.Oid{types.OidRegclass, types.OidInt8, types.OidBool}, Ret: types.OidInt8, Strict: true, Oid: 1765, Fn: setval})
}

// changesSequences reports whether a statement calls nextval or setval
// (a SELECT that does writes, so it runs through the log).
func changesSequences(n *pg.Node) bool {
	found := false
	walkTree(n, func(m proto.Message) bool {
		if fc, ok := m.(*pg.FuncCall); ok {
			switch names := strVals(fc.Funcname); names[len(names)-1] {
			case "nextval", "setval":
				found = true
			}
		}
		return !found
	})
	return found
}
