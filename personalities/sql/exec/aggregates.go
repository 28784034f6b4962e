package exec

import (
	"math"

	"github.com/cockroachdb/apd/v3"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// The built-in aggregates: count, sum, avg, min, max, bool_and, bool_or,
// every, string_agg and array_agg, with Postgres's result types (sum of
// int2/int4 is bigint, of bigint numeric; avg of integers and numeric is
// numeric, of floats float8).

// aggFunc registers an aggregate overload.
func aggFunc(name string, args []types.Oid, ret types.Oid, strict bool, state func() AggState) {
	RegisterFunc(&Func{Name: name, Args: args, Ret: ret, Strict: strict, Agg: &AggFunc{New: state}})
}

func init() {
	aggFunc("count", nil, types.OidInt8, false, func() AggState { return &countState{} })
	aggFunc("count", []types.Oid{types.OidAny}, types.OidInt8, true, func() AggState { return &countState{} })
	for _, t := range []types.Oid{types.OidInt2, types.OidInt4} {
		aggFunc("sum", []types.Oid{t}, types.OidInt8, true, func() AggState { return &intSumState{} })
	}
	aggFunc("sum", []types.Oid{types.OidInt8}, types.OidNumeric, true, func() AggState { return &numSumState{} })
	aggFunc("sum", []types.Oid{types.OidNumeric}, types.OidNumeric, true, func() AggState { return &numSumState{} })
	aggFunc("sum", []types.Oid{types.OidFloat4}, types.OidFloat4, true, func() AggState { return &floatSumState{float4: true} })
	aggFunc("sum", []types.Oid{types.OidFloat8}, types.OidFloat8, true, func() AggState { return &floatSumState{} })
	for _, t := range []types.Oid{types.OidInt2, types.OidInt4, types.OidInt8, types.OidNumeric} {
		aggFunc("avg", []types.Oid{t}, types.OidNumeric, true, func() AggState { return &numSumState{avg: true} })
	}
	for _, t := range []types.Oid{types.OidFloat4, types.OidFloat8} {
		aggFunc("avg", []types.Oid{t}, types.OidFloat8, true, func() AggState { return &floatSumState{avg: true} })
	}
	for _, t := range comparable {
		t := t
		aggFunc("min", []types.Oid{t}, t, true, func() AggState { return &minMaxState{t: t} })
		aggFunc("max", []types.Oid{t}, t, true, func() AggState { return &minMaxState{t: t, max: true} })
	}
	aggFunc("bool_and", []types.Oid{types.OidBool}, types.OidBool, true, func() AggState { return &boolState{and: true} })
	aggFunc("every", []types.Oid{types.OidBool}, types.OidBool, true, func() AggState { return &boolState{and: true} })
	aggFunc("bool_or", []types.Oid{types.OidBool}, types.OidBool, true, func() AggState { return &boolState{} })
	aggFunc("string_agg", []types.Oid{types.OidText, types.OidText}, types.OidText, false, func() AggState { return &stringAggState{} })
	aggFunc("string_agg", []types.Oid{types.OidBytea, types.OidBytea}, types.OidBytea, false, func() AggState { return &stringAggState{bytea: true} })
	aggFunc("array_agg", []types.Oid{types.OidAnyElement}, types.OidAnyArray, false, func() AggState { return &arrayAggState{} })
}

type countState struct{ n int64 }

func (s *countState) Add(*EvalCtx, []any) error    { s.n++; return nil }
func (s *countState) Result(*EvalCtx) (any, error) { return s.n, nil }

type intSumState struct {
	sum int64
	any bool
}

func (s *intSumState) Add(_ *EvalCtx, a []any) error {
	r, overflow := addInt(s.sum, a[0].(int64))
	if overflow {
		return pgerror.New(pgerror.NumericValueOutOfRange, "bigint out of range")
	}
	s.sum, s.any = r, true
	return nil
}

func (s *intSumState) Result(*EvalCtx) (any, error) {
	if !s.any {
		return nil, nil
	}
	return s.sum, nil
}

// numSumState sums integers or numerics exactly; avg divides by the count
// as Postgres's numeric division does.
type numSumState struct {
	sum apd.Decimal
	n   int64
	avg bool
}

func (s *numSumState) Add(_ *EvalCtx, a []any) error {
	var d *apd.Decimal
	switch v := a[0].(type) {
	case int64:
		d = apd.New(v, 0)
	case *apd.Decimal:
		d = v
	}
	if _, err := numCtx.Add(&s.sum, &s.sum, d); err != nil {
		return pgerror.New(pgerror.NumericValueOutOfRange, "value overflows numeric format")
	}
	s.n++
	return nil
}

func (s *numSumState) Result(*EvalCtx) (any, error) {
	if s.n == 0 {
		return nil, nil
	}
	sum := new(apd.Decimal).Set(&s.sum)
	if !s.avg {
		return sum, nil
	}
	return numDiv(sum, apd.New(s.n, 0))
}

type floatSumState struct {
	sum    float64
	n      int64
	float4 bool
	avg    bool
}

func (s *floatSumState) Add(_ *EvalCtx, a []any) error {
	x := a[0].(float64)
	r := s.sum + x
	if math.IsInf(r, 0) && !math.IsInf(s.sum, 0) && !math.IsInf(x, 0) {
		return pgerror.New(pgerror.NumericValueOutOfRange, "value out of range: overflow")
	}
	if s.float4 {
		r = float64(float32(r))
	}
	s.sum = r
	s.n++
	return nil
}

func (s *floatSumState) Result(*EvalCtx) (any, error) {
	if s.n == 0 {
		return nil, nil
	}
	if s.avg {
		return s.sum / float64(s.n), nil
	}
	return s.sum, nil
}

type minMaxState struct {
	t    types.Oid
	max  bool
	best any
}

func (s *minMaxState) Add(_ *EvalCtx, a []any) error {
	if s.best == nil {
		s.best = a[0]
		return nil
	}
	c := types.Compare(s.t, a[0], s.best)
	if (s.max && c > 0) || (!s.max && c < 0) {
		s.best = a[0]
	}
	return nil
}

func (s *minMaxState) Result(*EvalCtx) (any, error) { return s.best, nil }

type boolState struct {
	and    bool
	result any
}

func (s *boolState) Add(_ *EvalCtx, a []any) error {
	v := a[0].(bool)
	if s.result == nil {
		s.result = v
	} else if s.and {
		s.result = s.result.(bool) && v
	} else {
		s.result = s.result.(bool) || v
	}
	return nil
}

func (s *boolState) Result(*EvalCtx) (any, error) { return s.result, nil }

// stringAggState skips NULL values; a NULL delimiter is the empty one.
type stringAggState struct {
	buf   []byte
	any   bool
	bytea bool
}

func (s *stringAggState) Add(_ *EvalCtx, a []any) error {
	if a[0] == nil {
		return nil
	}
	if s.any && a[1] != nil {
		s.buf = append(s.buf, toBytes(a[1])...)
	}
	s.buf = append(s.buf, toBytes(a[0])...)
	s.any = true
	return nil
}

func toBytes(v any) []byte {
	if b, ok := v.([]byte); ok {
		return b
	}
	return []byte(v.(string))
}

func (s *stringAggState) Result(*EvalCtx) (any, error) {
	if !s.any {
		return nil, nil
	}
	if s.bytea {
		return s.buf, nil
	}
	return string(s.buf), nil
}

// arrayAggState collects its values, NULLs included, into a
// one-dimensional array.
type arrayAggState struct {
	elem  types.Oid
	elems []any
	any   bool
}

func (s *arrayAggState) setType(t types.Type) { s.elem = types.ElemOf(t.Oid) }

func (s *arrayAggState) Add(_ *EvalCtx, a []any) error {
	s.elems = append(s.elems, a[0])
	s.any = true
	return nil
}

func (s *arrayAggState) Result(*EvalCtx) (any, error) {
	if !s.any {
		return nil, nil
	}
	return types.NewArray(s.elem, s.elems), nil
}
