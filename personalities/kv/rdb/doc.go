// Package rdb reads and writes Redis's DUMP payloads: one value in the
// RDB object encoding of Redis 7.0, followed by the RDB version (2
// bytes, little endian) and the CRC64 (Jones polynomial, reflected, no
// inversion; little endian) of everything before it. A payload redis-
// server 7.0 DUMPs, Load reads; a payload Dump writes, redis-server 7.0
// RESTOREs. FUNCTION DUMP's payloads have the same footer around
// libraries' codes (DumpFunctions, LoadFunctions).
//
// # Types
//
// Load accepts strings (raw, integer-encoded and LZF-compressed), lists
// (RDB_TYPE_LIST, RDB_TYPE_LIST_QUICKLIST_2 with packed and plain
// nodes), sets (RDB_TYPE_SET, RDB_TYPE_SET_INTSET), hashes
// (RDB_TYPE_HASH, RDB_TYPE_HASH_LISTPACK) and sorted sets
// (RDB_TYPE_ZSET, RDB_TYPE_ZSET_2, RDB_TYPE_ZSET_LISTPACK): every
// encoding a redis-server 7.0 DUMP emits for them, and the ziplist
// encodings of older servers (RDB_TYPE_LIST_ZIPLIST, _LIST_QUICKLIST,
// _HASH_ZIPLIST, _ZSET_ZIPLIST), which redis-server 7.0 still loads. The
// zipmap encoding, streams and module values are ErrBadFormat. (Sets
// have no listpack encoding in Redis 7.0: RDB_TYPE_SET_LISTPACK comes
// with Redis 7.2 and RDB version 11, whose payloads 7.0 refuses.)
//
// Dump chooses the encoding redis-server 7.0 would for a value of that
// content with the default configuration: an integer encoding for short
// integer strings and LZF for compressible strings over 20 bytes; lists
// as quicklists of listpacks of at most 8 KiB; an intset for a set of at
// most 512 integers; a listpack for a hash of at most 512 fields and a
// sorted set of at most 128 members whose strings are at most 64 bytes;
// the plain encodings otherwise.
//
// # Limits
//
// Load checks every length against the bytes left before it allocates,
// and an LZF string's declared length against the most that many
// compressed bytes can expand to (88 times), so a payload cannot make it
// allocate more than a small multiple of its own size and of the value
// it really holds. Any inconsistency (a length past the end, a bad
// listpack or intset, duplicate members, an empty collection, a NaN
// score) is ErrBadFormat; Load never panics.
//
// # Usage
//
//	p := rdb.Dump(&rdb.Value{Kind: rdb.KindList, Items: items})
//	if err := rdb.Verify(p); err != nil { ... } // ErrChecksum
//	v, err := rdb.Load(p)                        // ErrBadFormat
package rdb
