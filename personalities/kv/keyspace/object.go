package keyspace

import "hourglass/personalities/kv/rdb"

// OBJECT ENCODING, REFCOUNT, IDLETIME, FREQ and HELP, as redis-server
// 7.0 answers them with the encoding thresholds of a NodeConfig (the
// node's CONFIG, or Redis's defaults).
//
// The encoding is decided by the value's content and size, as Redis
// decides it for a value built at once (SET, RESTORE, the STORE
// commands): Redis never converts a collection back to its compact
// encoding when it shrinks, nor a string APPEND or SETRANGE made "raw"
// back to "embstr", and those histories are not kept here. Lists are
// "quicklist", as in Redis 7.0. IDLETIME and FREQ answer from the key's
// replicated access information (see access.go), under the replicated
// maxmemory-policy.

func init() {
	register(&Command{Spec: Spec{Name: "object", Arity: -2, FirstKey: 2, LastKey: 2, Step: 1, Flags: []string{"readonly"}}, Kind: KindRead, check: checkObject, exec: execObject})
}

// NodeConfig holds the CONFIG parameters of the node a read runs on that
// OBJECT and LCS answer by.
type NodeConfig struct {
	HashMaxListpackEntries, HashMaxListpackValue int64
	SetMaxIntsetEntries                          int64
	ZSetMaxListpackEntries, ZSetMaxListpackValue int64
	// ProtoMaxBulkLen bounds LCS's table, in bytes.
	ProtoMaxBulkLen int64
}

// DefaultNodeConfig is redis-server 7.0's default configuration.
var DefaultNodeConfig = NodeConfig{
	HashMaxListpackEntries: 512, HashMaxListpackValue: 64,
	SetMaxIntsetEntries:    512,
	ZSetMaxListpackEntries: 128, ZSetMaxListpackValue: 64,
	ProtoMaxBulkLen: 512 << 20,
}

// WithNodeConfig returns the keyspace with OBJECT and LCS answering by
// cfg (for reads; nil: DefaultNodeConfig).
func (ks *Keyspace) WithNodeConfig(cfg *NodeConfig) *Keyspace {
	c := *ks
	c.node = cfg
	return &c
}

// nodeConfig returns the keyspace's NodeConfig.
func (ks *Keyspace) nodeConfig() *NodeConfig {
	if ks.node == nil {
		return &DefaultNodeConfig
	}
	return ks.node
}

const (
	// sharedIntegers are the integers Redis shares (0..9999): their
	// REFCOUNT is OBJ_SHARED_REFCOUNT.
	sharedIntegers = 10000
	sharedRefcount = 2147483647
	// embstrLimit is OBJ_ENCODING_EMBSTR_SIZE_LIMIT.
	embstrLimit = 44
	// lfuInitVal is LFU_INIT_VAL, a new key's access counter.
	lfuInitVal = 5
)

var objectHelp = []any{
	SimpleString("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"),
	SimpleString("ENCODING <key>"),
	SimpleString("    Return the kind of internal representation used in order to store the value"),
	SimpleString("    associated with a <key>."),
	SimpleString("FREQ <key>"),
	SimpleString("    Return the access frequency index of the <key>. The returned integer is"),
	SimpleString("    proportional to the logarithm of the recent access frequency of the key."),
	SimpleString("IDLETIME <key>"),
	SimpleString("    Return the idle time of the <key>, that is the approximated number of"),
	SimpleString("    seconds elapsed since the last access to the key."),
	SimpleString("REFCOUNT <key>"),
	SimpleString("    Return the number of references of the value associated with the specified"),
	SimpleString("    <key>."),
	SimpleString("HELP"),
	SimpleString("    Prints this help."),
}

func checkObject(args [][]byte) error {
	sub := args[1]
	switch {
	case len(args) == 2 && EqFold(sub, "help"):
		return nil
	case len(args) == 3 && (EqFold(sub, "encoding") || EqFold(sub, "refcount") || EqFold(sub, "idletime") || EqFold(sub, "freq")):
		return nil
	}
	return ErrSubcommand("OBJECT", args, "encoding", "refcount", "idletime", "freq", "help")
}

func execObject(ks *Keyspace, args [][]byte) (any, error) {
	if err := checkObject(args); err != nil {
		return nil, err
	}
	if len(args) == 2 {
		return objectHelp, nil
	}
	env := ks.nodeConfig()
	rec, ok, err := ks.lookup(args[2])
	if err != nil || !ok {
		return nil, err
	}
	switch sub := args[1]; {
	case EqFold(sub, "encoding"):
		enc, err := ks.encoding(rec, env)
		return []byte(enc), err
	case EqFold(sub, "refcount"):
		return refcount(rec), nil
	}
	cfg, err := ks.evictionConfig()
	if err != nil {
		return nil, err
	}
	if EqFold(args[1], "idletime") {
		if cfg.LFU() {
			return nil, Error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
		}
		return ks.idleMillis(rec) / 1000, nil
	}
	if !cfg.LFU() {
		return nil, Error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
	}
	return int64(ks.lfuCounter(rec, cfg)), nil
}

// refcount is OBJECT REFCOUNT's answer: Redis shares small integers.
func refcount(rec record) int64 {
	if v, ok := ParseInt(rec.payload); rec.typ == typeString && ok && v >= 0 && v < sharedIntegers {
		return sharedRefcount
	}
	return 1
}

// ObjectInfo is what DEBUG OBJECT reports of a value.
type ObjectInfo struct {
	Refcount int64
	// Encoding is OBJECT ENCODING's answer.
	Encoding string
	// SerializedLength is the length of the value's RDB serialization
	// (DUMP's payload without its type byte, version and checksum).
	SerializedLength int
}

// DebugObject returns what DEBUG OBJECT reports of key's value; ok is
// false if there is no such key.
func (ks *Keyspace) DebugObject(key []byte) (info ObjectInfo, ok bool, err error) {
	rec, ok, err := ks.lookup(key)
	if err != nil || !ok {
		return info, false, err
	}
	if info.Encoding, err = ks.encoding(rec, ks.nodeConfig()); err != nil {
		return info, false, err
	}
	v, err := ks.value(rec)
	if err != nil {
		return info, false, err
	}
	info.Refcount = refcount(rec)
	info.SerializedLength = len(rdb.Dump(v)) - 1 - 2 - 8
	return info, true, nil
}

// encoding returns the name of the encoding redis-server 7.0 would give
// the value of rec, built at once, under env.
func (ks *Keyspace) encoding(rec record, env *NodeConfig) (string, error) {
	switch rec.typ {
	case typeString:
		if _, ok := ParseInt(rec.payload); ok {
			return "int", nil
		}
		if len(rec.payload) <= embstrLimit {
			return "embstr", nil
		}
		return "raw", nil
	case typeList:
		return "quicklist", nil
	case typeSet:
		ok, err := ks.allElems(rec, env.SetMaxIntsetEntries, func(m, _ []byte) bool {
			_, isInt := ParseInt(m)
			return isInt
		})
		return pick(ok, "intset", "hashtable"), err
	case typeHash:
		ok, err := ks.allElems(rec, env.HashMaxListpackEntries, func(f, v []byte) bool {
			return int64(len(f)) <= env.HashMaxListpackValue && int64(len(v)) <= env.HashMaxListpackValue
		})
		return pick(ok, "listpack", "hashtable"), err
	case typeZSet:
		ok, err := ks.allElems(rec, env.ZSetMaxListpackEntries, func(sub, _ []byte) bool {
			return int64(len(sub)) <= 1+env.ZSetMaxListpackValue
		}, zmemberSub(nil)...)
		return pick(ok, "listpack", "skiplist"), err
	}
	return "", errCorrupt
}

// allElems reports whether the collection rec has at most max elements
// (sub-keys under prefix) and f holds for each; it reads at most max.
func (ks *Keyspace) allElems(rec record, max int64, f func(sub, v []byte) bool, prefix ...byte) (bool, error) {
	if rec.count > max {
		return false, nil
	}
	all := true
	err := ks.scanElems(rec.gen, prefix, nil, func(sub, v []byte) bool {
		all = f(sub, v)
		return all
	})
	return all, err
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}
