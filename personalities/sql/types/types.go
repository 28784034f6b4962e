// Package types is the SQL type system of the Postgres personality: type
// OIDs and modifiers as Postgres 15 numbers them, the Go representation of
// each type's values (datums), their text and binary wire formats, ordering,
// casts, and two storage encodings: an order-preserving key encoding (index
// and primary keys) and a compact row encoding.
//
// A datum is a Go value; SQL NULL is nil. Each type has one representation:
//
//	bool                          bool
//	int2, int4, int8, oid, reg*   int64
//	float4, float8                float64
//	numeric                       *apd.Decimal (NaN and ±Infinity included)
//	text, varchar, bpchar, name,  string
//	"char", unknown
//	bytea                         []byte
//	date                          Date (days since 2000-01-01; ±infinity)
//	time                          TimeOfDay (microseconds since midnight)
//	timestamp, timestamptz        Timestamp (microseconds since 2000-01-01 UTC; ±infinity)
//	interval                      Interval (months, days, microseconds)
//	uuid                          UUID
//	json                          JSON (the text as given)
//	jsonb                         JSONB (the canonical text Postgres prints)
//	arrays                        *Array
//	record                        Record
//
// Everything here is deterministic: no clock, no locale, no randomness. The
// session settings a conversion depends on (TimeZone, DateStyle,
// IntervalStyle) are passed in explicitly.
package types

import "fmt"

// Oid is a Postgres object identifier.
type Oid uint32

// The built-in types, by their Postgres 15 OIDs.
const (
	OidBool         Oid = 16
	OidBytea        Oid = 17
	OidChar         Oid = 18 // "char": one byte
	OidName         Oid = 19
	OidInt8         Oid = 20
	OidInt2         Oid = 21
	OidInt2Vector   Oid = 22
	OidInt4         Oid = 23
	OidRegproc      Oid = 24
	OidText         Oid = 25
	OidOid          Oid = 26
	OidOidVector    Oid = 30
	OidJSON         Oid = 114
	OidXML          Oid = 142
	OidPgNodeTree   Oid = 194
	OidFloat4       Oid = 700
	OidFloat8       Oid = 701
	OidUnknown      Oid = 705
	OidBpchar       Oid = 1042
	OidVarchar      Oid = 1043
	OidDate         Oid = 1082
	OidTime         Oid = 1083
	OidTimestamp    Oid = 1114
	OidTimestamptz  Oid = 1184
	OidInterval     Oid = 1186
	OidTimetz       Oid = 1266
	OidNumeric      Oid = 1700
	OidRegprocedure Oid = 2202
	OidRegoper      Oid = 2203
	OidRegclass     Oid = 2205
	OidRegtype      Oid = 2206
	OidRecord       Oid = 2249
	OidCstring      Oid = 2275
	OidAny          Oid = 2276
	OidAnyArray     Oid = 2277
	OidVoid         Oid = 2278
	OidTrigger      Oid = 2279
	OidAnyElement   Oid = 2283
	OidUUID         Oid = 2950
	OidJsonb        Oid = 3802
	OidRegnamespace Oid = 4089
	OidRegrole      Oid = 4096
	OidPgLsn        Oid = 3220
	OidAclitem      Oid = 1033
	OidXid          Oid = 28
	OidTid          Oid = 27
	OidCid          Oid = 29
)

// Info describes one built-in type as pg_type does.
type Info struct {
	Oid       Oid
	Name      string // typname
	Len       int16  // typlen: -1 variable, -2 C string
	ByVal     bool
	Category  byte // typcategory: B boolean, N numeric, S string, D date/time, T timespan, U user, A array, ...
	Preferred bool
	Elem      Oid    // for an array type: its element type
	Array     Oid    // the array type of this type (0 if none)
	Input     string // typinput, typoutput, typreceive, typsend function names
	Output    string
	Receive   string
	Send      string
	Align     byte // typalign: c, s, i, d
	Storage   byte // typstorage: p, x, e, m
	Delim     byte
}

// builtin lists the built-in types; arrays are added by init.
var builtin = []Info{
	{Oid: OidBool, Name: "bool", Len: 1, ByVal: true, Category: 'B', Preferred: true, Array: 1000, Input: "boolin", Output: "boolout", Receive: "boolrecv", Send: "boolsend", Align: 'c', Storage: 'p'},
	{Oid: OidBytea, Name: "bytea", Len: -1, Category: 'U', Array: 1001, Input: "byteain", Output: "byteaout", Receive: "bytearecv", Send: "byteasend", Align: 'i', Storage: 'x'},
	{Oid: OidChar, Name: "char", Len: 1, ByVal: true, Category: 'Z', Array: 1002, Input: "charin", Output: "charout", Receive: "charrecv", Send: "charsend", Align: 'c', Storage: 'p'},
	{Oid: OidName, Name: "name", Len: 64, Category: 'S', Elem: OidChar, Array: 1003, Input: "namein", Output: "nameout", Receive: "namerecv", Send: "namesend", Align: 'c', Storage: 'p'},
	{Oid: OidInt8, Name: "int8", Len: 8, ByVal: true, Category: 'N', Array: 1016, Input: "int8in", Output: "int8out", Receive: "int8recv", Send: "int8send", Align: 'd', Storage: 'p'},
	{Oid: OidInt2, Name: "int2", Len: 2, ByVal: true, Category: 'N', Array: 1005, Input: "int2in", Output: "int2out", Receive: "int2recv", Send: "int2send", Align: 's', Storage: 'p'},
	{Oid: OidInt2Vector, Name: "int2vector", Len: -1, Category: 'A', Elem: OidInt2, Array: 1006, Input: "int2vectorin", Output: "int2vectorout", Receive: "int2vectorrecv", Send: "int2vectorsend", Align: 'i', Storage: 'p'},
	{Oid: OidInt4, Name: "int4", Len: 4, ByVal: true, Category: 'N', Array: 1007, Input: "int4in", Output: "int4out", Receive: "int4recv", Send: "int4send", Align: 'i', Storage: 'p'},
	{Oid: OidRegproc, Name: "regproc", Len: 4, ByVal: true, Category: 'N', Array: 1008, Input: "regprocin", Output: "regprocout", Receive: "regprocrecv", Send: "regprocsend", Align: 'i', Storage: 'p'},
	{Oid: OidText, Name: "text", Len: -1, Category: 'S', Preferred: true, Array: 1009, Input: "textin", Output: "textout", Receive: "textrecv", Send: "textsend", Align: 'i', Storage: 'x'},
	{Oid: OidOid, Name: "oid", Len: 4, ByVal: true, Category: 'N', Preferred: true, Array: 1028, Input: "oidin", Output: "oidout", Receive: "oidrecv", Send: "oidsend", Align: 'i', Storage: 'p'},
	{Oid: OidTid, Name: "tid", Len: 6, Category: 'U', Array: 1010, Input: "tidin", Output: "tidout", Receive: "tidrecv", Send: "tidsend", Align: 's', Storage: 'p'},
	{Oid: OidXid, Name: "xid", Len: 4, ByVal: true, Category: 'U', Array: 1011, Input: "xidin", Output: "xidout", Receive: "xidrecv", Send: "xidsend", Align: 'i', Storage: 'p'},
	{Oid: OidCid, Name: "cid", Len: 4, ByVal: true, Category: 'U', Array: 1012, Input: "cidin", Output: "cidout", Receive: "cidrecv", Send: "cidsend", Align: 'i', Storage: 'p'},
	{Oid: OidOidVector, Name: "oidvector", Len: -1, Category: 'A', Elem: OidOid, Array: 1013, Input: "oidvectorin", Output: "oidvectorout", Receive: "oidvectorrecv", Send: "oidvectorsend", Align: 'i', Storage: 'p'},
	{Oid: OidJSON, Name: "json", Len: -1, Category: 'U', Array: 199, Input: "json_in", Output: "json_out", Receive: "json_recv", Send: "json_send", Align: 'i', Storage: 'x'},
	{Oid: OidXML, Name: "xml", Len: -1, Category: 'U', Array: 143, Input: "xml_in", Output: "xml_out", Receive: "xml_recv", Send: "xml_send", Align: 'i', Storage: 'x'},
	{Oid: OidPgNodeTree, Name: "pg_node_tree", Len: -1, Category: 'Z', Input: "pg_node_tree_in", Output: "pg_node_tree_out", Receive: "pg_node_tree_recv", Send: "pg_node_tree_send", Align: 'i', Storage: 'x'},
	{Oid: OidFloat4, Name: "float4", Len: 4, ByVal: true, Category: 'N', Array: 1021, Input: "float4in", Output: "float4out", Receive: "float4recv", Send: "float4send", Align: 'i', Storage: 'p'},
	{Oid: OidFloat8, Name: "float8", Len: 8, ByVal: true, Category: 'N', Preferred: true, Array: 1022, Input: "float8in", Output: "float8out", Receive: "float8recv", Send: "float8send", Align: 'd', Storage: 'p'},
	{Oid: OidUnknown, Name: "unknown", Len: -2, Category: 'X', Input: "unknownin", Output: "unknownout", Receive: "unknownrecv", Send: "unknownsend", Align: 'c', Storage: 'p'},
	{Oid: OidAclitem, Name: "aclitem", Len: 12, Category: 'U', Array: 1034, Input: "aclitemin", Output: "aclitemout", Align: 'i', Storage: 'p'},
	{Oid: OidBpchar, Name: "bpchar", Len: -1, Category: 'S', Array: 1014, Input: "bpcharin", Output: "bpcharout", Receive: "bpcharrecv", Send: "bpcharsend", Align: 'i', Storage: 'x'},
	{Oid: OidVarchar, Name: "varchar", Len: -1, Category: 'S', Array: 1015, Input: "varcharin", Output: "varcharout", Receive: "varcharrecv", Send: "varcharsend", Align: 'i', Storage: 'x'},
	{Oid: OidDate, Name: "date", Len: 4, ByVal: true, Category: 'D', Array: 1182, Input: "date_in", Output: "date_out", Receive: "date_recv", Send: "date_send", Align: 'i', Storage: 'p'},
	{Oid: OidTime, Name: "time", Len: 8, ByVal: true, Category: 'D', Array: 1183, Input: "time_in", Output: "time_out", Receive: "time_recv", Send: "time_send", Align: 'd', Storage: 'p'},
	{Oid: OidTimestamp, Name: "timestamp", Len: 8, ByVal: true, Category: 'D', Array: 1115, Input: "timestamp_in", Output: "timestamp_out", Receive: "timestamp_recv", Send: "timestamp_send", Align: 'd', Storage: 'p'},
	{Oid: OidTimestamptz, Name: "timestamptz", Len: 8, ByVal: true, Category: 'D', Preferred: true, Array: 1185, Input: "timestamptz_in", Output: "timestamptz_out", Receive: "timestamptz_recv", Send: "timestamptz_send", Align: 'd', Storage: 'p'},
	{Oid: OidInterval, Name: "interval", Len: 16, Category: 'T', Preferred: true, Array: 1187, Input: "interval_in", Output: "interval_out", Receive: "interval_recv", Send: "interval_send", Align: 'd', Storage: 'p'},
	{Oid: OidTimetz, Name: "timetz", Len: 12, Category: 'D', Array: 1270, Input: "timetz_in", Output: "timetz_out", Receive: "timetz_recv", Send: "timetz_send", Align: 'd', Storage: 'p'},
	{Oid: OidNumeric, Name: "numeric", Len: -1, Category: 'N', Array: 1231, Input: "numeric_in", Output: "numeric_out", Receive: "numeric_recv", Send: "numeric_send", Align: 'i', Storage: 'm'},
	{Oid: OidRegprocedure, Name: "regprocedure", Len: 4, ByVal: true, Category: 'N', Array: 2207, Input: "regprocedurein", Output: "regprocedureout", Receive: "regprocedurerecv", Send: "regproceduresend", Align: 'i', Storage: 'p'},
	{Oid: OidRegoper, Name: "regoper", Len: 4, ByVal: true, Category: 'N', Array: 2208, Input: "regoperin", Output: "regoperout", Receive: "regoperrecv", Send: "regopersend", Align: 'i', Storage: 'p'},
	{Oid: OidRegclass, Name: "regclass", Len: 4, ByVal: true, Category: 'N', Array: 2210, Input: "regclassin", Output: "regclassout", Receive: "regclassrecv", Send: "regclasssend", Align: 'i', Storage: 'p'},
	{Oid: OidRegtype, Name: "regtype", Len: 4, ByVal: true, Category: 'N', Array: 2211, Input: "regtypein", Output: "regtypeout", Receive: "regtyperecv", Send: "regtypesend", Align: 'i', Storage: 'p'},
	{Oid: OidRegnamespace, Name: "regnamespace", Len: 4, ByVal: true, Category: 'N', Array: 4090, Input: "regnamespacein", Output: "regnamespaceout", Receive: "regnamespacerecv", Send: "regnamespacesend", Align: 'i', Storage: 'p'},
	{Oid: OidRegrole, Name: "regrole", Len: 4, ByVal: true, Category: 'N', Array: 4097, Input: "regrolein", Output: "regroleout", Receive: "regrolerecv", Send: "regrolesend", Align: 'i', Storage: 'p'},
	{Oid: OidRecord, Name: "record", Len: -1, Category: 'P', Array: 2287, Input: "record_in", Output: "record_out", Receive: "record_recv", Send: "record_send", Align: 'd', Storage: 'x'},
	{Oid: OidCstring, Name: "cstring", Len: -2, Category: 'P', Array: 1263, Input: "cstring_in", Output: "cstring_out", Receive: "cstring_recv", Send: "cstring_send", Align: 'c', Storage: 'p'},
	{Oid: OidAny, Name: "any", Len: 4, ByVal: true, Category: 'P', Input: "any_in", Output: "any_out", Align: 'i', Storage: 'p'},
	{Oid: OidAnyArray, Name: "anyarray", Len: -1, Category: 'P', Input: "anyarray_in", Output: "anyarray_out", Receive: "anyarray_recv", Send: "anyarray_send", Align: 'd', Storage: 'x'},
	{Oid: OidVoid, Name: "void", Len: 4, ByVal: true, Category: 'P', Input: "void_in", Output: "void_out", Receive: "void_recv", Send: "void_send", Align: 'i', Storage: 'p'},
	{Oid: OidTrigger, Name: "trigger", Len: 4, ByVal: true, Category: 'P', Input: "trigger_in", Output: "trigger_out", Align: 'i', Storage: 'p'},
	{Oid: OidAnyElement, Name: "anyelement", Len: 4, ByVal: true, Category: 'P', Input: "anyelement_in", Output: "anyelement_out", Align: 'i', Storage: 'p'},
	{Oid: OidUUID, Name: "uuid", Len: 16, Category: 'U', Array: 2951, Input: "uuid_in", Output: "uuid_out", Receive: "uuid_recv", Send: "uuid_send", Align: 'c', Storage: 'p'},
	{Oid: OidPgLsn, Name: "pg_lsn", Len: 8, ByVal: true, Category: 'U', Array: 3221, Input: "pg_lsn_in", Output: "pg_lsn_out", Receive: "pg_lsn_recv", Send: "pg_lsn_send", Align: 'd', Storage: 'p'},
	{Oid: OidJsonb, Name: "jsonb", Len: -1, Category: 'U', Array: 3807, Input: "jsonb_in", Output: "jsonb_out", Receive: "jsonb_recv", Send: "jsonb_send", Align: 'i', Storage: 'x'},
}

var (
	byOid  = map[Oid]*Info{}
	byName = map[string]*Info{}
)

func init() {
	n := len(builtin)
	for i := 0; i < n; i++ {
		t := builtin[i]
		if t.Array == 0 {
			continue
		}
		builtin = append(builtin, Info{
			Oid: t.Array, Name: "_" + t.Name, Len: -1, Category: 'A', Elem: t.Oid,
			Input: "array_in", Output: "array_out", Receive: "array_recv", Send: "array_send",
			Align: arrayAlign(t.Align), Storage: 'x',
		})
	}
	for i := range builtin {
		t := &builtin[i]
		if t.Delim == 0 {
			t.Delim = ','
		}
		byOid[t.Oid] = t
		byName[t.Name] = t
	}
}

func arrayAlign(a byte) byte {
	if a == 'd' {
		return 'd'
	}
	return 'i'
}

// Lookup returns the built-in type with the given OID, or nil.
func Lookup(oid Oid) *Info { return byOid[oid] }

// LookupName returns the built-in type named name (its pg_type name, as
// "int4" or "_text"), or nil.
func LookupName(name string) *Info { return byName[name] }

// Builtins returns every built-in type, in a fixed order. The caller must
// not modify them.
func Builtins() []Info { return builtin }

// ArrayOf returns the array type of elem, or 0.
func ArrayOf(elem Oid) Oid {
	if t := byOid[elem]; t != nil {
		return t.Array
	}
	return 0
}

// ElemOf returns the element type of an array type, or 0 if t is not an
// array type.
func ElemOf(t Oid) Oid {
	if i := byOid[t]; i != nil && i.Category == 'A' {
		return i.Elem
	}
	return 0
}

// Type is a column's or an expression's type: the type's OID and its
// modifier (typmod), -1 when there is none. For varchar(n) and bpchar(n)
// the modifier is n+4, for numeric(p,s) ((p<<16)|s)+4, for timestamp(p),
// time(p) and interval precision p, as Postgres stores them.
type Type struct {
	Oid Oid
	Mod int32
}

// T returns the type oid without a modifier.
func T(oid Oid) Type { return Type{Oid: oid, Mod: -1} }

// Common types without a modifier.
var (
	BoolType        = T(OidBool)
	Int2Type        = T(OidInt2)
	Int4Type        = T(OidInt4)
	Int8Type        = T(OidInt8)
	Float4Type      = T(OidFloat4)
	Float8Type      = T(OidFloat8)
	NumericType     = T(OidNumeric)
	TextType        = T(OidText)
	VarcharType     = T(OidVarchar)
	BpcharType      = T(OidBpchar)
	NameType        = T(OidName)
	ByteaType       = T(OidBytea)
	DateType        = T(OidDate)
	TimeType        = T(OidTime)
	TimestampType   = T(OidTimestamp)
	TimestamptzType = T(OidTimestamptz)
	IntervalType    = T(OidInterval)
	UUIDType        = T(OidUUID)
	JSONType        = T(OidJSON)
	JsonbType       = T(OidJsonb)
	OidType         = T(OidOid)
	UnknownType     = T(OidUnknown)
	RecordType      = T(OidRecord)
	VoidType        = T(OidVoid)
)

// IsArray reports whether t is an array type.
func (t Type) IsArray() bool { return ElemOf(t.Oid) != 0 }

// Elem returns the element type of an array type (with no modifier, or
// the array's own modifier, which Postgres keeps for the element).
func (t Type) Elem() Type { return Type{Oid: ElemOf(t.Oid), Mod: t.Mod} }

// String returns the type's name as format_type prints it.
func (t Type) String() string { return FormatType(t.Oid, t.Mod) }

// FormatType renders a type as Postgres's format_type(oid, typmod) does:
// SQL-standard names ("integer", "character varying(10)",
// "timestamp without time zone", "numeric(10,2)", "text[]").
func FormatType(oid Oid, mod int32) string {
	if e := ElemOf(oid); e != 0 && oid != OidInt2Vector && oid != OidOidVector && oid != OidName {
		return FormatType(e, mod) + "[]"
	}
	switch oid {
	case OidBool:
		return "boolean"
	case OidInt2:
		return "smallint"
	case OidInt4:
		return "integer"
	case OidInt8:
		return "bigint"
	case OidFloat4:
		return "real"
	case OidFloat8:
		return "double precision"
	case OidNumeric:
		if mod >= 4 {
			m := mod - 4
			return fmt.Sprintf("numeric(%d,%d)", (m>>16)&0xffff, int16(m&0xffff))
		}
		return "numeric"
	case OidVarchar:
		if mod >= 4 {
			return fmt.Sprintf("character varying(%d)", mod-4)
		}
		return "character varying"
	case OidBpchar:
		if mod >= 4 {
			return fmt.Sprintf("character(%d)", mod-4)
		}
		return "bpchar"
	case OidChar:
		return `"char"`
	case OidTime:
		if mod >= 0 {
			return fmt.Sprintf("time(%d) without time zone", mod)
		}
		return "time without time zone"
	case OidTimetz:
		if mod >= 0 {
			return fmt.Sprintf("time(%d) with time zone", mod)
		}
		return "time with time zone"
	case OidTimestamp:
		if mod >= 0 {
			return fmt.Sprintf("timestamp(%d) without time zone", mod)
		}
		return "timestamp without time zone"
	case OidTimestamptz:
		if mod >= 0 {
			return fmt.Sprintf("timestamp(%d) with time zone", mod)
		}
		return "timestamp with time zone"
	case OidInterval:
		return "interval"
	}
	if t := byOid[oid]; t != nil {
		return t.Name
	}
	return "???"
}

// IsRegType reports whether t is one of the object-name types (regclass,
// regtype, regproc, ...), whose text form names a catalog object.
func IsRegType(t Oid) bool {
	switch t {
	case OidRegclass, OidRegtype, OidRegproc, OidRegnamespace, OidRegrole, OidRegprocedure, OidRegoper:
		return true
	}
	return false
}
