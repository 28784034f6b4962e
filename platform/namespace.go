package platform

import (
	"fmt"
	"sort"
)

// The LocalStore's namespaces. Every key belongs to exactly one layer:
//
//	sys/                  the BaseEngine's own (applied cursor, digest, durable mark)
//	e/<name>/             an engine below the router that names itself (Named)
//	p/<mount>/            the personality mounted as <mount> on the Router
//	m/<mount>/<name>/     an engine that names itself, stacked on a mount
//
// A layer's Apply gets a transaction confined to its own namespace, keys
// given without the prefix; it cannot read or write another's. An
// applicator that does not name itself is stateless below the router (no
// namespace at all) and the personality itself above a mount.
const (
	engineSpace      = "e/"
	personalitySpace = "p/"
	mountEngineSpace = "m/"
)

// Upcall is a layer's handle on the applicator above it: it calls the
// applicator with the transaction confined to that applicator's
// namespace. Every layer's RegisterUpcall keeps one made by NewUpcall,
// and applies through it, so no layer ever holds another's keys.
type Upcall struct {
	a    Applicator
	name string // the applicator's Name, "" if it has none
	// last is the transaction scope made last, reused while the apply
	// loop's transaction and the mount are the same (they are for every
	// entry: the loop reuses its transaction). Only the apply goroutine
	// touches it.
	last *scopeCache
}

// scopeCache remembers scope's answer for one transaction and mount.
type scopeCache struct {
	root  *applyTxn
	mount string
	txn   Txn
}

// NewUpcall returns the Upcall for a. REQUIRES: a is not nil.
func NewUpcall(a Applicator) Upcall {
	u := Upcall{a: a, last: &scopeCache{}}
	if n, ok := a.(Named); ok {
		checkName(n.Name())
		u.name = n.Name()
	}
	return u
}

// Valid reports whether an applicator is installed.
func (u Upcall) Valid() bool { return u.a != nil }

// scope confines txn to the applicator's namespace.
func (u Upcall) scope(txn Txn) Txn {
	root, mount := txn, ""
	if s, ok := txn.(*scopedTxn); ok {
		root, mount = s.root, s.mount
	}
	r, reusable := root.(*applyTxn)
	if c := u.last; reusable && c != nil && c.root == r && c.mount == mount {
		return c.txn
	}
	scoped := u.newScope(root, mount)
	if reusable && u.last != nil {
		*u.last = scopeCache{root: r, mount: mount, txn: scoped}
	}
	return scoped
}

// newScope is scope's transaction for root on the mount.
func (u Upcall) newScope(root Txn, mount string) Txn {
	var prefix string
	switch {
	case u.name != "" && mount == "":
		prefix = engineSpace + u.name + "/"
	case u.name != "":
		prefix = mountEngineSpace + mount + "/" + u.name + "/"
	case mount != "":
		prefix = personalitySpace + mount + "/"
	default:
		return &scopedTxn{root: root}
	}
	return &scopedTxn{root: root, mount: mount, prefixTxn: prefixTxn{prefixReader{[]byte(prefix), root}, root}}
}

// Apply calls the applicator's Apply with txn confined to its namespace.
func (u Upcall) Apply(txn Txn, e *Entry, at Version) (Result, error) {
	return u.a.Apply(u.scope(txn), e, at)
}

// ApplyEntry calls the applicator's ApplyEntry, if it has one, with txn
// confined to its namespace.
func (u Upcall) ApplyEntry(txn Txn, e *Entry, at Version) error {
	if ea, ok := u.a.(EntryApplicator); ok {
		return ea.ApplyEntry(u.scope(txn), e, at)
	}
	return nil
}

// PostApply calls the applicator's PostApply.
func (u Upcall) PostApply(e *Entry, at Version) { u.a.PostApply(e, at) }

// PostApplyEntry calls the applicator's PostApplyEntry, if it has one.
func (u Upcall) PostApplyEntry(e *Entry, at Version) {
	if ea, ok := u.a.(EntryApplicator); ok {
		ea.PostApplyEntry(e, at)
	}
}

// onMount returns txn as the layers on the mount named mount see it
// before they scope it: the Router calls it for the mount's stack.
func onMount(txn Txn, mount string) *scopedTxn {
	return &scopedTxn{root: rootOf(txn), mount: mount}
}

// rootOf returns the entry's whole transaction that txn is a scope of.
func rootOf(txn Txn) Txn {
	if s, ok := txn.(*scopedTxn); ok {
		return s.root
	}
	return txn
}

// scopedTxn is a layer's transaction: root is the entry's whole
// transaction, which only the platform reaches; mount is the personality
// mount the layer sits on ("" below the router); the layer sees its own
// keys through prefixTxn, or nothing when it has no namespace.
type scopedTxn struct {
	root  Txn
	mount string
	prefixTxn
}

func (s *scopedTxn) Get(key []byte) ([]byte, bool, error) {
	if s.prefix == nil {
		return nil, false, ErrNoNamespace
	}
	return s.prefixTxn.Get(key)
}

func (s *scopedTxn) NewIter(lower, upper []byte) (Iterator, error) {
	if s.prefix == nil {
		return nil, ErrNoNamespace
	}
	return s.prefixTxn.NewIter(lower, upper)
}

func (s *scopedTxn) Set(key, value []byte) error {
	if s.prefix == nil {
		return ErrNoNamespace
	}
	return s.prefixTxn.Set(key, value)
}

func (s *scopedTxn) Delete(key []byte) error {
	if s.prefix == nil {
		return ErrNoNamespace
	}
	return s.prefixTxn.Delete(key)
}

func (s *scopedTxn) DeleteRange(start, end []byte) error {
	if s.prefix == nil {
		return ErrNoNamespace
	}
	return s.prefixTxn.DeleteRange(start, end)
}

// mountPrefix is the namespace of the personality mounted as name.
func mountPrefix(name string) []byte { return []byte(personalitySpace + name + "/") }

// sortedNames returns m's keys in order: apply iterates in a fixed order.
func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// checkName panics on a namespace name that could reach into another's.
func checkName(name string) {
	for i := 0; i < len(name); i++ {
		if name[i] == '/' {
			panic(fmt.Sprintf("platform: namespace name %q contains '/'", name))
		}
	}
	if name == "" {
		panic("platform: empty namespace name")
	}
}
