package cmdtable

import (
	"fmt"

	"hourglass/personalities/kv/keyspace"
)

// KeyFlags are a key spec's flags (Redis's CMD_KEY_*).
type KeyFlags uint16

// The key flags, in the order Redis lists them.
const (
	KeyRO KeyFlags = 1 << iota
	KeyRW
	KeyOW
	KeyRM
	KeyAccess
	KeyUpdate
	KeyInsert
	KeyDelete
	KeyNotKey
	KeyIncomplete
	KeyVariableFlags
)

var keyFlagNames = []string{"RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key", "incomplete", "variable_flags"}

// Reply returns the flags as COMMAND GETKEYSANDFLAGS lists them.
func (f KeyFlags) Reply() keyspace.Set {
	out := keyspace.Set{}
	for j, n := range keyFlagNames {
		if f&(1<<j) != 0 {
			out = append(out, keyspace.SimpleString(n))
		}
	}
	return out
}

// Reads reports whether a key with these flags is read (ACL's read
// permission), Writes whether it is written.
func (f KeyFlags) Reads() bool  { return f&KeyAccess != 0 }
func (f KeyFlags) Writes() bool { return f&(KeyInsert|KeyDelete|KeyUpdate) != 0 }

// KeySpec is one of a command's key specs: where the search for its keys
// begins (an index, or after a keyword) and how the keys are found from
// there (a range, or a count argument).
type KeySpec struct {
	Flags KeyFlags
	// Begin is "index", "keyword" or "unknown".
	Begin string
	// Index: the argument the keys begin at.
	Index int
	// Keyword, searched from StartFrom (from the end when negative).
	Keyword   string
	StartFrom int
	// Find is "range", "keynum" or "unknown".
	Find string
	// Range: the last key relative to the first (from the end when
	// negative), the step, and Limit (with LastKey -1: 1/Limit of the
	// remaining arguments are keys).
	LastKey, KeyStep, Limit int
	// Keynum: the count's argument relative to the beginning, and the
	// first key relative to it.
	KeyNumIdx, FirstKeyAt int
}

func parseKeySpec(v any) (KeySpec, error) {
	var ks KeySpec
	for _, f := range statuses(field(v, "flags")) {
		found := false
		for j, n := range keyFlagNames {
			if n == f {
				ks.Flags |= 1 << j
				found = true
			}
		}
		if !found {
			return ks, fmt.Errorf("key spec flag %q", f)
		}
	}
	bs, fk := field(v, "begin_search"), field(v, "find_keys")
	ks.Begin, _ = field(bs, "type").(string)
	ks.Find, _ = field(fk, "type").(string)
	bspec, fspec := field(bs, "spec"), field(fk, "spec")
	ks.Index = num(field(bspec, "index"))
	ks.Keyword, _ = field(bspec, "keyword").(string)
	ks.StartFrom = num(field(bspec, "startfrom"))
	ks.LastKey, ks.Limit = num(field(fspec, "lastkey")), num(field(fspec, "limit"))
	ks.KeyStep = num(field(fspec, "keystep"))
	ks.KeyNumIdx, ks.FirstKeyAt = num(field(fspec, "keynumidx")), num(field(fspec, "firstkey"))
	return ks, nil
}

// Key is a key argument of a command line: its index and its flags.
type Key struct {
	Pos   int
	Flags KeyFlags
}

// HasKeys reports whether the command can take keys at all, as Redis's
// doesCommandHaveKeys does: a key spec that is not not_key, or a getkeys
// function of its own.
func (i *Info) HasKeys() bool {
	if getKeysProcs[i.Name] != nil || i.HasFlag("movablekeys") {
		return true
	}
	for _, s := range i.KeySpecs {
		if s.Flags&KeyNotKey == 0 {
			return true
		}
	}
	return false
}

// Keys returns the keys of args, a command line of the command (args[0]
// its name; a subcommand's args start at its container's name) that
// satisfies the arity, as Redis's getKeysFromCommandWithSpecs finds them:
// from the key specs, or, when they cannot tell (an unknown or incomplete
// spec, variable flags), by the command's own parsing. ok is false when
// the arguments are not what the specs describe (a count out of range);
// Redis then answers GETKEYS with an error.
func (i *Info) Keys(args [][]byte) (keys []Key, ok bool) {
	varFlags := false
	for _, s := range i.KeySpecs {
		varFlags = varFlags || s.Flags&KeyVariableFlags != 0
	}
	if !varFlags {
		if keys, ok := i.keysFromSpecs(args); ok {
			return keys, true
		}
	}
	if proc := getKeysProcs[i.Name]; proc != nil {
		keys := proc(args)
		return keys, len(keys) > 0
	}
	return nil, false
}

// keysFromSpecs is Redis's getKeysUsingKeySpecs: the keys every spec
// (but not_key ones) finds, or false when a spec cannot find them.
func (i *Info) keysFromSpecs(args [][]byte) ([]Key, bool) {
	var keys []Key
	argc := len(args)
	for _, s := range i.KeySpecs {
		if s.Flags&KeyNotKey != 0 {
			continue
		}
		first := 0
		switch s.Begin {
		case "index":
			first = s.Index
		case "keyword":
			start, end := s.StartFrom, argc-1
			if s.StartFrom <= 0 {
				start, end = argc+s.StartFrom, 1
			}
			step := 1
			if start > end {
				step = -1
			}
			for j := start; j != end && j >= 1 && j < argc; j += step {
				if keyspace.EqFold(args[j], lower(s.Keyword)) {
					first = j + 1
					break
				}
			}
			if first == 0 {
				continue
			}
		default:
			return nil, false
		}
		var last, step int
		switch s.Find {
		case "range":
			step = s.KeyStep
			switch {
			case s.LastKey >= 0:
				last = first + s.LastKey
			case s.Limit == 0:
				last = argc + s.LastKey
			default:
				last = first + ((argc-first)/s.Limit + s.LastKey)
			}
		case "keynum":
			step = s.KeyStep
			at := first + s.KeyNumIdx
			if at >= argc {
				return nil, false
			}
			n, ok := keyspace.ParseInt(args[at])
			if !ok || n < 0 || n > int64(argc) {
				return nil, false
			}
			first += s.FirstKeyAt
			last = first + int(n) - 1
		default:
			return nil, false
		}
		if last >= argc || last < first || first >= argc {
			return nil, false
		}
		for j := first; j <= last; j += max(step, 1) {
			keys = append(keys, Key{Pos: j, Flags: s.Flags})
		}
		if s.Flags&KeyIncomplete != 0 {
			return nil, false
		}
	}
	return keys, true
}

func lower(s string) string {
	b := []byte(s)
	for j, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[j] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// getKeysProcs are the commands whose keys Redis finds by parsing their
// arguments when the key specs cannot tell (sort.c, t_string.c,
// bitops.c's getkeys functions).
var getKeysProcs = map[string]func(args [][]byte) []Key{
	"sort":     sortKeys,
	"sort_ro":  func([][]byte) []Key { return []Key{{1, KeyRO | KeyAccess}} },
	"set":      setKeys,
	"bitfield": bitfieldKeys,
}

// sortKeys is Redis's sortGetKeys: the key, and the last STORE's target.
func sortKeys(args [][]byte) []Key {
	keys := []Key{{1, KeyRO | KeyAccess}}
	store := 0
	for j := 2; j < len(args); j++ {
		switch {
		case keyspace.EqFold(args[j], "limit"):
			j += 2
		case keyspace.EqFold(args[j], "get"), keyspace.EqFold(args[j], "by"):
			j++
		case keyspace.EqFold(args[j], "store") && j+1 < len(args):
			store = j + 1
		}
	}
	if store > 0 {
		keys = append(keys, Key{store, KeyOW | KeyUpdate})
	}
	return keys
}

// setKeys is Redis's setGetKeys: SET reads its key only with GET.
func setKeys(args [][]byte) []Key {
	for j := 3; j < len(args); j++ {
		if keyspace.EqFold(args[j], "get") {
			return []Key{{1, KeyRW | KeyAccess | KeyUpdate}}
		}
	}
	return []Key{{1, KeyOW | KeyUpdate}}
}

// bitfieldKeys is Redis's bitfieldGetKeys: BITFIELD with GETs only reads.
func bitfieldKeys(args [][]byte) []Key {
	for j := 2; j < len(args); j++ {
		more := len(args) - j - 1
		switch {
		case keyspace.EqFold(args[j], "get") && more >= 2:
			j += 2
		case keyspace.EqFold(args[j], "overflow") && more >= 1:
			j++
		default:
			return []Key{{1, KeyRW | KeyAccess | KeyUpdate}}
		}
	}
	return []Key{{1, KeyRO | KeyAccess}}
}
