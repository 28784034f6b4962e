package exec

import (
	"sort"
	"strings"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// Func is a built-in function, operator or aggregate.
type Func struct {
	Name string
	// Args are the argument types. types.OidAnyElement matches any type
	// (all such arguments must agree), types.OidAnyArray any array whose
	// element is the anyelement type, types.OidAny anything at all.
	Args []types.Oid
	// Variadic: the last argument repeats (zero or more times).
	Variadic bool
	// Ret is the result type; RetType computes it from the arguments'
	// types when set (polymorphic results, modifiers).
	Ret     types.Oid
	RetType func(args []types.Type) types.Type
	// Strict: a NULL argument gives NULL without calling Fn.
	Strict bool
	// Fn computes the result. args has one value per argument.
	Fn func(ctx *EvalCtx, args []any) (any, error)
	// CallExpr, when set, computes the result instead of Fn, seeing the
	// call's argument expressions (their types, for arguments of type
	// "any", or for functions whose result depends on them: to_jsonb of
	// a timestamp and of a timestamptz differ).
	CallExpr func(ctx *EvalCtx, call *FuncExpr, args []any) (any, error)
	// Agg makes the function an aggregate (Fn unused).
	Agg *AggFunc
	// Window makes the function a window function (Fn unused).
	Window *WindowFunc
	// Oid is the function's pg_proc oid, when Postgres's is known.
	Oid types.Oid
}

// Call runs the function on evaluated arguments.
func (f *Func) Call(ctx *EvalCtx, call *FuncExpr, args []any) (any, error) {
	if f.CallExpr != nil {
		return f.CallExpr(ctx, call, args)
	}
	return f.Fn(ctx, args)
}

// AggFunc is an aggregate: a state made per group, fed each row's
// arguments, then finished.
type AggFunc struct {
	// New returns a fresh state for a group.
	New func() AggState
}

// AggState accumulates one group of an aggregate.
type AggState interface {
	// Add feeds one row's arguments (NULLs included: Add decides).
	Add(ctx *EvalCtx, args []any) error
	// Result returns the aggregate's value for the rows added.
	Result(ctx *EvalCtx) (any, error)
}

// WindowFunc is a window function computed over a partition.
type WindowFunc struct {
	// Compute returns the function's value for each row of a partition in
	// window order (window.go).
	Compute func(ctx *EvalCtx, p *WindowPartition) ([]any, error)
}

var (
	functions = map[string][]*Func{}
	operators = map[string][]*Func{}
)

// RegisterFunc adds a built-in function (an overload of its name). Call
// it from init.
func RegisterFunc(f *Func) { functions[f.Name] = append(functions[f.Name], f) }

// RegisterOp adds an operator implementation: op is its symbol ("+",
// "~~", ...); a prefix operator has one argument.
func RegisterOp(op string, f *Func) {
	if f.Name == "" {
		f.Name = op
	}
	operators[op] = append(operators[op], f)
}

// Functions returns every registered function named name, in
// registration order. For pg_proc.
func Functions() map[string][]*Func { return functions }

// implicitCasts lists, for each type, the types it coerces to implicitly
// (pg_cast with castcontext 'i'), with how far each is (fewer is better).
var implicitCasts = map[types.Oid][]types.Oid{
	types.OidInt2:         {types.OidInt4, types.OidInt8, types.OidNumeric, types.OidFloat4, types.OidFloat8, types.OidOid},
	types.OidInt4:         {types.OidInt8, types.OidNumeric, types.OidFloat4, types.OidFloat8, types.OidOid, types.OidRegclass, types.OidRegtype, types.OidRegproc, types.OidRegnamespace, types.OidRegrole},
	types.OidInt8:         {types.OidNumeric, types.OidFloat4, types.OidFloat8, types.OidOid, types.OidRegclass, types.OidRegtype},
	types.OidNumeric:      {types.OidFloat4, types.OidFloat8},
	types.OidFloat4:       {types.OidFloat8},
	types.OidVarchar:      {types.OidText, types.OidBpchar, types.OidName},
	types.OidBpchar:       {types.OidText, types.OidVarchar, types.OidName},
	types.OidName:         {types.OidText, types.OidVarchar, types.OidBpchar},
	types.OidText:         {types.OidVarchar, types.OidBpchar, types.OidName, types.OidRegclass},
	types.OidChar:         {types.OidText},
	types.OidDate:         {types.OidTimestamp, types.OidTimestamptz},
	types.OidTimestamp:    {types.OidTimestamptz},
	types.OidTime:         {types.OidInterval},
	types.OidOid:          {types.OidRegclass, types.OidRegtype, types.OidRegproc, types.OidRegnamespace, types.OidRegrole, types.OidInt8},
	types.OidRegclass:     {types.OidOid},
	types.OidRegtype:      {types.OidOid},
	types.OidRegproc:      {types.OidOid},
	types.OidRegnamespace: {types.OidOid},
	types.OidRegrole:      {types.OidOid},
	types.OidJSON:         {types.OidJsonb},
}

// assignmentCasts lists the casts Postgres allows in assignment context
// beyond the implicit ones (castcontext 'a'): narrowing numeric
// conversions. Any type also converts to a string type on assignment
// (through its output function).
var assignmentCasts = map[types.Oid][]types.Oid{
	types.OidInt8:        {types.OidInt4, types.OidInt2},
	types.OidInt4:        {types.OidInt2},
	types.OidNumeric:     {types.OidInt2, types.OidInt4, types.OidInt8},
	types.OidFloat4:      {types.OidInt2, types.OidInt4, types.OidInt8, types.OidNumeric},
	types.OidFloat8:      {types.OidInt2, types.OidInt4, types.OidInt8, types.OidNumeric, types.OidFloat4},
	types.OidTimestamptz: {types.OidTimestamp, types.OidDate, types.OidTime},
	types.OidTimestamp:   {types.OidDate, types.OidTime},
	types.OidInterval:    {types.OidTime},
	types.OidJsonb:       {types.OidJSON},
}

// CanAssign reports whether a value of type from may be stored in a column
// of type to.
func CanAssign(from, to types.Oid) bool {
	if CanImplicit(from, to) {
		return true
	}
	for _, t := range assignmentCasts[from] {
		if t == to {
			return true
		}
	}
	if info := types.Lookup(to); info != nil && info.Category == 'S' && to != types.OidChar {
		return true
	}
	if ef, et := types.ElemOf(from), types.ElemOf(to); ef != 0 && et != 0 {
		return CanAssign(ef, et)
	}
	return false
}

// CanImplicit reports whether a value of type from coerces implicitly to
// type to.
func CanImplicit(from, to types.Oid) bool {
	if from == to || from == types.OidUnknown || to == types.OidAny {
		return true
	}
	for _, t := range implicitCasts[from] {
		if t == to {
			return true
		}
	}
	if ef, et := types.ElemOf(from), types.ElemOf(to); ef != 0 && et != 0 {
		return CanImplicit(ef, et) && ef != types.OidUnknown
	}
	return false
}

// candidate is one overload considered for a call.
type candidate struct {
	f      *Func
	args   []types.Oid // the argument types after expansion and polymorphism
	exact  int
	prefer int
}

// resolve picks the overload of fs for arguments of types args, as
// Postgres's function resolution does in substance: exact matches first,
// then the candidate needing fewest coercions, preferring the preferred
// type of each category; unknown-typed arguments (string literals) take
// the type the others suggest. It returns the function and the type each
// argument must be coerced to.
func resolve(kind, name string, fs []*Func, args []types.Type) (*Func, []types.Oid, error) {
	var cands []candidate
	for _, f := range fs {
		want, ok := expand(f, args)
		if !ok {
			continue
		}
		c := candidate{f: f, args: want}
		fits := true
		for i, a := range args {
			switch {
			case a.Oid == want[i]:
				c.exact++
			case CanImplicit(a.Oid, want[i]):
				if info := types.Lookup(want[i]); info != nil && info.Preferred {
					c.prefer++
				}
			default:
				fits = false
			}
		}
		if fits {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return nil, nil, noSuchFunction(kind, name, args)
	}
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].exact != cands[j].exact {
			return cands[i].exact > cands[j].exact
		}
		return cands[i].prefer > cands[j].prefer
	})
	if len(cands) > 1 && cands[0].exact == cands[1].exact && cands[0].prefer == cands[1].prefer && !sameArgs(cands[0].args, cands[1].args) {
		// Unknown arguments: prefer the candidate whose type for them is
		// in the string category, as Postgres does for literals.
		best := -1
		for i, c := range cands {
			if c.exact != cands[0].exact || c.prefer != cands[0].prefer {
				break
			}
			if unknownFitsString(args, c.args) {
				if best >= 0 {
					best = -2
					break
				}
				best = i
			}
		}
		if best < 0 {
			what := "function"
			if kind == "operator" {
				what = "operator"
			}
			return nil, nil, pgerror.New(pgerror.AmbiguousFunction, "%s %s is not unique", what, signature(kind, name, args)).
				WithHint("Could not choose a best candidate %s. You might need to add explicit type casts.", what)
		}
		cands[0] = cands[best]
	}
	return cands[0].f, cands[0].args, nil
}

func sameArgs(a, b []types.Oid) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func unknownFitsString(args []types.Type, want []types.Oid) bool {
	for i, a := range args {
		if a.Oid == types.OidUnknown {
			if info := types.Lookup(want[i]); info == nil || info.Category != 'S' {
				return false
			}
		}
	}
	return true
}

// expand gives the argument types f wants for a call with args, resolving
// polymorphic and variadic arguments, and whether the call can match.
func expand(f *Func, args []types.Type) ([]types.Oid, bool) {
	n := len(f.Args)
	if f.Variadic {
		// The variadic argument takes at least one value.
		if len(args) < n {
			return nil, false
		}
	} else if len(args) != n {
		return nil, false
	}
	want := make([]types.Oid, len(args))
	var elem types.Oid
	for i, a := range args {
		w := f.Args[min(i, n-1)]
		switch w {
		case types.OidAnyElement:
			if a.Oid != types.OidUnknown {
				if elem != 0 && elem != a.Oid {
					if CanImplicit(a.Oid, elem) {
						break
					}
					if !CanImplicit(elem, a.Oid) {
						return nil, false
					}
				}
				elem = a.Oid
			}
		case types.OidAnyArray:
			e := types.ElemOf(a.Oid)
			if e == 0 && a.Oid != types.OidUnknown {
				return nil, false
			}
			if e != 0 {
				if elem != 0 && elem != e && !CanImplicit(e, elem) {
					return nil, false
				}
				if elem == 0 {
					elem = e
				}
			}
		}
		want[i] = w
	}
	if elem == 0 {
		elem = types.OidText
	}
	for i, w := range want {
		switch w {
		case types.OidAnyElement:
			want[i] = elem
		case types.OidAnyArray:
			want[i] = types.ArrayOf(elem)
		case types.OidAny:
			want[i] = args[i].Oid
		}
	}
	return want, true
}

func noSuchFunction(kind, name string, args []types.Type) error {
	if kind == "operator" {
		return pgerror.New(pgerror.UndefinedFunction, "operator does not exist: %s", signature(kind, name, args)).
			WithHint("No operator matches the given name and argument types. You might need to add explicit type casts.")
	}
	return pgerror.New(pgerror.UndefinedFunction, "function %s does not exist", signature(kind, name, args)).
		WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
}

// signature renders a call as Postgres's errors do: "f(integer, text)",
// or "integer + text" for an operator.
func signature(kind, name string, args []types.Type) string {
	names := make([]string, len(args))
	for i, a := range args {
		names[i] = types.FormatType(a.Oid, -1)
	}
	if kind == "operator" {
		if len(args) == 1 {
			return name + " " + names[0]
		}
		return names[0] + " " + name + " " + names[1]
	}
	return name + "(" + strings.Join(names, ", ") + ")"
}

// retType is f's result type for arguments coerced to want.
func retType(f *Func, want []types.Oid, args []types.Type) types.Type {
	if f.RetType != nil {
		ts := make([]types.Type, len(want))
		for i, w := range want {
			ts[i] = types.Type{Oid: w, Mod: -1}
			if w == args[i].Oid {
				ts[i].Mod = args[i].Mod
			}
		}
		return f.RetType(ts)
	}
	switch f.Ret {
	case types.OidAnyElement:
		for i, a := range f.Args {
			if a == types.OidAnyElement {
				return types.T(want[i])
			}
			if a == types.OidAnyArray {
				return types.T(types.ElemOf(want[i]))
			}
		}
	case types.OidAnyArray:
		for i, a := range f.Args {
			if a == types.OidAnyElement {
				return types.T(types.ArrayOf(want[i]))
			}
			if a == types.OidAnyArray {
				return types.T(want[i])
			}
		}
	}
	return types.T(f.Ret)
}
