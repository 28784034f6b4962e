package keyspace

import "bytes"

// Effects collects what applied commands do besides changing the
// keyspace: the messages PUBLISH sends and the keys that may now serve a
// blocked client (BLPOP ...). Apply only records them; the node delivers
// them to its own subscribers and waiters after the transaction commits,
// then calls Reset. An Effects belongs to the apply goroutine.
type Effects struct {
	// Observers, set by the owner, answers what apply may ask of this
	// node; nil: nobody subscribes or waits.
	Observers Observers

	// Published are the messages applied, in log order: PUBLISH's and
	// the keyspace notifications this node wants (see notify.go).
	Published []Message
	// Ready are the keys written that hold a list, a sorted set or a
	// stream, in
	// order, repeats included; noted only while Observers report blocked
	// clients.
	Ready []DBKey
	// ReadyDBs are the databases whose every key may have changed
	// (SWAPDB), noted likewise.
	ReadyDBs []int
	// Invalidated are the keys written and the flushes applied, in
	// order, repeats included, for the node's client-side caches (see
	// tracking.go); noted only while a TrackingObserver reports
	// tracking clients.
	Invalidated []Invalidation
	// Untracked says that a command applied since the last Reset
	// without noting Invalidated (nobody tracked when it began).
	Untracked bool
	// Origin, set by the owner before each Apply, tags what the command
	// notes in Invalidated: the node's own name for the proposer, or 0.
	Origin int64

	// Evicted counts the keys evicted, for INFO's evicted_keys; the
	// owner resets it.
	Evicted int64
	// Eviction is the eviction settings as of the last ExpireCycle.
	Eviction EvictionConfig

	// notify is the classes of keyspace events to record, as the
	// Observers answered for the command applying (0: none).
	notify EventClass
	// tracking: the command applying notes Invalidated.
	tracking bool

	// ks and memo are the keyspace each command applies on, kept here to
	// be reused: one command applies at a time.
	ks   Keyspace
	memo rawMemo
	// acct is the memory accounting of the apply under way.
	acct accounting
}

// Observers is what apply may learn of the node it runs on. Its answers
// may differ between nodes, so they shape only what a command replies to
// its proposer (PUBLISH's count) or whether Effects are noted, never what
// apply writes. Apply calls it from the apply goroutine; it must not
// block.
type Observers interface {
	// Subscribers returns how many of this node's subscribers a message
	// on channel reaches.
	Subscribers(channel []byte) int64
	// Blocked reports whether a client of this node waits on keys.
	Blocked() bool
	// Notifications returns the classes of keyspace events this node
	// delivers (its notify-keyspace-events, see EventClass), or 0 when
	// nobody here subscribes to anything.
	Notifications() EventClass
}

// Message is one message PUBLISH applied. Its slices are its own.
type Message struct{ Channel, Message []byte }

// DBKey names a key of a database.
type DBKey struct {
	DB  int
	Key string
}

// Reset empties the collected effects, keeping Observers and the memory.
func (fx *Effects) Reset() {
	clear(fx.Published)
	clear(fx.Invalidated)
	fx.Published, fx.Ready, fx.ReadyDBs = fx.Published[:0], fx.Ready[:0], fx.ReadyDBs[:0]
	fx.Invalidated, fx.Untracked = fx.Invalidated[:0], false
}

// noteReady records a write of key in db holding a value of type typ.
func (fx *Effects) noteReady(db int, key []byte, typ byte) {
	if fx == nil || (typ != typeList && typ != typeZSet && typ != typeStream) || !fx.blocked() {
		return
	}
	fx.Ready = append(fx.Ready, DBKey{db, string(key)})
}

// noteReadyDB records that every key of db may have changed.
func (fx *Effects) noteReadyDB(db int) {
	if fx == nil || !fx.blocked() {
		return
	}
	fx.ReadyDBs = append(fx.ReadyDBs, db)
}

// observers returns fx's Observers; nil for a nil fx.
func (fx *Effects) observers() Observers {
	if fx == nil {
		return nil
	}
	return fx.Observers
}

func (fx *Effects) blocked() bool { return fx.Observers != nil && fx.Observers.Blocked() }

// PUBLISH goes through the log so that every node applies it; each node
// then delivers it to its own subscribers (see Effects).
func init() {
	register(&Command{Spec: Spec{Name: "publish", Arity: 3, Flags: []string{"pubsub", "loading", "stale", "fast"}}, Kind: KindWrite, exec: execPublish})
}

func execPublish(ks *Keyspace, args [][]byte) (any, error) {
	fx := ks.fx
	if fx == nil {
		return int64(0), nil
	}
	fx.Published = append(fx.Published, Message{bytes.Clone(args[1]), bytes.Clone(args[2])})
	if fx.Observers == nil {
		return int64(0), nil
	}
	// The count is this node's; it changes no state.
	return fx.Observers.Subscribers(args[1]), nil
}
