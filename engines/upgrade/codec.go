package upgrade

import (
	"encoding/binary"
	"sort"

	"hourglass/platform"
)

// The engine's header: one kind byte, then the kind's fields, each an
// unsigned varint or a varint-length-prefixed string.
//
//	announce: node, n, n × (name, min, max)
//	enable:   name, version, n, n × member
const (
	kindAnnounce = 1
	kindEnable   = 2
)

// The engine's namespace: keyEnabled holds the enabled versions (n, n ×
// (name, version, position)); announcePrefix+node holds what the node
// announced (n, n × (name, min, max)).
var (
	keyEnabled     = []byte("enabled")
	announcePrefix = []byte("a/")
)

// maxItems bounds a decoded list, so that a corrupt length cannot make a
// replica allocate without bound.
const maxItems = 1 << 12

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// reader decodes the fields above; the first error sticks.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) uvarint() uint64 {
	if r.bad {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uint32() uint32 {
	v := r.uvarint()
	if v > 1<<32-1 {
		r.bad = true
	}
	return uint32(v)
}

func (r *reader) count() int {
	n := r.uvarint()
	if n > maxItems {
		r.bad = true
		return 0
	}
	return int(n)
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// done reports whether everything decoded and nothing is left over.
func (r *reader) done() bool { return !r.bad && len(r.b) == 0 }

// appendRanges encodes s in name order.
func appendRanges(b []byte, s Supported) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	for _, name := range sortedNames(s) {
		r := s[name]
		b = appendString(b, name)
		b = binary.AppendUvarint(b, uint64(r.Min))
		b = binary.AppendUvarint(b, uint64(r.Max))
	}
	return b
}

func (r *reader) ranges() Supported {
	n := r.count()
	s := make(Supported, n)
	for range n {
		name := r.string()
		s[name] = Range{Min: r.uint32(), Max: r.uint32()}
	}
	return s
}

// announcement is an announce entry: what node supports.
type announcement struct {
	node      string
	supported Supported
}

func (a announcement) encode() []byte {
	b := appendString([]byte{kindAnnounce}, a.node)
	return appendRanges(b, a.supported)
}

// enablement is an enable entry: name at version, if every one of
// members supports it.
type enablement struct {
	name    string
	version uint32
	members []string
}

func (e enablement) encode() []byte {
	b := appendString([]byte{kindEnable}, e.name)
	b = binary.AppendUvarint(b, uint64(e.version))
	b = binary.AppendUvarint(b, uint64(len(e.members)))
	for _, m := range e.members {
		b = appendString(b, m)
	}
	return b
}

// decodeEntry decodes the engine's header: one of announcement and
// enablement, or ok false for bytes that are neither.
func decodeEntry(h []byte) (a *announcement, e *enablement, ok bool) {
	if len(h) == 0 {
		return nil, nil, false
	}
	r := &reader{b: h[1:]}
	switch h[0] {
	case kindAnnounce:
		a = &announcement{node: r.string(), supported: r.ranges()}
		if !r.done() || a.node == "" {
			return nil, nil, false
		}
		return a, nil, true
	case kindEnable:
		e = &enablement{name: r.string(), version: r.uint32()}
		n := r.count()
		for range n {
			e.members = append(e.members, r.string())
		}
		if !r.done() || e.name == "" {
			return nil, nil, false
		}
		return nil, e, true
	}
	return nil, nil, false
}

// Enabled is one engine's enabled version and the position of the entry
// that enabled it (0 for the base version, enabled from the start).
type Enabled struct {
	Version uint32
	At      platform.Position
}

// table is the enabled versions by engine name; a name absent is at
// BaseVersion.
type table map[string]Enabled

func (t table) encode() []byte {
	b := binary.AppendUvarint(nil, uint64(len(t)))
	for _, name := range sortedNames(t) {
		b = appendString(b, name)
		b = binary.AppendUvarint(b, uint64(t[name].Version))
		b = binary.AppendUvarint(b, t[name].At)
	}
	return b
}

func decodeTable(b []byte) (table, bool) {
	r := &reader{b: b}
	n := r.count()
	t := make(table, n)
	for range n {
		name := r.string()
		t[name] = Enabled{Version: r.uint32(), At: r.uvarint()}
	}
	return t, r.done()
}

// version is name's enabled version.
func (t table) version(name string) uint32 {
	if e, ok := t[name]; ok {
		return e.Version
	}
	return BaseVersion
}

// sortedNames returns m's keys in order: what is encoded or applied
// iterates in a fixed order.
func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
