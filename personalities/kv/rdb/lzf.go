package rdb

// lzfMaxExpansion bounds how many bytes one compressed byte can become:
// a 3-byte back reference copies at most 264.
const lzfMaxExpansion = 88

// lzfDecompress decompresses in (liblzf's format) into exactly n bytes,
// or fails. REQUIRES: n <= lzfMaxExpansion*len(in) (the caller checks,
// before allocating).
func lzfDecompress(in []byte, n int) ([]byte, bool) {
	out := make([]byte, 0, n)
	for ip := 0; ip < len(in); {
		ctrl := int(in[ip])
		ip++
		if ctrl < 1<<5 {
			ctrl++
			if len(out)+ctrl > n || ip+ctrl > len(in) {
				return nil, false
			}
			out = append(out, in[ip:ip+ctrl]...)
			ip += ctrl
			continue
		}
		length := ctrl >> 5
		ref := len(out) - (ctrl&0x1f)<<8 - 1
		if ip >= len(in) {
			return nil, false
		}
		if length == 7 {
			length += int(in[ip])
			ip++
			if ip >= len(in) {
				return nil, false
			}
		}
		ref -= int(in[ip])
		ip++
		if len(out)+length+2 > n || ref < 0 {
			return nil, false
		}
		for i := range length + 2 {
			out = append(out, out[ref+i])
		}
	}
	return out, len(out) == n
}

// lzfCompress compresses in as liblzf's lzf_compress does with Redis's
// settings (HLOG 16, VERY_FAST, a zeroed hash table), so that Dump
// writes the bytes redis-server would; it returns nil unless the result
// fits in max bytes (and liblzf's own margins).
func lzfCompress(in []byte, max int) []byte {
	const (
		hlog   = 16
		maxLit = 1 << 5
		maxOff = 1 << 13
		maxRef = 1<<8 + 1<<3
	)
	if len(in) < 3 || max <= 0 {
		return nil
	}
	idx := func(h uint32) uint32 { return ((h >> (3*8 - hlog)) - h*5) & (1<<hlog - 1) }
	htab := make([]uint32, 1<<hlog) // positions; 0 never matches
	out := make([]byte, max+8)
	op, lit, ip := 1, 0, 0 // op: start a literal run
	end := len(in)
	hval := uint32(in[0])<<8 | uint32(in[1])
	// literal copies in[ip] into the run, closing a full run.
	literal := func() {
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == maxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	for ip < end-2 {
		hval = hval<<8 | uint32(in[ip+2])
		slot := &htab[idx(hval)]
		ref := int(*slot)
		*slot = uint32(ip)
		off := ip - ref - 1
		if off < maxOff && ref > 0 && in[ref+2] == in[ip+2] && in[ref] == in[ip] && in[ref+1] == in[ip+1] {
			length := 2
			maxlen := min(end-ip-length, maxRef)
			if op+3+1 >= max {
				nolit := 0
				if lit == 0 {
					nolit = 1
				}
				if op-nolit+3+1 >= max {
					return nil
				}
			}
			out[op-lit-1] = byte(lit - 1)
			if lit == 0 {
				op--
			}
			done := false
			if maxlen > 16 {
				for range 16 {
					length++
					if in[ref+length] != in[ip+length] {
						done = true
						break
					}
				}
			}
			if !done {
				for {
					length++
					if !(length < maxlen && in[ref+length] == in[ip+length]) {
						break
					}
				}
			}
			length -= 2
			ip++
			if length < 7 {
				out[op] = byte(off>>8 + length<<5)
				op++
			} else {
				out[op], out[op+1] = byte(off>>8+7<<5), byte(length-7)
				op += 2
			}
			out[op] = byte(off)
			op += 2 // and start a literal run
			lit = 0
			ip += length + 1
			if ip >= end-2 {
				break
			}
			ip -= 2
			hval = uint32(in[ip])<<8 | uint32(in[ip+1])
			hval = hval<<8 | uint32(in[ip+2])
			htab[idx(hval)] = uint32(ip)
			ip++
			hval = hval<<8 | uint32(in[ip+2])
			htab[idx(hval)] = uint32(ip)
			ip++
			continue
		}
		if op >= max {
			return nil
		}
		literal()
	}
	if op+3 > max {
		return nil
	}
	for ip < end {
		literal()
	}
	out[op-lit-1] = byte(lit - 1)
	if lit == 0 {
		op--
	}
	return out[:op]
}
