package exec

import (
	"math"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// json and jsonb operators and functions, and uuid generation.
//
// Not built yet: jsonb subscripting (j['a']), the set-returning
// functions (jsonb_each, jsonb_object_keys, jsonb_array_elements), the
// json aggregates and jsonpath.

// jsonArg parses a json or jsonb argument.
func jsonArg(v any) types.JSONValue {
	switch x := v.(type) {
	case types.JSONB:
		return x.Value()
	case types.JSON:
		j, _ := types.ParseJSONValue(string(x), "json")
		return j
	}
	return nil
}

// jsonResult makes a json value of the type t (json or jsonb).
func jsonResult(t types.Oid, v types.JSONValue) any {
	if t == types.OidJSON {
		return types.JSON(types.AppendJSON(nil, v))
	}
	return types.JSONBOf(v)
}

// jsonText is ->>'s text of a value: strings unquoted, null NULL.
func jsonText(v types.JSONValue) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return x
	}
	return string(types.AppendJSON(nil, v))
}

// jsonField is j -> key.
func jsonField(v types.JSONValue, key string) (types.JSONValue, bool) {
	if o, ok := v.(*types.JSONObject); ok {
		return o.Get(key)
	}
	return nil, false
}

// jsonIndex is j -> i (negative i counts from the end).
func jsonIndex(v types.JSONValue, i int64) (types.JSONValue, bool) {
	a, ok := v.([]types.JSONValue)
	if !ok {
		return nil, false
	}
	if i < 0 {
		i += int64(len(a))
	}
	if i < 0 || i >= int64(len(a)) {
		return nil, false
	}
	return a[i], true
}

// jsonPath is j #> path.
func jsonPath(v types.JSONValue, path *types.Array) (types.JSONValue, bool) {
	for _, p := range path.Elems {
		if p == nil {
			return nil, false
		}
		key := p.(string)
		switch v.(type) {
		case *types.JSONObject:
			var ok bool
			if v, ok = jsonField(v, key); !ok {
				return nil, false
			}
		case []types.JSONValue:
			i, err := strconv.ParseInt(strings.TrimSpace(key), 10, 64)
			if err != nil {
				return nil, false
			}
			var ok bool
			if v, ok = jsonIndex(v, i); !ok {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return v, true
}

// jsonContains is a @> b for jsonb: every member of b is in a, arrays'
// elements in any order; a scalar array contains its element.
func jsonContains(a, b types.JSONValue, top bool) bool {
	switch y := b.(type) {
	case *types.JSONObject:
		x, ok := a.(*types.JSONObject)
		if !ok {
			return false
		}
		for i, k := range y.Keys {
			v, ok := x.Get(k)
			if !ok || !jsonContains(v, y.Vals[i], false) {
				return false
			}
		}
		return true
	case []types.JSONValue:
		x, ok := a.([]types.JSONValue)
		if !ok {
			return false
		}
		for _, e := range y {
			found := false
			for _, f := range x {
				if _, isArr := e.([]types.JSONValue); isArr {
					if _, ok := f.([]types.JSONValue); !ok {
						continue
					}
				}
				if jsonContains(f, e, false) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	if x, ok := a.([]types.JSONValue); ok && top {
		for _, f := range x {
			if types.CompareJSONB(f, b) == 0 {
				return true
			}
		}
		return false
	}
	return jsonRankEqual(a, b)
}

func jsonRankEqual(a, b types.JSONValue) bool {
	switch a.(type) {
	case *types.JSONObject, []types.JSONValue:
		return false
	}
	switch b.(type) {
	case *types.JSONObject, []types.JSONValue:
		return false
	}
	return types.CompareJSONB(a, b) == 0
}

// jsonHasKey is j ? key: a key of an object, or a string element of an
// array, or the string itself.
func jsonHasKey(v types.JSONValue, key string) bool {
	switch x := v.(type) {
	case *types.JSONObject:
		_, ok := x.Get(key)
		return ok
	case []types.JSONValue:
		for _, e := range x {
			if s, ok := e.(string); ok && s == key {
				return true
			}
		}
	case string:
		return x == key
	}
	return false
}

// jsonConcat is a || b for jsonb.
func jsonConcat(a, b types.JSONValue) types.JSONValue {
	ao, aok := a.(*types.JSONObject)
	bo, bok := b.(*types.JSONObject)
	if aok && bok {
		out := &types.JSONObject{Keys: append(append([]string(nil), ao.Keys...), bo.Keys...), Vals: append(append([]types.JSONValue(nil), ao.Vals...), bo.Vals...)}
		return out
	}
	wrap := func(v types.JSONValue) []types.JSONValue {
		if arr, ok := v.([]types.JSONValue); ok {
			return arr
		}
		return []types.JSONValue{v}
	}
	return append(append([]types.JSONValue(nil), wrap(a)...), wrap(b)...)
}

// ToJSON converts a SQL value of type t to a JSON value, as to_jsonb
// does: numbers stay numbers (NaN and infinities become strings),
// date/time values are ISO 8601 strings, arrays JSON arrays, json and
// jsonb values themselves, anything else its text.
func ToJSON(t types.Type, v any, s *types.Settings) types.JSONValue {
	switch x := v.(type) {
	case nil:
		return nil
	case bool:
		return x
	case int64:
		if types.Kind(t.Oid) == types.KindInt && t.Oid != types.OidOid {
			return apd.New(x, 0)
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return types.Format(t, x, s)
		}
		d, _, err := apd.NewFromString(types.Format(t, x, s))
		if err == nil {
			return d
		}
	case *apd.Decimal:
		if x.Form != apd.Finite {
			return types.Format(t, x, s)
		}
		return x
	case types.JSONB:
		return x.Value()
	case types.JSON:
		return jsonArg(x)
	case types.Timestamp:
		txt := types.Format(t, x, s)
		if x.IsFinite() {
			txt = strings.Replace(txt, " ", "T", 1)
			if t.Oid == types.OidTimestamptz {
				// The offset as +HH:MM.
				if i := strings.LastIndexAny(txt, "+-"); i > 10 && len(txt)-i == 3 {
					txt += ":00"
				}
			}
		}
		return txt
	case *types.Array:
		out := make([]types.JSONValue, len(x.Elems))
		for i, e := range x.Elems {
			out[i] = ToJSON(types.T(x.Elem), e, s)
		}
		return out
	}
	return types.Format(t, v, s)
}

func settings(ctx *EvalCtx) *types.Settings {
	if ctx == nil || ctx.Env == nil || ctx.Env.Session == nil {
		return nil
	}
	return ctx.Env.Session.Types
}

// buildObject is json[b]_build_object's members from alternating keys
// and values.
func buildObject(ctx *EvalCtx, fe *FuncExpr, args []any) (*types.JSONObject, error) {
	if len(args)%2 != 0 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "argument list must have even number of elements").
			WithHint("The arguments of %s() must consist of alternating keys and values.", fe.Fn.Name)
	}
	obj := &types.JSONObject{}
	for i := 0; i < len(args); i += 2 {
		if args[i] == nil {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "null value not allowed for object key")
		}
		k := ToJSON(fe.Args[i].Type(), args[i], settings(ctx))
		key, ok := k.(string)
		if !ok {
			key = string(types.AppendJSON(nil, k))
		}
		obj.Keys = append(obj.Keys, key)
		obj.Vals = append(obj.Vals, ToJSON(fe.Args[i+1].Type(), args[i+1], settings(ctx)))
	}
	return obj, nil
}

// appendJSONText prints a value a json builder made: an object with " : "
// between a key and its value (its values print as their own types do).
func appendJSONText(b []byte, v types.JSONValue) []byte {
	if o, ok := v.(*types.JSONObject); ok {
		return types.AppendJSONObject(b, o, " : ")
	}
	return types.AppendJSON(b, v)
}

// appendPretty prints jsonb_pretty's form: four spaces per level.
func appendPretty(b []byte, v types.JSONValue, level int) []byte {
	indent := func(n int) { b = append(b, strings.Repeat("    ", n)...) }
	switch x := v.(type) {
	case *types.JSONObject:
		b = append(b, '{')
		for i, k := range x.Keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '\n')
			indent(level + 1)
			b = types.AppendJSONString(b, k)
			b = append(b, ": "...)
			b = appendPretty(b, x.Vals[i], level+1)
		}
		b = append(b, '\n')
		indent(level)
		return append(b, '}')
	case []types.JSONValue:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '\n')
			indent(level + 1)
			b = appendPretty(b, e, level+1)
		}
		b = append(b, '\n')
		indent(level)
		return append(b, ']')
	}
	return types.AppendJSON(b, v)
}

// jsonSet is jsonb_set(target, path, value, create).
func jsonSet(v types.JSONValue, path []any, nv types.JSONValue, create bool) (types.JSONValue, error) {
	if len(path) == 0 {
		return v, nil
	}
	if path[0] == nil {
		return nil, pgerror.New(pgerror.NullValueNotAllowed, "path element at position 1 is null")
	}
	key := path[0].(string)
	switch x := v.(type) {
	case *types.JSONObject:
		out := &types.JSONObject{Keys: append([]string(nil), x.Keys...), Vals: append([]types.JSONValue(nil), x.Vals...)}
		for i, k := range out.Keys {
			if k == key {
				if len(path) == 1 {
					out.Vals[i] = nv
				} else {
					r, err := jsonSet(out.Vals[i], path[1:], nv, create)
					if err != nil {
						return nil, err
					}
					out.Vals[i] = r
				}
				return out, nil
			}
		}
		if create && len(path) == 1 {
			out.Keys = append(out.Keys, key)
			out.Vals = append(out.Vals, nv)
		}
		return out, nil
	case []types.JSONValue:
		i, err := strconv.ParseInt(key, 10, 32)
		if err != nil {
			return nil, pgerror.New(pgerror.InvalidTextRepresentation, "path element at position 1 is not an integer: \"%s\"", key)
		}
		out := append([]types.JSONValue(nil), x...)
		if i < 0 {
			i += int64(len(out))
		}
		if i >= 0 && i < int64(len(out)) {
			if len(path) == 1 {
				out[i] = nv
				return out, nil
			}
			r, err := jsonSet(out[i], path[1:], nv, create)
			if err != nil {
				return nil, err
			}
			out[i] = r
			return out, nil
		}
		if create && len(path) == 1 {
			if i < 0 {
				return append([]types.JSONValue{nv}, out...), nil
			}
			return append(out, nv), nil
		}
		return out, nil
	}
	return v, nil
}

func init() {
	JB, J, TX, I4 := types.OidJsonb, types.OidJSON, types.OidText, types.OidInt4
	textArr := types.ArrayOf(TX)
	op := func(name string, args []types.Oid, ret types.Oid, f func(ctx *EvalCtx, a []any) (any, error)) {
		RegisterOp(name, &Func{Args: args, Ret: ret, Strict: true, Fn: f})
	}
	for _, t := range []types.Oid{JB, J} {
		t := t
		get := func(v types.JSONValue, ok bool, asText bool) (any, error) {
			if !ok {
				return nil, nil
			}
			if asText {
				return jsonText(v), nil
			}
			return jsonResult(t, v), nil
		}
		op("->", []types.Oid{t, TX}, t, func(_ *EvalCtx, a []any) (any, error) {
			v, ok := jsonField(jsonArg(a[0]), a[1].(string))
			return get(v, ok, false)
		})
		op("->", []types.Oid{t, I4}, t, func(_ *EvalCtx, a []any) (any, error) {
			v, ok := jsonIndex(jsonArg(a[0]), a[1].(int64))
			return get(v, ok, false)
		})
		op("->>", []types.Oid{t, TX}, TX, func(_ *EvalCtx, a []any) (any, error) {
			v, ok := jsonField(jsonArg(a[0]), a[1].(string))
			return get(v, ok, true)
		})
		op("->>", []types.Oid{t, I4}, TX, func(_ *EvalCtx, a []any) (any, error) {
			v, ok := jsonIndex(jsonArg(a[0]), a[1].(int64))
			return get(v, ok, true)
		})
		op("#>", []types.Oid{t, textArr}, t, func(_ *EvalCtx, a []any) (any, error) {
			v, ok := jsonPath(jsonArg(a[0]), a[1].(*types.Array))
			return get(v, ok, false)
		})
		op("#>>", []types.Oid{t, textArr}, TX, func(_ *EvalCtx, a []any) (any, error) {
			v, ok := jsonPath(jsonArg(a[0]), a[1].(*types.Array))
			return get(v, ok, true)
		})
		prefix := "jsonb"
		if t == J {
			prefix = "json"
		}
		RegisterFunc(&Func{Name: prefix + "_typeof", Args: []types.Oid{t}, Ret: TX, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
			return types.JSONTypeName(jsonArg(a[0])), nil
		}})
		RegisterFunc(&Func{Name: prefix + "_array_length", Args: []types.Oid{t}, Ret: I4, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
			v := jsonArg(a[0])
			arr, ok := v.([]types.JSONValue)
			if !ok {
				what := "a scalar"
				if _, isObj := v.(*types.JSONObject); isObj {
					what = "a non-array"
				}
				return nil, pgerror.New(pgerror.InvalidParameterValue, "cannot get array length of %s", what)
			}
			return int64(len(arr)), nil
		}})
	}
	op("@>", []types.Oid{JB, JB}, types.OidBool, func(_ *EvalCtx, a []any) (any, error) {
		return jsonContains(jsonArg(a[0]), jsonArg(a[1]), true), nil
	})
	op("<@", []types.Oid{JB, JB}, types.OidBool, func(_ *EvalCtx, a []any) (any, error) {
		return jsonContains(jsonArg(a[1]), jsonArg(a[0]), true), nil
	})
	op("?", []types.Oid{JB, TX}, types.OidBool, func(_ *EvalCtx, a []any) (any, error) {
		return jsonHasKey(jsonArg(a[0]), a[1].(string)), nil
	})
	for _, name := range []string{"?|", "?&"} {
		all := name == "?&"
		op(name, []types.Oid{JB, textArr}, types.OidBool, func(_ *EvalCtx, a []any) (any, error) {
			v := jsonArg(a[0])
			for _, k := range a[1].(*types.Array).Elems {
				if k == nil {
					continue
				}
				if jsonHasKey(v, k.(string)) != all {
					return !all, nil
				}
			}
			return all, nil
		})
	}
	op("||", []types.Oid{JB, JB}, JB, func(_ *EvalCtx, a []any) (any, error) {
		return types.JSONBOf(jsonConcat(jsonArg(a[0]), jsonArg(a[1]))), nil
	})
	op("-", []types.Oid{JB, TX}, JB, func(_ *EvalCtx, a []any) (any, error) {
		v := jsonArg(a[0])
		key := a[1].(string)
		switch x := v.(type) {
		case *types.JSONObject:
			out := &types.JSONObject{}
			for i, k := range x.Keys {
				if k != key {
					out.Keys, out.Vals = append(out.Keys, k), append(out.Vals, x.Vals[i])
				}
			}
			return types.JSONBOf(out), nil
		case []types.JSONValue:
			out := []types.JSONValue{}
			for _, e := range x {
				if s, ok := e.(string); !ok || s != key {
					out = append(out, e)
				}
			}
			return types.JSONBOf(out), nil
		}
		return nil, pgerror.New(pgerror.InvalidParameterValue, "cannot delete from scalar")
	})
	op("-", []types.Oid{JB, I4}, JB, func(_ *EvalCtx, a []any) (any, error) {
		v := jsonArg(a[0])
		x, ok := v.([]types.JSONValue)
		if !ok {
			if _, isObj := v.(*types.JSONObject); isObj {
				return nil, pgerror.New(pgerror.InvalidParameterValue, "cannot delete from object using integer index")
			}
			return nil, pgerror.New(pgerror.InvalidParameterValue, "cannot delete from scalar")
		}
		i := a[1].(int64)
		if i < 0 {
			i += int64(len(x))
		}
		out := []types.JSONValue{}
		for j, e := range x {
			if int64(j) != i {
				out = append(out, e)
			}
		}
		return types.JSONBOf(out), nil
	})

	// Builders and conversions: they need their arguments' types.
	typed := func(name string, args []types.Oid, variadic bool, ret types.Oid, strict bool, f func(ctx *EvalCtx, fe *FuncExpr, a []any) (any, error)) {
		RegisterFunc(&Func{Name: name, Args: args, Variadic: variadic, Ret: ret, Strict: strict, CallExpr: f})
	}
	anyArgs := []types.Oid{types.OidAny}
	typed("jsonb_build_object", anyArgs, true, JB, false, func(ctx *EvalCtx, fe *FuncExpr, a []any) (any, error) {
		obj, err := buildObject(ctx, fe, a)
		if err != nil {
			return nil, err
		}
		return types.JSONBOf(obj), nil
	})
	typed("json_build_object", anyArgs, true, J, false, func(ctx *EvalCtx, fe *FuncExpr, a []any) (any, error) {
		obj, err := buildObject(ctx, fe, a)
		if err != nil {
			return nil, err
		}
		return types.JSON(appendJSONText(nil, obj)), nil
	})
	buildArray := func(ctx *EvalCtx, fe *FuncExpr, a []any) []types.JSONValue {
		out := make([]types.JSONValue, len(a))
		for i, v := range a {
			out[i] = ToJSON(fe.Args[i].Type(), v, settings(ctx))
		}
		return out
	}
	typed("jsonb_build_array", anyArgs, true, JB, false, func(ctx *EvalCtx, fe *FuncExpr, a []any) (any, error) {
		return types.JSONBOf(buildArray(ctx, fe, a)), nil
	})
	typed("json_build_array", anyArgs, true, J, false, func(ctx *EvalCtx, fe *FuncExpr, a []any) (any, error) {
		return types.JSON(appendJSONText(nil, buildArray(ctx, fe, a))), nil
	})
	typed("to_jsonb", []types.Oid{types.OidAnyElement}, false, JB, true, func(ctx *EvalCtx, fe *FuncExpr, a []any) (any, error) {
		return types.JSONBOf(ToJSON(fe.Args[0].Type(), a[0], settings(ctx))), nil
	})
	typed("to_json", []types.Oid{types.OidAnyElement}, false, J, true, func(ctx *EvalCtx, fe *FuncExpr, a []any) (any, error) {
		v := ToJSON(fe.Args[0].Type(), a[0], settings(ctx))
		if arr, ok := v.([]types.JSONValue); ok {
			// array_to_json: no spaces.
			parts := make([]string, len(arr))
			for i, e := range arr {
				parts[i] = string(types.AppendJSON(nil, e))
			}
			return types.JSON("[" + strings.Join(parts, ",") + "]"), nil
		}
		return types.JSON(types.AppendJSON(nil, v)), nil
	})
	RegisterFunc(&Func{Name: "jsonb_pretty", Args: []types.Oid{JB}, Ret: TX, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return string(appendPretty(nil, jsonArg(a[0]), 0)), nil
	}})
	RegisterFunc(&Func{Name: "jsonb_strip_nulls", Args: []types.Oid{JB}, Ret: JB, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		return types.JSONBOf(stripNulls(jsonArg(a[0]))), nil
	}})
	for _, n := range []int{3, 4} {
		args := []types.Oid{JB, textArr, JB, types.OidBool}[:n]
		RegisterFunc(&Func{Name: "jsonb_set", Args: args, Ret: JB, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
			create := true
			if len(a) == 4 {
				create = a[3].(bool)
			}
			r, err := jsonSet(jsonArg(a[0]), a[1].(*types.Array).Elems, jsonArg(a[2]), create)
			if err != nil {
				return nil, err
			}
			return types.JSONBOf(r), nil
		}})
	}

	RegisterFunc(&Func{Name: "gen_random_uuid", Ret: types.OidUUID, Fn: func(ctx *EvalCtx, _ []any) (any, error) {
		var u types.UUID
		r := ctx.Env.Rand()
		for i := 0; i < 16; i += 8 {
			v := r.Uint64()
			for j := 0; j < 8; j++ {
				u[i+j] = byte(v >> (8 * j))
			}
		}
		u[6] = u[6]&0x0f | 0x40 // version 4
		u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
		return u, nil
	}})
}

func stripNulls(v types.JSONValue) types.JSONValue {
	switch x := v.(type) {
	case *types.JSONObject:
		out := &types.JSONObject{}
		for i, k := range x.Keys {
			if x.Vals[i] != nil {
				out.Keys, out.Vals = append(out.Keys, k), append(out.Vals, stripNulls(x.Vals[i]))
			}
		}
		return out
	case []types.JSONValue:
		out := make([]types.JSONValue, len(x))
		for i, e := range x {
			out[i] = stripNulls(e)
		}
		return out
	}
	return v
}
