package exec

import (
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// Row is one row of values; nil is NULL.
type Row []any

// Expr is an analyzed expression: its type is known, its names resolved.
type Expr interface {
	// Type is the expression's result type.
	Type() types.Type
	// Eval computes the expression for row (the current row of the plan
	// node evaluating it).
	Eval(ctx *EvalCtx, row Row) (any, error)
}

// EvalCtx is what expressions evaluate with: the statement's Env, its
// parameters, and the rows of enclosing queries (for correlated
// subqueries).
type EvalCtx struct {
	Env    *Env
	Params []any
	// Outer is the stack of enclosing rows: Outer[len-1] is the nearest.
	Outer []Row
}

// Const is a constant.
type Const struct {
	T     types.Type
	Value any
	// Pos is a literal's position in the statement (1-based; 0 if none),
	// for the errors of reading it as a type.
	Pos int32
}

func (c *Const) Type() types.Type                { return c.T }
func (c *Const) Eval(*EvalCtx, Row) (any, error) { return c.Value, nil }

// Param is a statement parameter ($1 is Index 0).
type Param struct {
	Index int
	T     types.Type
}

func (p *Param) Type() types.Type { return p.T }
func (p *Param) Eval(ctx *EvalCtx, _ Row) (any, error) {
	if p.Index >= len(ctx.Params) {
		return nil, pgerror.New(pgerror.UndefinedParameter, "there is no parameter $%d", p.Index+1)
	}
	return ctx.Params[p.Index], nil
}

// ColRef is a column of the current row (Level 0) or of an enclosing
// query's row (Level n: n levels out).
type ColRef struct {
	Index int
	Level int
	T     types.Type
}

func (c *ColRef) Type() types.Type { return c.T }
func (c *ColRef) Eval(ctx *EvalCtx, row Row) (any, error) {
	if c.Level == 0 {
		return row[c.Index], nil
	}
	return ctx.Outer[len(ctx.Outer)-c.Level][c.Index], nil
}

// FuncExpr calls a function (an operator is one too) on its arguments.
type FuncExpr struct {
	Fn   *Func
	Args []Expr
	T    types.Type
	// buf avoids an allocation per call; FuncExpr is not evaluated
	// concurrently.
	buf []any
}

func (f *FuncExpr) Type() types.Type { return f.T }
func (f *FuncExpr) Eval(ctx *EvalCtx, row Row) (any, error) {
	args := f.buf[:0]
	for _, a := range f.Args {
		v, err := a.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		if v == nil && f.Fn.Strict {
			return nil, nil
		}
		args = append(args, v)
	}
	f.buf = args
	return f.Fn.Call(ctx, f, args)
}

// BoolOp is AND or OR (with SQL's three-valued logic) or NOT.
type BoolOp struct {
	Op   BoolKind
	Args []Expr
}

// BoolKind is AND, OR or NOT.
type BoolKind int

// The boolean operators.
const (
	And BoolKind = iota
	Or
	Not
)

func (b *BoolOp) Type() types.Type { return types.BoolType }
func (b *BoolOp) Eval(ctx *EvalCtx, row Row) (any, error) {
	if b.Op == Not {
		v, err := b.Args[0].Eval(ctx, row)
		if v == nil || err != nil {
			return nil, err
		}
		return !v.(bool), nil
	}
	sawNull := false
	for _, a := range b.Args {
		v, err := a.Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		switch {
		case v == nil:
			sawNull = true
		case v.(bool) == (b.Op == Or):
			return v, nil // AND met false, OR met true
		}
	}
	if sawNull {
		return nil, nil
	}
	return b.Op == And, nil
}

// NullTest is IS [NOT] NULL.
type NullTest struct {
	Arg Expr
	Not bool
}

func (n *NullTest) Type() types.Type { return types.BoolType }
func (n *NullTest) Eval(ctx *EvalCtx, row Row) (any, error) {
	v, err := n.Arg.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	isNull := v == nil
	if r, ok := v.(types.Record); ok {
		// A row IS NULL when all its fields are, IS NOT NULL when none is.
		all, none := true, true
		for _, f := range r {
			if f == nil {
				none = false
			} else {
				all = false
			}
		}
		if n.Not {
			return none, nil
		}
		return all, nil
	}
	return isNull != n.Not, nil
}

// CastExpr converts its argument to T.
type CastExpr struct {
	Arg      Expr
	T        types.Type
	Explicit bool
}

func (c *CastExpr) Type() types.Type { return c.T }
func (c *CastExpr) Eval(ctx *EvalCtx, row Row) (any, error) {
	v, err := c.Arg.Eval(ctx, row)
	if err != nil || v == nil {
		return nil, err
	}
	return types.Cast(v, c.Arg.Type(), c.T, c.Explicit, ctx.Env.Session.Types)
}

// Truth evaluates a condition: true only for a true value (NULL and false
// both reject), as WHERE, HAVING and ON do.
func Truth(ctx *EvalCtx, e Expr, row Row) (bool, error) {
	v, err := e.Eval(ctx, row)
	if err != nil || v == nil {
		return false, err
	}
	return v.(bool), nil
}
