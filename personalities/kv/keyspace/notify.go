package keyspace

import (
	"bytes"
	"strconv"
)

// Keyspace notifications: a command that changes a key calls
//
//	ks.notify(EventList, "lpush", key)
//
// after the change, as Redis's notifyKeyspaceEvent(NOTIFY_LIST, "lpush",
// key, dbid); the event becomes the messages Redis would publish, on
// __keyspace@<db>__:<key> (the event's name) and __keyevent@<db>__:<event>
// (the key), appended to Effects.Published in apply order among PUBLISH's
// messages. Apply runs on every node; each node's Observers say which
// classes its own setting of notify-keyspace-events enables and whether
// anybody there subscribes, so every node delivers its own subscribers
// the events its setting asks for. With notifications off, notify is one
// comparison.

// EventClass is a set of notification classes, one bit per letter of
// notify-keyspace-events.
type EventClass uint16

// The classes, in Redis's letters.
const (
	EventKeyspace EventClass = 1 << iota // K: __keyspace@<db>__:<key> messages
	EventKeyevent                        // E: __keyevent@<db>__:<event> messages
	EventGeneric                         // g: DEL, EXPIRE, RENAME, COPY, MOVE ...
	EventString                          // $: string commands
	EventList                            // l: list commands
	EventSet                             // s: set commands
	EventHash                            // h: hash commands
	EventZSet                            // z: sorted-set commands
	EventExpired                         // x: a key expired
	EventEvicted                         // e: a key evicted (maxmemory)
	EventStream                          // t: stream commands
	EventKeyMiss                         // m: a read missed a key
	EventModule                          // d: module key types
	EventNew                             // n: a key was created

	// EventAll is "A": every class but m and n.
	EventAll = EventGeneric | EventString | EventList | EventSet | EventHash |
		EventZSet | EventExpired | EventEvicted | EventStream | EventModule
)

// classLetters are the letters of the classes, in the order Redis's
// keyspaceEventsFlagsToString writes them.
var classLetters = []struct {
	c      EventClass
	letter byte
}{
	{EventGeneric, 'g'}, {EventString, '$'}, {EventList, 'l'}, {EventSet, 's'},
	{EventHash, 'h'}, {EventZSet, 'z'}, {EventExpired, 'x'}, {EventEvicted, 'e'},
	{EventStream, 't'}, {EventModule, 'd'}, {EventNew, 'n'},
}

// ParseEventClasses reads a notify-keyspace-events value as Redis's
// keyspaceEventsStringToFlags does; ok is false if a character is not a
// class letter.
func ParseEventClasses(s string) (c EventClass, ok bool) {
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; ch {
		case 'A':
			c |= EventAll
		case 'K':
			c |= EventKeyspace
		case 'E':
			c |= EventKeyevent
		case 'm':
			c |= EventKeyMiss
		default:
			found := false
			for _, l := range classLetters {
				if l.letter == ch {
					c, found = c|l.c, true
				}
			}
			if !found {
				return 0, false
			}
		}
	}
	return c, true
}

// String returns the classes as CONFIG GET reports them: "A" for all of
// EventAll (n is then not written, as in Redis 7.0), else each letter,
// then K, E and m.
func (c EventClass) String() string {
	var b []byte
	if c&EventAll == EventAll {
		b = append(b, 'A')
	} else {
		for _, l := range classLetters {
			if c&l.c != 0 {
				b = append(b, l.letter)
			}
		}
	}
	if c&EventKeyspace != 0 {
		b = append(b, 'K')
	}
	if c&EventKeyevent != 0 {
		b = append(b, 'E')
	}
	if c&EventKeyMiss != 0 {
		b = append(b, 'm')
	}
	return string(b)
}

// Deliverable returns the classes of c that produce messages: none
// unless K or E is set.
func (c EventClass) Deliverable() EventClass {
	if c&(EventKeyspace|EventKeyevent) == 0 {
		return 0
	}
	return c
}

// notify records event of class on key in the keyspace's database, if
// this node wants it (see Observers.Notifications). key is copied.
func (ks *Keyspace) notify(class EventClass, event string, key []byte) {
	if fx := ks.fx; fx != nil && fx.notify&class != 0 {
		fx.notifyEvent(ks.db, event, key)
	}
}

// notifyEmptied is notify followed by a "del" event if the command left
// the collection at key empty (and so deleted it), as Redis's commands
// do.
func (ks *Keyspace) notifyEmptied(class EventClass, event string, key []byte, emptied bool) {
	ks.notify(class, event, key)
	if emptied {
		ks.notify(EventGeneric, "del", key)
	}
}

// missed records a "keymiss" event for key at apply: for the writes
// that look a key up as Redis's lookupKeyRead does (GETDEL, COPY's
// source, the sources of SINTERSTORE ...), which Redis notifies when it
// is missing. On a view, lookup has noted it already.
func (ks *Keyspace) missed(key []byte) {
	if ks.w != nil && !ks.reading {
		ks.notify(EventKeyMiss, "keymiss", key)
	}
}

// missedAgain records a second "keymiss" event for key, which a read
// looked up and did not find, where Redis looks it up twice (XREAD: once
// to parse its ID, once to serve it).
func (ks *Keyspace) missedAgain(key []byte) {
	if ks.w == nil || ks.reading {
		ks.notify(EventKeyMiss, "keymiss", key)
	}
}

func (fx *Effects) notifyEvent(db int, event string, key []byte) {
	if fx.notify&EventKeyspace != 0 {
		ch := append(append([]byte("__keyspace@"), strconv.Itoa(db)...), "__:"...)
		fx.Published = append(fx.Published, Message{append(ch, key...), []byte(event)})
	}
	if fx.notify&EventKeyevent != 0 {
		ch := append(append([]byte("__keyevent@"), strconv.Itoa(db)...), "__:"...)
		fx.Published = append(fx.Published, Message{append(ch, event...), bytes.Clone(key)})
	}
}

// NotifyMisses makes the reads on the view ks record in fx a "keymiss"
// event for every key they look up and do not find, as Redis's
// lookupKeyRead does, if classes (this node's notify-keyspace-events)
// ask for them. The caller delivers fx.Published after the read; fx
// needs no Observers. It returns ks.
func (ks *Keyspace) NotifyMisses(fx *Effects, classes EventClass) *Keyspace {
	if classes.Deliverable()&EventKeyMiss != 0 {
		fx.notify = classes & (EventKeyMiss | EventKeyspace | EventKeyevent)
		ks.fx = fx
	}
	return ks
}
