package resp

import (
	"bytes"
	"math"

	"hourglass/personalities/kv/sdsargs"
)

// Parser states.
const (
	stIdle       = iota // between requests
	stBulkHeader        // inside a multibulk request, expecting "$<len>\r\n"
	stBulkData          // inside a bulk argument's data or its trailing 2 bytes
)

const (
	maxArgsPrealloc = 1024     // cap on the args slice preallocated from "*<n>"
	bulkGrowStep    = 64 << 10 // minimum growth step of a bulk argument
)

// parser is an incremental request parser. feed is given the unconsumed
// input, which must start where the previous call stopped; a line that is
// not complete yet is left unconsumed and must be offered again (extended)
// on the next call. Its state survives between calls, so no input is parsed
// twice.
type parser struct {
	lim  Limits
	auth bool

	state int
	scan  int // bytes of the pending (unconsumed) line already searched

	args    [][]byte // arguments of the current multibulk request
	left    int      // arguments still to come, including the current one
	total   int64    // argument bytes declared so far in this request
	bulkLen int64    // length of the current bulk argument
	bulk    []byte   // data of the current bulk argument received so far
	skip    int      // bytes still to skip after the bulk data
}

func (p *parser) idle() bool { return p.state == stIdle }

// feed consumes input from b. It returns the number of bytes consumed and
// done == true when a request ended (cmd == nil for a skipped empty
// request); done == false when it needs more input than b holds.
func (p *parser) feed(b []byte) (n int, done bool, cmd [][]byte, err error) {
	for {
		switch p.state {
		case stIdle:
			if n == len(b) {
				return n, false, nil, nil
			}
			if b[n] != '*' {
				k, cmd, err := p.inline(b[n:])
				if err != nil || k == 0 {
					return n, false, nil, err
				}
				return n + k, true, cmd, nil
			}
			line, k, err := p.headerLine(b[n:], "too big mbulk count string")
			if err != nil || k == 0 {
				return n, false, nil, err
			}
			v, ok := parseInt(line[1:])
			if !ok || v > int64(p.lim.MaxMultibulkLen) {
				return n, false, nil, protoErr("invalid multibulk length")
			}
			if !p.auth && v > unauthMaxMultibulkLen {
				return n, false, nil, protoErr("unauthenticated multibulk length")
			}
			n += k
			if v <= 0 {
				return n, true, nil, nil
			}
			p.args = make([][]byte, 0, min(int(v), maxArgsPrealloc))
			p.left = int(v)
			p.total = 0
			p.state = stBulkHeader

		case stBulkHeader:
			line, k, err := p.headerLine(b[n:], "too big bulk count string")
			if err != nil || k == 0 {
				return n, false, nil, err
			}
			if c := b[n]; c != '$' { // b[n] is '\r' if line is empty
				return n, false, nil, protoErr(expectedDollar(c))
			}
			v, ok := parseInt(line[1:])
			if !ok || v < 0 || v > p.lim.MaxBulkLen {
				return n, false, nil, protoErr("invalid bulk length")
			}
			if !p.auth && v > unauthMaxBulkLen {
				return n, false, nil, protoErr("unauthenticated bulk length")
			}
			if v > p.lim.MaxQueryBuffer-p.total {
				return n, false, nil, protoErr("query buffer limit exceeded")
			}
			n += k
			p.total += v
			p.bulkLen = v
			p.bulk = nil
			p.skip = 2
			p.state = stBulkData

		case stBulkData:
			if need := p.bulkLen - int64(len(p.bulk)); need > 0 {
				k := int64(len(b) - n)
				if k == 0 {
					return n, false, nil, nil
				}
				if k > need {
					k = need
				}
				p.appendBulk(b[n : n+int(k)])
				n += int(k)
				if k < need {
					return n, false, nil, nil
				}
			}
			// Redis skips the two bytes after the data without checking them.
			if s := min(p.skip, len(b)-n); s > 0 {
				n += s
				p.skip -= s
			}
			if p.skip > 0 {
				return n, false, nil, nil
			}
			arg := p.bulk
			if arg == nil {
				arg = []byte{}
			}
			p.bulk = nil
			p.args = append(p.args, arg)
			p.left--
			if p.left > 0 {
				p.state = stBulkHeader
				continue
			}
			cmd := p.args
			p.args = nil
			p.state = stIdle
			return n, true, cmd, nil
		}
	}
}

// findLineEnd looks for delim in the line starting at b[0], which may span
// at most MaxInlineLen+1 bytes (delim included). It returns the index of
// delim, or -1 if more input is needed, or a *ProtocolError(tooBig) if the
// line cannot end within the limit. The search resumes at p.scan.
func (p *parser) findLineEnd(b []byte, delim byte, tooBig string) (int, error) {
	w := b
	if len(w) > p.lim.MaxInlineLen {
		w = w[:p.lim.MaxInlineLen+1]
	}
	if p.scan < len(w) {
		if i := bytes.IndexByte(w[p.scan:], delim); i >= 0 {
			return p.scan + i, nil
		}
	}
	if len(b) > p.lim.MaxInlineLen {
		return -1, protoErr(tooBig)
	}
	p.scan = len(w)
	return -1, nil
}

// headerLine parses a "*<n>" or "$<n>" header line starting at b[0]. Like
// Redis it ends at the first '\r' and also consumes the byte after it.
// It returns the line without the terminator and the bytes consumed, or
// k == 0 if more input is needed.
func (p *parser) headerLine(b []byte, tooBig string) (line []byte, k int, err error) {
	i, err := p.findLineEnd(b, '\r', tooBig)
	if err != nil || i < 0 {
		return nil, 0, err
	}
	if i+1 >= len(b) {
		p.scan = i // wait for the byte after '\r'
		return nil, 0, nil
	}
	p.scan = 0
	return b[:i], i + 2, nil
}

// inline parses an inline request starting at b[0]. It returns the bytes
// consumed (0 if more input is needed) and the arguments (nil for a blank
// line).
func (p *parser) inline(b []byte) (int, [][]byte, error) {
	i, err := p.findLineEnd(b, '\n', "too big inline request")
	if err != nil || i < 0 {
		return 0, nil, err
	}
	p.scan = 0
	line := b[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	args, ok := sdsargs.Split(line)
	if !ok {
		return 0, nil, protoErr("unbalanced quotes in request")
	}
	return i + 1, args, nil
}

// appendBulk appends data to the current bulk argument, growing its buffer
// by at most max(bulkGrowStep, bytes received so far, len(data)).
func (p *parser) appendBulk(data []byte) {
	if len(p.bulk)+len(data) > cap(p.bulk) {
		p.growBulk(len(data))
	}
	p.bulk = append(p.bulk, data...)
}

// growBulk makes room for at least want more bytes in p.bulk, never beyond
// bulkLen, growing by max(bulkGrowStep, len(p.bulk), want) at most.
func (p *parser) growBulk(want int) {
	l := int64(len(p.bulk))
	step := max(int64(bulkGrowStep), l, int64(want))
	c := min(l+step, p.bulkLen)
	if c > math.MaxInt {
		c = math.MaxInt
	}
	nb := make([]byte, l, int(c))
	copy(nb, p.bulk)
	p.bulk = nb
}

// bulkSpace returns the free part of the current bulk argument's buffer for
// reading data straight into it (growing the buffer if needed), provided
// at least minNeed data bytes are still to come; otherwise nil.
func (p *parser) bulkSpace(minNeed int) []byte {
	if p.state != stBulkData {
		return nil
	}
	if need := p.bulkLen - int64(len(p.bulk)); need < int64(minNeed) || need <= 0 {
		return nil
	}
	if len(p.bulk) == cap(p.bulk) {
		p.growBulk(1)
	}
	return p.bulk[len(p.bulk):cap(p.bulk)]
}

// bulkAdvance records n bytes read into the space returned by bulkSpace.
func (p *parser) bulkAdvance(n int) { p.bulk = p.bulk[:len(p.bulk)+n] }

// parseInt parses a decimal integer exactly like Redis's string2ll: an
// optional '-', no leading zeros (except "0" itself), no '+', no spaces,
// fewer than 21 bytes, within int64.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) >= 21 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	i, neg := 0, false
	if b[0] == '-' {
		neg = true
		i++
		if i == len(b) {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	v := uint64(b[i] - '0')
	for i++; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > math.MaxUint64/10 || v*10 > math.MaxUint64-d {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return int64(-v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// expectedDollar formats Redis's "expected '$', got '%c'" message as Redis's
// addReplyErrorFormat renders it: '\r' and '\n' become spaces (so the reply
// stays one line) and a NUL byte ends the formatted string (vsnprintf
// followed by strlen), dropping the closing quote too.
func expectedDollar(c byte) string {
	const prefix = "expected '$', got '"
	switch c {
	case '\r', '\n':
		c = ' '
	case 0:
		return prefix
	}
	return prefix + string([]byte{c}) + "'"
}
