package exec

import (
	"encoding/binary"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/store"
	"hourglass/personalities/sql/types"
)

// A sequence's state in the personality's namespace:
//
//	's' seq(4) -> last_value (8 bytes), is_called (1 byte)
//
// Sequences are not transactional, as in Postgres: nextval inside a
// transaction goes through the log at once (Env.Nextval), so a value
// handed out is never handed out again, whatever the transaction does.

func sequenceKey(oid catalog.Oid) []byte {
	return binary.BigEndian.AppendUint32([]byte{'s'}, uint32(oid))
}

// createSequence adds a sequence (owned by a table column if owner is
// set) with Postgres's defaults for its type.
func (a *analyzer) createSequence(w *catalog.Writer, schema *catalog.Object, name string, t types.Oid, owner *catalog.Object, col int16) (*catalog.Object, error) {
	if a.cat.Relation(schema.Oid, name) != nil {
		return nil, pgerror.New(pgerror.DuplicateTable, "relation \"%s\" already exists", name)
	}
	oid, err := w.NextOid()
	if err != nil {
		return nil, err
	}
	max := maxOf(t)
	seq := &catalog.Object{Oid: oid, Kind: "relation", Name: name, Schema: schema.Oid, RelKind: catalog.RelSequence, Owner: a.ownerOid(),
		Sequence: &catalog.Sequence{Type: t, Start: 1, Increment: 1, Min: 1, Max: max, Cache: 1}}
	if owner != nil {
		seq.Sequence.OwnedByTable, seq.Sequence.OwnedByColumn = owner.Oid, col
	}
	return seq, w.Put(seq)
}

// sequenceState reads a sequence's last value and whether nextval was
// called since it was set.
func sequenceState(s store.Store, seq *catalog.Object) (int64, bool, error) {
	b, ok, err := s.Get(sequenceKey(seq.Oid))
	if err != nil {
		return 0, false, err
	}
	if !ok || len(b) != 9 {
		return seq.Sequence.Start, false, nil
	}
	return int64(binary.BigEndian.Uint64(b)), b[8] == 1, nil
}

func putSequenceState(s store.Store, oid catalog.Oid, last int64, called bool) error {
	b := binary.BigEndian.AppendUint64(nil, uint64(last))
	if called {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	return s.Set(sequenceKey(oid), b)
}

func dropSequenceState(s store.Store, oid catalog.Oid) error { return s.Delete(sequenceKey(oid)) }

// NextValue advances a sequence in s and returns its new value, as
// nextval does.
func NextValue(s store.Store, seq *catalog.Object) (int64, error) {
	last, called, err := sequenceState(s, seq)
	if err != nil {
		return 0, err
	}
	q := seq.Sequence
	next := last
	if called {
		next = last + q.Increment
		over := q.Increment > 0 && (next > q.Max || next < last) || q.Increment < 0 && (next < q.Min || next > last)
		if over {
			if !q.Cycle {
				bound, which := q.Max, "maximum"
				if q.Increment < 0 {
					bound, which = q.Min, "minimum"
				}
				return 0, pgerror.New("2200H", "nextval: reached %s value of sequence \"%s\" (%d)", which, seq.Name, bound)
			}
			next = q.Min
			if q.Increment < 0 {
				next = q.Max
			}
		}
	}
	return next, putSequenceState(s, seq.Oid, next, true)
}

func init() {
	RegisterFunc(&Func{Name: "nextval", Args: []types.Oid{types.OidRegclass}, Ret: types.OidInt8, Strict: true, Oid: 1574,
		Fn: func(ctx *EvalCtx, a []any) (any, error) {
			seq, err := sequenceArg(ctx, a[0])
			if err != nil {
				return nil, err
			}
			var v int64
			if ctx.Env.Nextval != nil {
				v, err = ctx.Env.Nextval(seq.Oid)
			} else {
				v, err = NextValue(ctx.Env.Store, seq)
			}
			if err != nil {
				return nil, err
			}
			if ctx.Env.Session != nil {
				ctx.Env.Session.Sequences.note(seq.Oid, v, true)
			}
			return v, nil
		}})
	RegisterFunc(&Func{Name: "currval", Args: []types.Oid{types.OidRegclass}, Ret: types.OidInt8, Strict: true, Oid: 1575,
		Fn: func(ctx *EvalCtx, a []any) (any, error) {
			seq, err := sequenceArg(ctx, a[0])
			if err != nil {
				return nil, err
			}
			if ctx.Env.Session != nil {
				if v, ok := ctx.Env.Session.Sequences.Values[seq.Oid]; ok {
					return v, nil
				}
			}
			return nil, pgerror.New(pgerror.ObjectNotInPrerequisiteState, "currval of sequence \"%s\" is not yet defined in this session", seq.Name)
		}})
	RegisterFunc(&Func{Name: "lastval", Ret: types.OidInt8, Oid: 2559,
		Fn: func(ctx *EvalCtx, a []any) (any, error) {
			undefined := pgerror.New(pgerror.ObjectNotInPrerequisiteState, "lastval is not yet defined in this session")
			if ctx.Env.Session == nil || ctx.Env.Session.Sequences.Last == 0 {
				return nil, undefined
			}
			cat, err := ctx.Env.Catalog()
			if err != nil {
				return nil, err
			}
			last := ctx.Env.Session.Sequences.Last
			if seq := cat.Object(last); seq == nil || seq.RelKind != catalog.RelSequence {
				return nil, undefined // dropped since
			}
			return ctx.Env.Session.Sequences.Values[last], nil
		}})
}

// sequenceArg resolves a function's regclass argument to a sequence.
func sequenceArg(ctx *EvalCtx, arg any) (*catalog.Object, error) {
	cat, err := ctx.Env.Catalog()
	if err != nil {
		return nil, err
	}
	seq := cat.Object(catalog.Oid(arg.(int64)))
	if seq == nil || seq.RelKind != catalog.RelSequence {
		return nil, pgerror.New(pgerror.WrongObjectType, "\"%s\" is not a sequence", regclassName(cat, arg.(int64)))
	}
	return seq, nil
}

// regclassName names a relation oid as regclass output does.
func regclassName(cat *catalog.Catalog, oid int64) string {
	if o := cat.Object(catalog.Oid(oid)); o != nil {
		return o.Name
	}
	return itoa(int(oid))
}
