package keyspace

import "math"

// BITFIELD is a write, as in Redis's command table, but one with GETs
// only is served like a read, against a synced view (KindOf); in MULTI
// and scripts it runs at apply. BITFIELD_RO takes GETs only.
func init() {
	register(&Command{Spec: Spec{Name: "bitfield", Arity: -2, FirstKey: 1, LastKey: 1, Step: 1, Flags: []string{"write", "denyoom"}}, Kind: KindWrite, check: checkBitfield(false), exec: execBitfield(false), readWith: bitfieldReads})
	register(&Command{Spec: Spec{Name: "bitfield_ro", Arity: -2, FirstKey: 1, LastKey: 1, Step: 1, Flags: []string{"readonly", "fast"}}, Kind: KindRead, check: checkBitfield(true), exec: execBitfield(true)})
}

var (
	errBitfieldType     = Error("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")
	errBitfieldOverflow = Error("ERR Invalid OVERFLOW type specified")
	errBitfieldRO       = Error("ERR BITFIELD_RO only supports the GET subcommand")
)

// Overflow behaviours of BITFIELD's SET and INCRBY.
const (
	overflowWrap = iota
	overflowSat
	overflowFail
)

// bitfieldOp is one GET, SET or INCRBY of a BITFIELD command.
type bitfieldOp struct {
	op       byte // 'g', 's' or 'i'
	signed   bool
	width    uint // 1 to 64 signed, 1 to 63 unsigned
	offset   uint64
	arg      int64 // SET's value, INCRBY's increment
	overflow int
}

// parseBitfield reads BITFIELD's subcommands as Redis's bitfieldGeneric
// does, stopping at the first bad one. writes reports a SET or INCRBY,
// and top the highest bit one of them touches. ro refuses them.
func parseBitfield(args [][]byte, ro bool) (ops []bitfieldOp, writes bool, top uint64, err error) {
	overflow := overflowWrap
	for j := 2; j < len(args); j++ {
		rest := len(args) - j - 1
		var op bitfieldOp
		switch sub := args[j]; {
		case EqFold(sub, "get") && rest >= 2:
			op.op = 'g'
		case EqFold(sub, "set") && rest >= 3:
			op.op = 's'
		case EqFold(sub, "incrby") && rest >= 3:
			op.op = 'i'
		case EqFold(sub, "overflow") && rest >= 1:
			j++
			switch kind := args[j]; {
			case EqFold(kind, "wrap"):
				overflow = overflowWrap
			case EqFold(kind, "sat"):
				overflow = overflowSat
			case EqFold(kind, "fail"):
				overflow = overflowFail
			default:
				return nil, false, 0, errBitfieldOverflow
			}
			continue
		default:
			return nil, false, 0, ErrSyntax
		}
		if op.signed, op.width, err = parseBitfieldType(args[j+1]); err != nil {
			return nil, false, 0, err
		}
		if op.offset, err = parseBitOffset(args[j+2], int64(op.width)); err != nil {
			return nil, false, 0, err
		}
		if op.op != 'g' {
			writes = true
			top = max(top, op.offset+uint64(op.width)-1)
			var ok bool
			if op.arg, ok = ParseInt(args[j+3]); !ok {
				return nil, false, 0, ErrNotInteger
			}
			j++
		}
		op.overflow = overflow
		ops = append(ops, op)
		j += 2
	}
	if ro && writes {
		return nil, false, 0, errBitfieldRO
	}
	return ops, writes, top, nil
}

// parseBitfieldType reads a type: i1 to i64 or u1 to u63.
func parseBitfieldType(arg []byte) (signed bool, width uint, err error) {
	if len(arg) == 0 || (arg[0] != 'i' && arg[0] != 'u') {
		return false, 0, errBitfieldType
	}
	signed = arg[0] == 'i'
	n, ok := ParseInt(arg[1:])
	if !ok || n < 1 || (signed && n > 64) || (!signed && n > 63) {
		return false, 0, errBitfieldType
	}
	return signed, uint(n), nil
}

// bitfieldReads reports whether a BITFIELD command only reads: it has
// no SET or INCRBY.
func bitfieldReads(args [][]byte) bool {
	_, writes, _, err := parseBitfield(args, false)
	return err == nil && !writes
}

func checkBitfield(ro bool) func([][]byte) error {
	return func(args [][]byte) error {
		_, _, _, err := parseBitfield(args, ro)
		return err
	}
}

// execBitfield runs BITFIELD or BITFIELD_RO. With a SET or INCRBY the
// string grows to the highest bit they touch before any runs (even if
// OVERFLOW FAIL then leaves every field as it was), as in Redis.
func execBitfield(ro bool) func(*Keyspace, [][]byte) (any, error) {
	return func(ks *Keyspace, args [][]byte) (any, error) {
		ops, writes, top, err := parseBitfield(args, ro)
		if err != nil {
			return nil, err
		}
		rec, exists, err := ks.lookupString(args[1])
		if err != nil {
			return nil, err
		}
		v := rec.payload
		if writes {
			v = growTo(v, top>>3+1)
		}
		out := make([]any, len(ops))
		for i, op := range ops {
			old := getField(v, op.offset, op.width)
			if op.signed {
				old = signExtend(old, op.width)
			}
			if op.op == 'g' {
				out[i] = int64(old)
				continue
			}
			val, reply, ok := fieldResult(op, old)
			if !ok {
				continue // OVERFLOW FAIL: a null reply, nothing written
			}
			setField(v, op.offset, op.width, val)
			out[i] = reply
		}
		if !writes {
			return out, nil
		}
		return out, ks.storeString(args[1], rec, exists, v)
	}
}

// fieldResult returns the value a SET or INCRBY stores in a field that
// holds old (sign extended if signed), the reply, and false if the
// operation overflows under OVERFLOW FAIL.
func fieldResult(op bitfieldOp, old uint64) (val uint64, reply int64, ok bool) {
	if op.op == 's' {
		val, over := checkFieldOverflow(op, uint64(op.arg), 0)
		return val, int64(old), !over || op.overflow != overflowFail
	}
	val, over := checkFieldOverflow(op, old, op.arg)
	return val, int64(val), !over || op.overflow != overflowFail
}

// checkFieldOverflow computes value+incr in a field of op's type under
// op's overflow behaviour, as Redis's checkSignedBitfieldOverflow and
// checkUnsignedBitfieldOverflow do (their wrapping arithmetic included),
// and reports whether it overflowed.
func checkFieldOverflow(op bitfieldOp, value uint64, incr int64) (uint64, bool) {
	w := op.width
	if !op.signed {
		hi := uint64(1)<<w - 1
		maxIncr, minIncr := int64(hi-value), -int64(value)
		switch {
		case value > hi || (incr > 0 && incr > maxIncr):
			if op.overflow == overflowSat {
				return hi, true
			}
		case incr < 0 && incr < minIncr:
			if op.overflow == overflowSat {
				return 0, true
			}
		default:
			return value + uint64(incr), false
		}
		return (value + uint64(incr)) & (1<<w - 1), true
	}
	hi := int64(math.MaxInt64)
	if w < 64 {
		hi = 1<<(w-1) - 1
	}
	lo := -hi - 1
	v := int64(value)
	maxIncr, minIncr := hi-v, lo-v // may wrap; used only where they do not
	switch {
	case v > hi || (w != 64 && incr > maxIncr) || (v >= 0 && incr > 0 && incr > maxIncr):
		if op.overflow == overflowSat {
			return uint64(hi), true
		}
	case v < lo || (w != 64 && incr < minIncr) || (v < 0 && incr < 0 && incr < minIncr):
		if op.overflow == overflowSat {
			return uint64(lo), true
		}
	default:
		return uint64(v + incr), false
	}
	return signExtend(value+uint64(incr), w), true
}

// signExtend extends the sign bit of a w-bit field to 64 bits.
func signExtend(v uint64, w uint) uint64 {
	if w < 64 && v&(1<<(w-1)) != 0 {
		return v | ^uint64(0)<<w
	}
	if w < 64 {
		return v & (1<<w - 1)
	}
	return v
}

// getField reads the w-bit field at bit offset off, most significant bit
// first; bits past the end of v read as 0.
func getField(v []byte, off uint64, w uint) uint64 {
	var x uint64
	for i := range uint64(w) {
		b := off + i
		x <<= 1
		if b>>3 < uint64(len(v)) {
			x |= uint64(v[b>>3]>>(7-b&7)) & 1
		}
	}
	return x
}

// setField writes the low w bits of x at bit offset off, most
// significant first. REQUIRES: v reaches bit off+w-1.
func setField(v []byte, off uint64, w uint, x uint64) {
	for i := range uint64(w) {
		b := off + i
		bit := byte(x>>(uint64(w)-1-i)) & 1
		shift := 7 - b&7
		v[b>>3] = v[b>>3]&^(1<<shift) | bit<<shift
	}
}
