package types

import (
	"math"
	"time"

	"github.com/cockroachdb/apd/v3"
)

// Date is a date: days since 2000-01-01 (Postgres's epoch), or one of the
// infinities.
type Date int32

// The infinite dates.
const (
	DateNegInfinity Date = math.MinInt32
	DatePosInfinity Date = math.MaxInt32
)

// TimeOfDay is a time without time zone: microseconds since midnight, in
// [0, 24h].
type TimeOfDay int64

// Timestamp is a timestamp (without or with time zone): microseconds
// since 2000-01-01 00:00:00 UTC, or one of the infinities. A timestamp
// without time zone holds the wall-clock reading as if it were UTC.
type Timestamp int64

// The infinite timestamps.
const (
	TimestampNegInfinity Timestamp = math.MinInt64
	TimestampPosInfinity Timestamp = math.MaxInt64
)

// Interval is an interval as Postgres keeps it: months, days and
// microseconds, each with its own sign.
type Interval struct {
	Months int32
	Days   int32
	Micros int64
}

// UUID is a uuid.
type UUID [16]byte

// JSON is a json value: the text exactly as given (validated).
type JSON string

// JSONB is a jsonb value in the canonical text Postgres prints for it
// (keys sorted by length then bytes, duplicates dropped, ", " and ": "
// separators).
type JSONB string

// Array is an array value. Elems holds the elements in row-major order;
// an empty array has no dimensions.
type Array struct {
	Elem    Oid
	Dims    []int32 // length of each dimension
	Lbounds []int32 // lower bound of each dimension (usually 1)
	Elems   []any
}

// Record is a row value (ROW(...), a composite).
type Record []any

// Numeric values are *apd.Decimal.
type Numeric = *apd.Decimal

// Settings are the session settings that conversions depend on.
type Settings struct {
	// Location is the session's TimeZone, TimeZoneName its name as SHOW
	// prints it.
	Location     *time.Location
	TimeZoneName string
	// DateStyle as SET DateStyle takes it ("ISO, MDY").
	DateStyle string
	// IntervalStyle: "postgres" (default), "postgres_verbose",
	// "sql_standard" or "iso_8601".
	IntervalStyle string
	// ExtraFloatDigits: Postgres's extra_float_digits (1 by default:
	// shortest exact output).
	ExtraFloatDigits int
	// ByteaOutput: "hex" (default) or "escape".
	ByteaOutput string
	// RegOutput, if set, prints a value of a reg* type (regclass,
	// regtype, ...) as the object's name; the catalog it names objects
	// from is the caller's. Nil prints the number.
	RegOutput func(t Oid, oid int64) string
}

// DefaultSettings returns the settings a new session starts with: UTC,
// ISO, MDY, postgres interval style, shortest float output, hex bytea.
func DefaultSettings() *Settings {
	return &Settings{
		Location:         time.UTC,
		TimeZoneName:     "UTC",
		DateStyle:        "ISO, MDY",
		IntervalStyle:    "postgres",
		ExtraFloatDigits: 1,
		ByteaOutput:      "hex",
	}
}
