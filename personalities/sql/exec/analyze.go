package exec

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// analyzer turns parse trees into typed expressions and plans for one
// statement.
type analyzer struct {
	env *Env
	cat *catalog.Catalog
	// params are the statement's parameter types, as given by the client
	// or inferred from their use ($1 is params[0]; OidUnknown until known).
	params *[]types.Type
	// ctes are the WITH queries in scope, innermost last.
	ctes []map[string]*cteDef
	// unknownLeaves are the set operation branches whose string literals
	// stay of unknown type (the set operation resolves them);
	// keepUnknown is set while such a branch's select list is analyzed.
	unknownLeaves map[*pg.SelectStmt]bool
	keepUnknown   bool
	// agg collects the aggregates of the query level being analyzed
	// (group.go); nil where aggregates are not allowed.
	agg *aggScope
}

func newAnalyzer(env *Env, params *[]types.Type) (*analyzer, error) {
	cat, err := env.Catalog()
	if err != nil {
		return nil, err
	}
	return &analyzer{env: env, cat: cat, params: params}, nil
}

// searchPath is the session's search path as schema oids.
func (a *analyzer) searchPath() []catalog.Oid {
	return a.cat.SearchPath(a.env.Session.SearchPath, a.env.Session.User)
}

// strVal returns a String node's value.
func strVal(n *pg.Node) string {
	if s := n.GetString_(); s != nil {
		return s.Sval
	}
	return ""
}

// strVals returns the values of a list of String nodes.
func strVals(ns []*pg.Node) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = strVal(n)
	}
	return out
}

// expr analyzes an expression in scope.
func (a *analyzer) expr(n *pg.Node, s *Scope) (Expr, error) {
	switch x := n.Node.(type) {
	case *pg.Node_AConst:
		e, err := a.constant(x.AConst)
		if c, ok := e.(*Const); ok {
			c.Pos = x.AConst.Location + 1
		}
		return e, err
	case *pg.Node_ColumnRef:
		return a.columnRef(x.ColumnRef, s)
	case *pg.Node_ParamRef:
		return a.param(x.ParamRef)
	case *pg.Node_AExpr:
		return a.aExpr(x.AExpr, s)
	case *pg.Node_BoolExpr:
		return a.boolExpr(x.BoolExpr, s)
	case *pg.Node_NullTest:
		arg, err := a.expr(x.NullTest.Arg, s)
		if err != nil {
			return nil, err
		}
		return &NullTest{Arg: arg, Not: x.NullTest.Nulltesttype == pg.NullTestType_IS_NOT_NULL}, nil
	case *pg.Node_TypeCast:
		return a.typeCast(x.TypeCast, s)
	case *pg.Node_FuncCall:
		return a.funcCall(x.FuncCall, s)
	case *pg.Node_SqlvalueFunction:
		return a.sqlValueFunction(x.SqlvalueFunction)
	case *pg.Node_CollateClause:
		return a.collateClause(x.CollateClause, s)
	case *pg.Node_AArrayExpr:
		return a.arrayExpr(x.AArrayExpr, s, types.Type{})
	case *pg.Node_AIndirection:
		return a.indirection(x.AIndirection, s)
	case *pg.Node_SubLink:
		return a.subLink(x.SubLink, s)
	}
	if e, ok, err := a.exprMore(n, s); ok {
		return e, err
	}
	return nil, a.unsupported(n)
}

// unsupported is the error for a construct not built.
func (a *analyzer) unsupported(n *pg.Node) error {
	name := strings.TrimPrefix(fmt.Sprintf("%T", n.Node), "*pg_query.Node_")
	return pgerror.New(pgerror.FeatureNotSupported, "%s is not supported", name)
}

// constant analyzes a literal: integers are int4 (int8, then numeric, when
// too large), decimals numeric, strings of unknown type until context
// decides, NULL of unknown type.
func (a *analyzer) constant(c *pg.A_Const) (Expr, error) {
	if c.Isnull {
		return &Const{T: types.UnknownType}, nil
	}
	switch v := c.Val.(type) {
	case *pg.A_Const_Ival:
		return &Const{T: types.Int4Type, Value: int64(v.Ival.Ival)}, nil
	case *pg.A_Const_Fval:
		// Integers too large for int4 come as Fval too.
		if n, err := strconv.ParseInt(v.Fval.Fval, 10, 64); err == nil {
			if n >= math.MinInt32 && n <= math.MaxInt32 {
				return &Const{T: types.Int4Type, Value: n}, nil
			}
			return &Const{T: types.Int8Type, Value: n}, nil
		}
		d, err := types.Parse(types.NumericType, v.Fval.Fval, a.env.Session.Types)
		if err != nil {
			return nil, err
		}
		return &Const{T: types.NumericType, Value: d}, nil
	case *pg.A_Const_Boolval:
		return &Const{T: types.BoolType, Value: v.Boolval.Boolval}, nil
	case *pg.A_Const_Sval:
		return &Const{T: types.UnknownType, Value: v.Sval.Sval}, nil
	case *pg.A_Const_Bsval:
		return nil, pgerror.New(pgerror.FeatureNotSupported, "bit strings are not supported")
	}
	return &Const{T: types.UnknownType}, nil
}

func (a *analyzer) columnRef(c *pg.ColumnRef, s *Scope) (Expr, error) {
	var fields []string
	for _, f := range c.Fields {
		if f.GetAStar() != nil {
			return nil, pgerror.New(pgerror.SyntaxError, "row expansion via \"*\" is not supported here").WithPosition(c.Location + 1)
		}
		fields = append(fields, strVal(f))
	}
	if s == nil {
		return nil, errUnknownColumn(strings.Join(fields, "."), c.Location+1)
	}
	idx, level, col, err := s.resolve(fields, c.Location+1)
	if err != nil {
		return nil, err
	}
	ref := &ColRef{Index: idx, Level: level, T: col.Type}
	if a.agg != nil {
		a.agg.noteRef(ref, c.Location+1, col)
	}
	return ref, nil
}

func (a *analyzer) param(p *pg.ParamRef) (Expr, error) {
	i := int(p.Number) - 1
	if i < 0 || i >= 65535 {
		return nil, pgerror.New(pgerror.UndefinedParameter, "there is no parameter $%d", p.Number).WithPosition(p.Location + 1)
	}
	for len(*a.params) <= i {
		*a.params = append(*a.params, types.UnknownType)
	}
	return &Param{Index: i, T: (*a.params)[i]}, nil
}

// coerce makes e a value of type t, as an implicit coercion or (explicit)
// a cast: literals of unknown type are read as t, parameters of unknown
// type become t, other values are converted if Postgres would.
func (a *analyzer) coerce(e Expr, t types.Type, explicit bool) (Expr, error) {
	src := e.Type()
	if src.Oid == t.Oid && (src.Mod == t.Mod || t.Mod < 0) {
		return e, nil
	}
	switch x := e.(type) {
	case *Const:
		if x.Value == nil {
			return &Const{T: t}, nil
		}
		if str, ok := x.Value.(string); ok && isRegType(t.Oid) {
			oid, err := regInput(a.cat, a.env.Session, t.Oid, str)
			if err != nil {
				return nil, err
			}
			return &Const{T: t, Value: oid}, nil
		}
		// A literal is read without the modifier (an error there points
		// at the literal), then the modifier is applied, as Postgres
		// does.
		base := t
		if src.Oid == types.OidUnknown && t.Oid != types.OidInterval {
			base.Mod = -1
		}
		v, err := types.Cast(x.Value, src, base, explicit, a.env.Session.Types)
		if err != nil {
			if pe, ok := err.(*pgerror.Error); ok && pe.Position == 0 && src.Oid == types.OidUnknown && x.Pos > 0 {
				cp := *pe
				cp.Position = x.Pos
				return nil, &cp
			}
			return nil, err
		}
		if base.Mod != t.Mod {
			if v, err = types.Coerce(t, v, explicit); err != nil {
				return nil, err
			}
		}
		return &Const{T: t, Value: v}, nil
	case *Param:
		if src.Oid == types.OidUnknown {
			(*a.params)[x.Index] = types.T(t.Oid)
			x.T = types.T(t.Oid)
			if t.Mod < 0 {
				return x, nil
			}
			return &CastExpr{Arg: x, T: t, Explicit: explicit}, nil
		}
	}
	if !explicit && !CanImplicit(src.Oid, t.Oid) {
		return nil, pgerror.New(pgerror.DatatypeMismatch, "argument of type %s cannot be coerced to %s", src, t)
	}
	return &CastExpr{Arg: e, T: t, Explicit: explicit}, nil
}

// call resolves a function or operator on analyzed arguments and coerces
// them to what the chosen overload takes.
func (a *analyzer) call(kind, name string, fs []*Func, args []Expr, pos int32) (Expr, error) {
	ts := make([]types.Type, len(args))
	for i, e := range args {
		ts[i] = e.Type()
	}
	f, want, err := resolve(kind, name, fs, ts)
	if err != nil {
		if pe, ok := err.(*pgerror.Error); ok && pe.Position == 0 {
			pe.Position = pos
		}
		return nil, err
	}
	for i := range args {
		if args[i], err = a.coerce(args[i], types.T(want[i]), false); err != nil {
			return nil, err
		}
	}
	return &FuncExpr{Fn: f, Args: args, T: retType(f, want, ts)}, nil
}

func (a *analyzer) aExpr(x *pg.A_Expr, s *Scope) (Expr, error) {
	name := ""
	if len(x.Name) > 0 {
		name = strVal(x.Name[len(x.Name)-1])
	}
	switch x.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		var args []Expr
		for _, n := range []*pg.Node{x.Lexpr, x.Rexpr} {
			if n == nil {
				continue
			}
			e, err := a.expr(n, s)
			if err != nil {
				return nil, err
			}
			args = append(args, e)
		}
		return a.operator(name, args, x.Location+1)
	case pg.A_Expr_Kind_AEXPR_OP_ANY, pg.A_Expr_Kind_AEXPR_OP_ALL:
		return a.scalarArrayOp(x, s, x.Kind == pg.A_Expr_Kind_AEXPR_OP_ALL)
	}
	return a.aExprMore(x, s)
}

// operator resolves a binary or prefix operator. With one argument of
// unknown type against a typed one, the literal takes the typed side's
// type, as Postgres resolves "col = 'x'".
func (a *analyzer) operator(name string, args []Expr, pos int32) (Expr, error) {
	if len(args) == 2 {
		l, r := args[0].Type().Oid, args[1].Type().Oid
		if l == types.OidUnknown && r != types.OidUnknown {
			if c, err := a.coerce(args[0], types.T(r), false); err == nil {
				args[0] = c
			} else if hasOperator(name, r) {
				return nil, err
			}
		} else if r == types.OidUnknown && l != types.OidUnknown {
			if c, err := a.coerce(args[1], types.T(l), false); err == nil {
				args[1] = c
			} else if hasOperator(name, l) {
				return nil, err
			}
		} else if l == types.OidUnknown && r == types.OidUnknown {
			for i := range args {
				c, err := a.coerce(args[i], types.TextType, false)
				if err != nil {
					return nil, err
				}
				args[i] = c
			}
		}
	}
	return a.call("operator", name, operators[name], args, pos)
}

func (a *analyzer) boolExpr(b *pg.BoolExpr, s *Scope) (Expr, error) {
	out := &BoolOp{}
	switch b.Boolop {
	case pg.BoolExprType_AND_EXPR:
		out.Op = And
	case pg.BoolExprType_OR_EXPR:
		out.Op = Or
	default:
		out.Op = Not
	}
	for _, n := range b.Args {
		e, err := a.expr(n, s)
		if err != nil {
			return nil, err
		}
		if e, err = a.coerceBool(e, out.Op); err != nil {
			return nil, err
		}
		out.Args = append(out.Args, e)
	}
	return out, nil
}

// coerceBool makes e boolean for a boolean operator or a condition.
func (a *analyzer) coerceBool(e Expr, op BoolKind) (Expr, error) {
	if e.Type().Oid == types.OidBool {
		return e, nil
	}
	c, err := a.coerce(e, types.BoolType, false)
	if err != nil {
		what := [...]string{"AND", "OR", "NOT"}[op]
		return nil, pgerror.New(pgerror.DatatypeMismatch, "argument of %s must be type boolean, not type %s", what, e.Type())
	}
	return c, nil
}

// condition analyzes a WHERE, HAVING or ON clause: a boolean.
func (a *analyzer) condition(n *pg.Node, s *Scope, clause string) (Expr, error) {
	e, err := a.expr(n, s)
	if err != nil {
		return nil, err
	}
	if e.Type().Oid == types.OidBool {
		return e, nil
	}
	c, err := a.coerce(e, types.BoolType, false)
	if err != nil {
		return nil, pgerror.New(pgerror.DatatypeMismatch, "argument of %s must be type boolean, not type %s", clause, e.Type()).WithPosition(nodeLocation(n))
	}
	return c, nil
}

func (a *analyzer) typeCast(tc *pg.TypeCast, s *Scope) (Expr, error) {
	t, err := a.typeName(tc.TypeName)
	if err != nil {
		return nil, err
	}
	if ae := tc.Arg.GetAArrayExpr(); ae != nil && t.IsArray() {
		// ARRAY[...]::t[] coerces the elements themselves.
		return a.arrayExpr(ae, s, t)
	}
	arg, err := a.expr(tc.Arg, s)
	if err != nil {
		return nil, err
	}
	e, err := a.coerce(arg, t, true)
	if pe, ok := err.(*pgerror.Error); ok && pe.Position == 0 {
		if c := tc.Arg.GetAConst(); c != nil && isRegType(t.Oid) {
			pe.Position = c.Location + 1
		} else if pe.Code == pgerror.CannotCoerce {
			pe.Position = tc.Location + 1
		}
	}
	return e, err
}

func (a *analyzer) funcCall(fc *pg.FuncCall, s *Scope) (Expr, error) {
	names := strVals(fc.Funcname)
	name := names[len(names)-1]
	fs := functions[name]
	if len(fs) == 0 {
		return nil, pgerror.New(pgerror.UndefinedFunction, "function %s() does not exist", name).WithPosition(fc.Location + 1)
	}
	if e, ok, err := a.aggOrWindowCall(fc, name, fs, s); ok {
		return e, err
	}
	var args []Expr
	for _, n := range fc.Args {
		e, err := a.expr(n, s)
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	return a.call("function", name, fs, args, fc.Location+1)
}

// typeName resolves a type name (with modifiers and array bounds).
func (a *analyzer) typeName(tn *pg.TypeName) (types.Type, error) {
	return ResolveTypeName(tn)
}

// ResolveTypeName resolves a parsed type name to a type: the SQL names
// ("integer", "character varying(10)", "timestamp with time zone",
// "numeric(10,2)", "text[]") and the pg_type names, qualified with
// pg_catalog or not.
func ResolveTypeName(tn *pg.TypeName) (types.Type, error) {
	names := strVals(tn.Names)
	if len(names) > 1 && names[0] == "pg_catalog" {
		names = names[1:]
	}
	name := strings.Join(names, ".")
	var mods []int32
	for _, m := range tn.Typmods {
		c := m.GetAConst()
		if c == nil || c.GetIval() == nil {
			return types.Type{}, pgerror.New(pgerror.SyntaxError, "type modifiers must be simple constants or identifiers").WithPosition(tn.Location + 1)
		}
		mods = append(mods, c.GetIval().Ival)
	}
	t, err := baseType(name, mods, tn.Location+1)
	if err != nil {
		return types.Type{}, err
	}
	if len(tn.ArrayBounds) > 0 {
		arr := types.ArrayOf(t.Oid)
		if arr == 0 {
			return types.Type{}, pgerror.New(pgerror.UndefinedObject, "could not find array type for data type %s", t)
		}
		t.Oid = arr
	}
	return t, nil
}

// typeAliases maps SQL names to pg_type names.
var typeAliases = map[string]string{
	"integer": "int4", "int": "int4", "smallint": "int2", "bigint": "int8",
	"real": "float4", "double precision": "float8", "float": "float8",
	"boolean": "bool", "decimal": "numeric", "character varying": "varchar",
	"character": "bpchar", "char": "bpchar", "timestamp without time zone": "timestamp",
	"timestamp with time zone": "timestamptz", "time without time zone": "time",
	"time with time zone": "timetz", "serial": "int4", "bigserial": "int8",
	"smallserial": "int2", "serial4": "int4", "serial8": "int8", "serial2": "int2",
}

func baseType(name string, mods []int32, pos int32) (types.Type, error) {
	if alias, ok := typeAliases[name]; ok {
		if name == "float" && len(mods) == 1 && mods[0] <= 24 {
			alias = "float4"
			mods = nil
		}
		if name == "char" || name == "character" {
			if len(mods) == 0 {
				mods = []int32{1}
			}
		}
		name = alias
	}
	if name == `"char"` {
		name = "char"
	}
	info := types.LookupName(name)
	if info == nil {
		return types.Type{}, pgerror.New(pgerror.UndefinedObject, "type \"%s\" does not exist", name).WithPosition(pos)
	}
	t := types.T(info.Oid)
	switch info.Oid {
	case types.OidVarchar, types.OidBpchar:
		if len(mods) == 1 {
			if mods[0] < 1 {
				return t, pgerror.New(pgerror.InvalidParameterValue, "length for type %s must be at least 1", name).WithPosition(pos)
			}
			t.Mod = mods[0] + 4
		}
	case types.OidNumeric:
		switch len(mods) {
		case 1:
			t.Mod = (mods[0] << 16) + 4
		case 2:
			t.Mod = (mods[0]<<16 | mods[1]&0xffff) + 4
		}
	case types.OidTimestamp, types.OidTimestamptz, types.OidTime, types.OidTimetz, types.OidInterval:
		if len(mods) == 1 {
			t.Mod = mods[0]
		}
	}
	return t, nil
}

// existing resolves rv to the catalog object it names, or fails with
// Postgres's undefined_table error.
func (a *analyzer) existing(rv *pg.RangeVar) (*catalog.Object, error) {
	obj, err := a.cat.Resolve(rv.Schemaname, rv.Relname, a.searchPath())
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", qualified(rv))
	}
	return obj, nil
}
