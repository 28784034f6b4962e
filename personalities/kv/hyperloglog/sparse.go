package hyperloglog

// sparseSet raises register index of the sparse value b to count, as
// Redis's hllSparseSet does, opcode for opcode: it finds the opcode that
// covers the register, splits it around the register (at most XZERO VAL
// XZERO), merges equal VAL neighbours, and turns the value dense when it
// would grow past SparseMaxBytes or count exceeds a VAL's range. On
// ErrCorrupt b is unchanged.
func sparseSet(b []byte, index int, count uint8) ([]byte, bool, error) {
	if count > valMaxValue {
		return promote(b, index, count)
	}
	// Step 1: the opcode at p covers registers first to first+span-1.
	p, first, span, prev := HeaderSize, 0, 0, -1
	for p < len(b) {
		oplen := 1
		switch c := b[p]; {
		case isZero(c):
			span = zeroLen(c)
		case isVal(c):
			span = valLen(c)
		default:
			span = xzeroLen(b, p)
			oplen = 2
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= len(b) {
		return b, false, ErrCorrupt
	}
	op := b[p]
	next := p + 1
	if isXzero(op) {
		next = p + 2
	}
	if next >= len(b) {
		next = -1
	}

	// Step 2: a VAL already as high, or a single register, needs no split.
	if isVal(op) {
		if valValue(op) >= int(count) {
			return b, false, nil
		}
		if valLen(op) == 1 {
			b[p] = valOp(int(count), 1)
			return sparseMerge(b, prev), true, nil
		}
	}
	if isZero(op) && zeroLen(op) == 1 {
		b[p] = valOp(int(count), 1)
		return sparseMerge(b, prev), true, nil
	}

	// Step 3: split the opcode into up to three.
	var buf [5]byte
	seq := buf[:0]
	last := first + span - 1
	if isVal(op) {
		v := valValue(op)
		if index != first {
			seq = append(seq, valOp(v, index-first))
		}
		seq = append(seq, valOp(int(count), 1))
		if index != last {
			seq = append(seq, valOp(v, last-index))
		}
	} else {
		if index != first {
			seq = appendZeros(seq, index-first)
		}
		seq = append(seq, valOp(int(count), 1))
		if index != last {
			seq = appendZeros(seq, last-index)
		}
	}
	oldlen := 1
	if isXzero(op) {
		oldlen = 2
	}
	delta := len(seq) - oldlen
	if delta > 0 && len(b)+delta > SparseMaxBytes {
		return promote(b, index, count)
	}
	end := len(b)
	newLen := end + delta
	if need := max(newLen, p+len(seq)); need > len(b) {
		b = append(b, make([]byte, need-len(b))...)
	}
	if delta != 0 && next >= 0 {
		copy(b[next+delta:], b[next:end])
	}
	// An XZERO cut short by the end of the value leaves the last byte of
	// the sequence past the new end, as in Redis.
	copy(b[p:], seq)
	return sparseMerge(b[:newLen], prev), true, nil
}

// sparseMerge joins adjacent VAL opcodes of equal value whose lengths fit
// one, scanning up to five opcodes from prev (or the first), and marks the
// cached cardinality stale.
func sparseMerge(b []byte, prev int) []byte {
	p := prev
	if p < 0 {
		p = HeaderSize
	}
	for scan := 5; p < len(b) && scan > 0; {
		scan--
		c := b[p]
		if isXzero(c) {
			p += 2
			continue
		}
		if isZero(c) {
			p++
			continue
		}
		if p+1 < len(b) && isVal(b[p+1]) {
			v1, v2 := valValue(c), valValue(b[p+1])
			if n := valLen(c) + valLen(b[p+1]); v1 == v2 && n <= valMaxLen {
				b[p+1] = valOp(v1, n)
				copy(b[p:], b[p+1:])
				b = b[:len(b)-1]
				continue
			}
		}
		p++
	}
	Invalidate(b)
	return b
}

// promote turns the sparse value b dense and raises register index to
// count there.
func promote(b []byte, index int, count uint8) ([]byte, bool, error) {
	d, err := ToDense(b)
	if err != nil {
		return b, false, err
	}
	denseSet(d[HeaderSize:], index, count)
	return d, true, nil
}
