package keyspace

import "math"

// LCS, as Redis 7.0's lcsCommand: the longest common subsequence of two
// strings by the dynamic-programming table (its size bounded by
// proto-max-bulk-len, as in Redis), walked back from the end with
// Redis's tie-breaking, so that the string and the IDX ranges are the
// ones Redis answers.

func init() {
	register(&Command{Spec: Spec{Name: "lcs", Arity: -3, FirstKey: 1, LastKey: 2, Step: 1, Flags: []string{"readonly"}}, Kind: KindRead, exec: execLcs})
}

// lcsOptions are LCS's options.
type lcsOptions struct {
	idx, length, withMatchLen bool
	minMatchLen               int64
}

func parseLcs(args [][]byte) (lcsOptions, error) {
	var o lcsOptions
	for j := 3; j < len(args); j++ {
		more := len(args) - 1 - j
		switch a := args[j]; {
		case EqFold(a, "idx"):
			o.idx = true
		case EqFold(a, "len"):
			o.length = true
		case EqFold(a, "withmatchlen"):
			o.withMatchLen = true
		case EqFold(a, "minmatchlen") && more > 0:
			v, ok := ParseInt(args[j+1])
			if !ok {
				return o, ErrNotInteger
			}
			o.minMatchLen = max(v, 0)
			j++
		default:
			return o, ErrSyntax
		}
	}
	if o.idx && o.length {
		return o, Error("ERR If you want both the length and indexes, please just use IDX.")
	}
	return o, nil
}

// lcsString returns the string at key, "" if it is missing.
func (ks *Keyspace) lcsString(key []byte) ([]byte, error) {
	rec, ok, err := ks.lookup(key)
	if err != nil || !ok {
		return nil, err
	}
	if rec.typ != typeString {
		return nil, Error("ERR The specified keys must contain string values")
	}
	return rec.payload, nil
}

func execLcs(ks *Keyspace, args [][]byte) (any, error) {
	a, err := ks.lcsString(args[1])
	if err != nil {
		return nil, err
	}
	b, err := ks.lcsString(args[2])
	if err != nil {
		return nil, err
	}
	o, err := parseLcs(args)
	if err != nil {
		return nil, err
	}
	if len(a) >= math.MaxUint32-1 || len(b) >= math.MaxUint32-1 {
		return nil, Error("ERR String too long for LCS")
	}
	alen, blen := len(a), len(b)
	cells := uint64(alen+1) * uint64(blen+1)
	if cells*4 > uint64(ks.nodeConfig().ProtoMaxBulkLen) {
		return nil, Error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
	}
	w := blen + 1
	t := make([]uint32, cells)
	for i := 1; i <= alen; i++ {
		for j := 1; j <= blen; j++ {
			if a[i-1] == b[j-1] {
				t[i*w+j] = t[(i-1)*w+j-1] + 1
			} else {
				t[i*w+j] = max(t[(i-1)*w+j], t[i*w+j-1])
			}
		}
	}
	n := t[alen*w+blen]
	if o.length {
		return int64(n), nil
	}
	result := make([]byte, n)
	var matches []any
	idx := n
	// The current range; aStart == alen means none.
	aStart, aEnd, bStart, bEnd := alen, 0, 0, 0
	for i, j := alen, blen; i > 0 && j > 0; {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			if aStart == alen {
				aStart, aEnd, bStart, bEnd = i-1, i-1, j-1, j-1
			} else if aStart == i && bStart == j {
				aStart--
				bStart--
			} else {
				emit = true
			}
			if aStart == 0 || bStart == 0 {
				emit = true
			}
			idx, i, j = idx-1, i-1, j-1
		} else {
			if t[(i-1)*w+j] > t[i*w+j-1] {
				i--
			} else {
				j--
			}
			if aStart != alen {
				emit = true
			}
		}
		if emit {
			matchLen := int64(aEnd - aStart + 1)
			if o.idx && (o.minMatchLen == 0 || matchLen >= o.minMatchLen) {
				m := []any{[]any{int64(aStart), int64(aEnd)}, []any{int64(bStart), int64(bEnd)}}
				if o.withMatchLen {
					m = append(m, matchLen)
				}
				matches = append(matches, m)
			}
			aStart = alen
		}
	}
	if o.idx {
		if matches == nil {
			matches = []any{}
		}
		return Map{[]byte("matches"), matches, []byte("len"), int64(n)}, nil
	}
	return result, nil
}
