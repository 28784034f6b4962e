package rdb

import (
	"encoding/binary"
	"errors"
)

// Kind is the type of a Value.
type Kind byte

// The kinds of values Dump writes and Load reads.
const (
	KindString Kind = iota + 1
	KindList
	KindSet
	KindHash
	KindZSet
)

// Value is one key's value. Str holds a string; Items a list's items in
// order, a set's members, a hash's fields and values alternately
// (field, value, field, value, ...) or a sorted set's members, with
// Scores holding the members' scores. A Value Load returns may alias its
// payload.
type Value struct {
	Kind   Kind
	Str    []byte
	Items  [][]byte
	Scores []float64
}

// Errors.
var (
	// ErrChecksum is a payload whose RDB version is newer than 10 or
	// whose CRC64 is wrong (or that is shorter than its footer).
	ErrChecksum = errors.New("rdb: payload version or checksum are wrong")
	// ErrBadFormat is a payload that does not hold a value Load reads.
	ErrBadFormat = errors.New("rdb: bad data format")
)

// Version is the RDB version Dump writes: redis-server 7.0's.
const Version = 10

// RDB object types.
const (
	typeString          = 0
	typeList            = 1
	typeSet             = 2
	typeZSet            = 3
	typeHash            = 4
	typeZSet2           = 5
	typeListZiplist     = 10
	typeSetIntset       = 11
	typeZSetZiplist     = 12
	typeHashZiplist     = 13
	typeListQuicklist   = 14
	typeHashListpack    = 16
	typeZSetListpack    = 17
	typeListQuicklist2  = 18
	quicklistNodePlain  = 1
	quicklistNodePacked = 2
)

// Verify checks a payload's footer: its RDB version (at most Version)
// and its CRC64.
func Verify(p []byte) error {
	if len(p) < 10 {
		return ErrChecksum
	}
	footer := p[len(p)-10:]
	if binary.LittleEndian.Uint16(footer) > Version {
		return ErrChecksum
	}
	if CRC64(0, p[:len(p)-8]) != binary.LittleEndian.Uint64(footer[2:]) {
		return ErrChecksum
	}
	return nil
}
