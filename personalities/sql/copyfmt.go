package sql

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
)

// COPY's data formats, as pure functions: options from the statement,
// records parsed from the data a client sent, rows appended as text, CSV
// or binary.

// copyOptions are a COPY statement's options, defaults filled in.
type copyOptions struct {
	csv         bool
	binary      bool
	header      bool
	delim       byte
	null        string
	quote       byte
	escape      byte
	forceQuote  []string // column names; forceQuoteAll for *
	forceAll    bool
	forceNotNul []string
	forceNull   []string
}

// parseCopyOptions reads the option list (the old "WITH CSV HEADER" form
// arrives as the same list) and checks it as Postgres's
// ProcessCopyOptions does.
func parseCopyOptions(opts []*pg.Node, from bool) (*copyOptions, error) {
	o := &copyOptions{}
	seen := map[string]bool{}
	var delim, null, quote, escape *string
	for _, n := range opts {
		d := n.GetDefElem()
		if d == nil {
			continue
		}
		pos := d.Location + 1
		if seen[d.Defname] {
			return nil, pgerror.New(pgerror.SyntaxError, "conflicting or redundant options").WithPosition(pos)
		}
		seen[d.Defname] = true
		switch d.Defname {
		case "format":
			f := defString(d)
			switch f {
			case "text":
			case "csv":
				o.csv = true
			case "binary":
				o.binary = true
			default:
				return nil, pgerror.New(pgerror.InvalidParameterValue, "COPY format \"%s\" not recognized", f).WithPosition(pos)
			}
		case "header":
			b, err := defBool(d)
			if err != nil {
				return nil, err
			}
			o.header = b
		case "delimiter":
			s := defString(d)
			delim = &s
		case "null":
			s := defString(d)
			null = &s
		case "quote":
			s := defString(d)
			quote = &s
		case "escape":
			s := defString(d)
			escape = &s
		case "force_quote":
			if d.Arg.GetAStar() != nil {
				o.forceAll = true
			} else {
				o.forceQuote = defList(d)
			}
		case "force_not_null":
			o.forceNotNul = defList(d)
		case "force_null":
			o.forceNull = defList(d)
		case "freeze", "encoding":
		default:
			return nil, pgerror.New(pgerror.SyntaxError, "option \"%s\" not recognized", d.Defname).WithPosition(pos)
		}
	}
	o.delim, o.quote = '\t', '"'
	if o.csv {
		o.delim = ','
	} else {
		o.null = `\N`
	}
	if delim != nil {
		if len(*delim) != 1 {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "COPY delimiter must be a single one-byte character")
		}
		o.delim = (*delim)[0]
	}
	if o.delim == '\n' || o.delim == '\r' {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "COPY delimiter cannot be newline or carriage return")
	}
	if null != nil {
		o.null = *null
	}
	if strings.ContainsAny(o.null, "\r\n") {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "COPY null representation cannot use newline or carriage return")
	}
	if !o.csv && strings.IndexByte(`\.abcdefghijklmnopqrstuvwxyz0123456789`, o.delim) >= 0 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "COPY delimiter cannot be \"%c\"", o.delim)
	}
	notCSV := func(what string) error {
		return pgerror.New(pgerror.FeatureNotSupported, "COPY %s available only in CSV mode", what)
	}
	// csvChar reads the QUOTE or ESCAPE option.
	csvChar := func(opt *string, what string, def byte) (byte, error) {
		switch {
		case opt == nil:
			return def, nil
		case !o.csv:
			return 0, notCSV(what)
		case len(*opt) != 1:
			return 0, pgerror.New(pgerror.FeatureNotSupported, "COPY %s must be a single one-byte character", what)
		}
		return (*opt)[0], nil
	}
	var err error
	if o.quote, err = csvChar(quote, "quote", o.quote); err != nil {
		return nil, err
	}
	if o.escape, err = csvChar(escape, "escape", o.quote); err != nil {
		return nil, err
	}
	if o.csv && o.delim == o.quote {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "COPY delimiter and quote must be different")
	}
	if (o.forceAll || o.forceQuote != nil) && !o.csv {
		return nil, notCSV("force quote")
	}
	if (o.forceAll || o.forceQuote != nil) && from {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "COPY force quote only available using COPY TO")
	}
	if o.forceNotNul != nil && !o.csv {
		return nil, notCSV("force not null")
	}
	if o.forceNotNul != nil && !from {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "COPY force not null only available using COPY FROM")
	}
	if o.forceNull != nil && !o.csv {
		return nil, notCSV("force null")
	}
	if o.forceNull != nil && !from {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "COPY force null only available using COPY FROM")
	}
	if o.binary {
		switch {
		case delim != nil:
			return nil, pgerror.New(pgerror.SyntaxError, "cannot specify DELIMITER in BINARY mode")
		case null != nil:
			return nil, pgerror.New(pgerror.SyntaxError, "cannot specify NULL in BINARY mode")
		case o.header:
			return nil, pgerror.New(pgerror.FeatureNotSupported, "cannot specify HEADER in BINARY mode")
		}
		return o, nil
	}
	if strings.IndexByte(o.null, o.delim) >= 0 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "COPY delimiter must not appear in the NULL specification")
	}
	if o.csv && strings.IndexByte(o.null, o.quote) >= 0 {
		return nil, pgerror.New(pgerror.InvalidParameterValue, "CSV quote character must not appear in the NULL specification")
	}
	return o, nil
}

func defString(d *pg.DefElem) string {
	switch {
	case d.Arg == nil:
		return ""
	case d.Arg.GetString_() != nil:
		return d.Arg.GetString_().Sval
	case d.Arg.GetInteger() != nil:
		return itoa(int(d.Arg.GetInteger().Ival))
	case d.Arg.GetBoolean() != nil:
		if d.Arg.GetBoolean().Boolval {
			return "true"
		}
		return "false"
	case d.Arg.GetTypeName() != nil:
		names := d.Arg.GetTypeName().Names
		if len(names) > 0 && names[len(names)-1].GetString_() != nil {
			return names[len(names)-1].GetString_().Sval
		}
	}
	return ""
}

// defBool reads a boolean option as Postgres's defGetBoolean does.
func defBool(d *pg.DefElem) (bool, error) {
	if d.Arg == nil {
		return true, nil
	}
	if i := d.Arg.GetInteger(); i != nil {
		switch i.Ival {
		case 0:
			return false, nil
		case 1:
			return true, nil
		}
	}
	switch strings.ToLower(defString(d)) {
	case "true", "on", "yes", "t", "y", "1":
		return true, nil
	case "false", "off", "no", "f", "n", "0":
		return false, nil
	}
	return false, pgerror.New(pgerror.SyntaxError, "%s requires a Boolean value", d.Defname)
}

func defList(d *pg.DefElem) []string {
	var out []string
	if l := d.Arg.GetList(); l != nil {
		for _, it := range l.Items {
			if s := it.GetString_(); s != nil {
				out = append(out, s.Sval)
			}
		}
	}
	return out
}

// copyField is one field of a record read from COPY data.
type copyField struct {
	val    string
	null   bool
	quoted bool // CSV: the field was quoted
}

// copyReader splits COPY data into records. line is the line the current
// record starts on (1-based), for error context.
type copyReader struct {
	data string
	pos  int
	o    *copyOptions
	line int
	// lines counts the lines read so far (a quoted CSV field may span
	// several).
	lines int
	// binHeader: binary data's header was read.
	binHeader bool
}

// complete reports whether the data from pos holds a whole binary tuple
// (with the header, if not read yet), or the trailer; text and CSV rows
// are checked by where they end (see copyInput.parse).
func (r *copyReader) complete() bool {
	if !r.o.binary {
		return true
	}
	d := r.data[r.pos:]
	if !r.binHeader {
		n := len(copySignature) + 8
		if len(d) < n {
			return false
		}
		ext := int(uint32(d[n-4])<<24 | uint32(d[n-3])<<16 | uint32(d[n-2])<<8 | uint32(d[n-1]))
		if ext < 0 || len(d) < n+ext {
			return ext < 0 // a bad length: let the parser say so
		}
		d = d[n+ext:]
	}
	if len(d) < 2 {
		return false
	}
	n := int16(uint16(d[0])<<8 | uint16(d[1]))
	d = d[2:]
	for i := 0; i < int(n); i++ {
		if len(d) < 4 {
			return false
		}
		l := int32(uint32(d[0])<<24 | uint32(d[1])<<16 | uint32(d[2])<<8 | uint32(d[3]))
		d = d[4:]
		if l > 0 {
			if len(d) < int(l) {
				return false
			}
			d = d[l:]
		}
	}
	return true
}

// next returns the next record's fields and its raw text (for error
// context); nil fields at the end of the data (or its \. marker).
func (r *copyReader) next() ([]copyField, string, error) {
	if r.o.binary {
		f, err := r.nextBinary()
		return f, "", err
	}
	if r.pos >= len(r.data) {
		return nil, "", nil
	}
	r.lines++
	r.line = r.lines
	start := r.pos
	if r.o.csv {
		fields, err := r.nextCSV()
		raw := strings.TrimRight(r.data[start:r.pos], "\r\n")
		if err != nil {
			return nil, raw, err
		}
		if raw == `\.` && len(fields) == 1 && !fields[0].quoted {
			r.pos = len(r.data)
			return nil, "", nil
		}
		return fields, raw, nil
	}
	end := strings.IndexByte(r.data[start:], '\n')
	if end < 0 {
		r.pos = len(r.data)
	} else {
		r.pos = start + end + 1
	}
	raw := strings.TrimSuffix(strings.TrimSuffix(r.data[start:r.pos], "\n"), "\r")
	if raw == `\.` {
		r.pos = len(r.data)
		return nil, "", nil
	}
	return splitText(raw, r.o), raw, nil
}

// splitText splits a text-format line into fields, undoing backslash
// escapes. A field whose raw text is the NULL string is NULL.
func splitText(line string, o *copyOptions) []copyField {
	var out []copyField
	var b strings.Builder
	i := 0
	for {
		start := i
		b.Reset()
		for i < len(line) && line[i] != o.delim {
			c := line[i]
			if c != '\\' || i+1 >= len(line) {
				b.WriteByte(c)
				i++
				continue
			}
			i++
			c = line[i]
			switch {
			case c >= '0' && c <= '7':
				v := 0
				for n := 0; n < 3 && i < len(line) && line[i] >= '0' && line[i] <= '7'; n++ {
					v = v*8 + int(line[i]-'0')
					i++
				}
				b.WriteByte(byte(v))
				continue
			case c == 'x' && i+1 < len(line) && isHex(line[i+1]):
				i++
				v := 0
				for n := 0; n < 2 && i < len(line) && isHex(line[i]); n++ {
					v = v*16 + hexVal(line[i])
					i++
				}
				b.WriteByte(byte(v))
				continue
			case c == 'b':
				c = '\b'
			case c == 'f':
				c = '\f'
			case c == 'n':
				c = '\n'
			case c == 'r':
				c = '\r'
			case c == 't':
				c = '\t'
			case c == 'v':
				c = '\v'
			}
			b.WriteByte(c)
			i++
		}
		raw := line[start:i]
		if raw == o.null {
			out = append(out, copyField{null: true})
		} else {
			out = append(out, copyField{val: b.String()})
		}
		if i >= len(line) {
			return out
		}
		i++ // the delimiter
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

// nextCSV reads one CSV record (a quoted field may span lines).
func (r *copyReader) nextCSV() ([]copyField, error) {
	o := r.o
	var out []copyField
	var b strings.Builder
	d := r.data
	for {
		b.Reset()
		f := copyField{}
		rawStart := r.pos
		unquotedOnly := true
		for r.pos < len(d) {
			c := d[r.pos]
			if c == o.delim || c == '\n' || c == '\r' {
				break
			}
			if c != o.quote {
				b.WriteByte(c)
				r.pos++
				continue
			}
			// A quoted section.
			f.quoted, unquotedOnly = true, false
			r.pos++
			for {
				if r.pos >= len(d) {
					return nil, pgerror.New(pgerror.BadCopyFileFormat, "unterminated CSV quoted field")
				}
				c := d[r.pos]
				if c == o.escape && r.pos+1 < len(d) && (d[r.pos+1] == o.quote || d[r.pos+1] == o.escape) && (o.escape != o.quote || d[r.pos+1] == o.quote) {
					b.WriteByte(d[r.pos+1])
					r.pos += 2
					continue
				}
				if c == o.quote {
					r.pos++
					break
				}
				if c == '\n' {
					r.lines++
				}
				b.WriteByte(c)
				r.pos++
			}
		}
		f.val = b.String()
		if unquotedOnly && d[rawStart:r.pos] == o.null {
			f.null = true
		}
		out = append(out, f)
		if r.pos >= len(d) {
			return out, nil
		}
		switch d[r.pos] {
		case o.delim:
			r.pos++
			continue
		case '\r':
			r.pos++
			if r.pos < len(d) && d[r.pos] == '\n' {
				r.pos++
			}
		default:
			r.pos++
		}
		return out, nil
	}
}

// appendText appends a value in the text format's escaping.
func appendText(b []byte, s string, o *copyOptions) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\v':
			b = append(b, '\\', 'v')
		default:
			if c == o.delim {
				b = append(b, '\\')
			}
			b = append(b, c)
		}
	}
	return b
}

// appendCSV appends a value in CSV, quoted when it must be (or force).
// single: the row has one column (a lone \. must then be quoted).
func appendCSV(b []byte, s string, o *copyOptions, force, single bool) []byte {
	quote := force || s == o.null || single && s == `\.`
	if !quote {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == o.delim || c == o.quote || c == '\n' || c == '\r' {
				quote = true
				break
			}
		}
	}
	if !quote {
		return append(b, s...)
	}
	b = append(b, o.quote)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == o.quote || c == o.escape {
			b = append(b, o.escape)
		}
		b = append(b, s[i])
	}
	return append(b, o.quote)
}

// limitPrintout shortens a value for an error's context as Postgres
// does (at most 100 bytes, then "...").
func limitPrintout(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "..."
}

// copySignature starts binary COPY data.
const copySignature = "PGCOPY\n\377\r\n\x00"

// nextBinary reads one tuple of binary COPY data (the header first).
func (r *copyReader) nextBinary() ([]copyField, error) {
	eof := func() error { return pgerror.New(pgerror.BadCopyFileFormat, "unexpected EOF in COPY data") }
	d := r.data
	take := func(n int) (string, bool) {
		if len(d)-r.pos < n {
			return "", false
		}
		r.pos += n
		return d[r.pos-n : r.pos], true
	}
	u32 := func() (int32, bool) {
		b, ok := take(4)
		if !ok {
			return 0, false
		}
		return int32(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])), true
	}
	if !r.binHeader {
		r.binHeader = true
		if sig, ok := take(len(copySignature)); !ok || sig != copySignature {
			return nil, pgerror.New(pgerror.BadCopyFileFormat, "COPY file signature not recognized")
		}
		flags, ok := u32()
		if !ok {
			return nil, pgerror.New(pgerror.BadCopyFileFormat, "invalid COPY file header (missing flags)")
		}
		if flags&(1<<16) != 0 {
			return nil, pgerror.New(pgerror.BadCopyFileFormat, "invalid COPY file header (WITH OIDS)")
		}
		if flags&^0xffff&^(1<<16) != 0 {
			return nil, pgerror.New(pgerror.BadCopyFileFormat, "unrecognized critical flags in COPY file header")
		}
		ext, ok := u32()
		if !ok || ext < 0 {
			return nil, pgerror.New(pgerror.BadCopyFileFormat, "invalid COPY file header (missing length)")
		}
		if _, ok := take(int(ext)); !ok {
			return nil, pgerror.New(pgerror.BadCopyFileFormat, "invalid COPY file header (wrong length)")
		}
	}
	if r.pos >= len(d) {
		return nil, nil
	}
	r.lines++
	r.line = r.lines
	b, ok := take(2)
	if !ok {
		return nil, eof()
	}
	n := int16(uint16(b[0])<<8 | uint16(b[1]))
	if n == -1 {
		r.pos = len(d)
		return nil, nil
	}
	fields := make([]copyField, 0, max(n, 0))
	for range n {
		l, ok := u32()
		if !ok {
			return nil, eof()
		}
		if l == -1 {
			fields = append(fields, copyField{null: true})
			continue
		}
		if l < 0 {
			return nil, pgerror.New(pgerror.BadCopyFileFormat, "invalid field size")
		}
		v, ok := take(int(l))
		if !ok {
			return nil, eof()
		}
		fields = append(fields, copyField{val: v})
	}
	return fields, nil
}

// appendBinaryHeader appends binary COPY data's header.
func appendBinaryHeader(b []byte) []byte {
	b = append(b, copySignature...)
	return append(b, 0, 0, 0, 0, 0, 0, 0, 0)
}
