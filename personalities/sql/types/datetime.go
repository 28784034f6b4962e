package types

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"hourglass/personalities/sql/pgerror"
)

// Dates, times, timestamps and intervals: text I/O with DateStyle ISO
// output and MDY input, in the session's TimeZone.
//
// Deliberate differences from Postgres: input does not accept the
// special words that need the clock ("now", "today", "tomorrow",
// "yesterday"; they fail with 0A000, since conversions here have no
// clock), Julian dates, or ISO 8601 week dates; DateStyle output other
// than ISO is not implemented; IntervalStyle other than postgres is not
// implemented.

// The Postgres epoch (2000-01-01 00:00:00 UTC) in Unix seconds.
const pgEpochUnix = 946684800

const (
	usPerSec  = int64(1000000)
	usPerMin  = 60 * usPerSec
	usPerHour = 60 * usPerMin
	usPerDay  = 24 * usPerHour
)

// TimeOf returns t as a Go time in loc. REQUIRES: t is finite.
func (t Timestamp) TimeOf(loc *time.Location) time.Time {
	sec := int64(t) / usPerSec
	us := int64(t) % usPerSec
	if us < 0 {
		us += usPerSec
		sec--
	}
	return time.Unix(sec+pgEpochUnix, us*1000).In(loc)
}

// TimestampOf converts a Go time (its instant).
func TimestampOf(t time.Time) Timestamp {
	return Timestamp((t.Unix()-pgEpochUnix)*usPerSec + int64(t.Nanosecond()/1000))
}

// WallTimestamp is the timestamp without time zone that reads as t's
// wall clock.
func WallTimestamp(t time.Time) Timestamp {
	y, m, d := t.Date()
	return TimestampOf(time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC))
}

// DateOf returns the date of a wall-clock time.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	u := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()
	return Date(floorDiv(u-pgEpochUnix, 86400))
}

// Time returns d's midnight as a UTC Go time. REQUIRES: d is finite.
func (d Date) Time() time.Time {
	return time.Unix(int64(d)*86400+pgEpochUnix, 0).UTC()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// IsFinite reports whether d is neither infinity.
func (d Date) IsFinite() bool { return d != DatePosInfinity && d != DateNegInfinity }

// IsFinite reports whether t is neither infinity.
func (t Timestamp) IsFinite() bool { return t != TimestampPosInfinity && t != TimestampNegInfinity }

// Limits of the date and timestamp ranges (Postgres: 4713 BC to 5874897 AD
// for dates, to 294276 AD for timestamps).
var (
	minTimestamp = TimestampOf(time.Date(-4713, 11, 24, 0, 0, 0, 0, time.UTC))
	maxTimestamp = TimestampOf(time.Date(294277, 1, 1, 0, 0, 0, 0, time.UTC))
	minDate      = DateOf(time.Date(-4713, 11, 24, 0, 0, 0, 0, time.UTC))
	maxDate      = DateOf(time.Date(5874898, 1, 1, 0, 0, 0, 0, time.UTC))
)

// TimestampInRange reports whether a finite timestamp is within
// Postgres's range.
func TimestampInRange(t Timestamp) bool { return t >= minTimestamp && t < maxTimestamp }

// DateInRange reports whether a finite date is within Postgres's range.
func DateInRange(d Date) bool { return d >= minDate && d < maxDate }

var errTimestampRange = pgerror.New(pgerror.DatetimeFieldOverflow, "timestamp out of range")

// ---- output ----

func appendYMD(b []byte, y int, m time.Month, d int) ([]byte, bool) {
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	b = fmt.Appendf(b, "%04d-%02d-%02d", y, int(m), d)
	return b, bc
}

func appendHMS(b []byte, h, m, s int, us int64) []byte {
	b = fmt.Appendf(b, "%02d:%02d:%02d", h, m, s)
	return appendFraction(b, us)
}

// appendFraction appends ".ffffff" without trailing zeros (nothing for 0).
func appendFraction(b []byte, us int64) []byte {
	if us == 0 {
		return b
	}
	f := fmt.Sprintf("%06d", us)
	return append(append(b, '.'), strings.TrimRight(f, "0")...)
}

// FormatDate prints a date as date_out does with DateStyle ISO.
func FormatDate(d Date) string {
	switch d {
	case DatePosInfinity:
		return "infinity"
	case DateNegInfinity:
		return "-infinity"
	}
	t := d.Time()
	b, bc := appendYMD(nil, t.Year(), t.Month(), t.Day())
	if bc {
		b = append(b, " BC"...)
	}
	return string(b)
}

// FormatTime prints a time of day.
func FormatTime(t TimeOfDay) string {
	us := int64(t)
	return string(appendHMS(nil, int(us/usPerHour), int(us/usPerMin%60), int(us/usPerSec%60), us%usPerSec))
}

// FormatTimestamp prints a timestamp; with tz, in loc with its UTC
// offset, as timestamptz_out does.
func FormatTimestamp(ts Timestamp, tz bool, loc *time.Location) string {
	switch ts {
	case TimestampPosInfinity:
		return "infinity"
	case TimestampNegInfinity:
		return "-infinity"
	}
	if !tz || loc == nil {
		loc = time.UTC
	}
	t := ts.TimeOf(loc)
	b, bc := appendYMD(nil, t.Year(), t.Month(), t.Day())
	b = append(b, ' ')
	b = appendHMS(b, t.Hour(), t.Minute(), t.Second(), int64(t.Nanosecond()/1000))
	if tz {
		_, off := t.Zone()
		b = AppendOffset(b, off)
	}
	if bc {
		b = append(b, " BC"...)
	}
	return string(b)
}

// AppendOffset appends a UTC offset as Postgres prints it: +HH, +HH:MM or
// +HH:MM:SS.
func AppendOffset(b []byte, off int) []byte {
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = fmt.Appendf(b, "%c%02d", sign, off/3600)
	if off%3600 != 0 {
		b = fmt.Appendf(b, ":%02d", off/60%60)
		if off%60 != 0 {
			b = fmt.Appendf(b, ":%02d", off%60)
		}
	}
	return b
}

// FormatInterval prints an interval in IntervalStyle postgres.
func FormatInterval(iv Interval) string {
	var b []byte
	isZero, isBefore := true, false
	part := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if !isZero {
			b = append(b, ' ')
		}
		if isBefore && v > 0 {
			b = append(b, '+')
		}
		b = strconv.AppendInt(b, v, 10)
		b = append(b, ' ')
		b = append(b, unit...)
		if v != 1 {
			b = append(b, 's')
		}
		isBefore = v < 0
		isZero = false
	}
	part(int64(iv.Months/12), "year")
	part(int64(iv.Months%12), "mon")
	part(int64(iv.Days), "day")
	us := iv.Micros
	if isZero || us != 0 {
		if !isZero {
			b = append(b, ' ')
		}
		switch {
		case us < 0:
			b = append(b, '-')
		case isBefore:
			b = append(b, '+')
		}
		var h, m, s, f int64
		if us < 0 {
			// Avoid overflow of -MinInt64.
			h, m, s, f = -(us / usPerHour), -(us / usPerMin % 60), -(us / usPerSec % 60), -(us % usPerSec)
		} else {
			h, m, s, f = us/usPerHour, us/usPerMin%60, us/usPerSec%60, us%usPerSec
		}
		b = fmt.Appendf(b, "%02d:%02d:%02d", h, m, s)
		b = appendFraction(b, f)
	}
	return string(b)
}

// ---- input ----

func errDatetimeSyntax(typ, text string) error {
	return pgerror.New(pgerror.InvalidDatetimeFormat, "invalid input syntax for type %s: \"%s\"", typ, text)
}

func errFieldRange(text string) *pgerror.Error {
	return pgerror.New(pgerror.DatetimeFieldOverflow, "date/time field value out of range: \"%s\"", text)
}

var monthNames = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

func monthByName(s string) int {
	s = strings.ToLower(s)
	if len(s) < 3 {
		return 0
	}
	for i, m := range monthNames {
		if strings.HasPrefix(s, m) {
			full := strings.ToLower(time.Month(i + 1).String())
			if strings.HasPrefix(full, s) || s == "sept" {
				return i + 1
			}
		}
	}
	return 0
}

// dtFields is what a date/time string holds once read.
type dtFields struct {
	hasDate, hasTime, hasZone bool
	y, m, d                   int
	bc                        bool
	hour, min, sec            int
	us                        int64
	zoneOff                   int            // seconds east of UTC, when a numeric zone was given
	zoneLoc                   *time.Location // when a named zone was given
	special                   string         // infinity, -infinity, epoch
}

// splitDatetime cuts a date/time string into fields: runs of digits,
// letters and the punctuation between them, keeping '-', '+', ':' and
// '.' attached where they belong.
func parseDatetime(typ, text string) (*dtFields, error) {
	s := strings.TrimSpace(text)
	f := &dtFields{}
	low := strings.ToLower(s)
	switch low {
	case "infinity", "+infinity", "-infinity", "epoch":
		f.special = strings.TrimPrefix(low, "+")
		return f, nil
	case "now", "today", "tomorrow", "yesterday", "allballs":
		return nil, pgerror.New(pgerror.FeatureNotSupported, "special date/time input \"%s\" is not supported", text)
	}
	bad := func() (*dtFields, error) { return nil, errDatetimeSyntax(typ, text) }
	// Split on spaces and 'T' between a date and a time.
	fields := strings.Fields(s)
	if len(fields) == 1 {
		if i := strings.IndexAny(fields[0], "Tt"); i > 0 && i+1 < len(fields[0]) && isDigit(fields[0][i-1]) && isDigit(fields[0][i+1]) {
			fields = []string{fields[0][:i], fields[0][i+1:]}
		}
	}
	for i := 0; i < len(fields); i++ {
		fl := fields[i]
		lf := strings.ToLower(fl)
		switch {
		case lf == "bc":
			f.bc = true
		case lf == "ad":
		case lf == "z" || lf == "utc" || lf == "gmt" || lf == "zulu":
			f.hasZone, f.zoneOff = true, 0
		case !f.hasTime && strings.Contains(fl, ":"):
			// A time, maybe with a zone attached.
			t, rest := fl, ""
			if j := strings.IndexAny(fl, "+-Zz"); j > 0 {
				t, rest = fl[:j], fl[j:]
			}
			if err := parseClock(f, t); err != nil {
				return bad()
			}
			if rest != "" {
				if !parseZone(f, rest) {
					return bad()
				}
			}
		case !f.hasDate && (strings.ContainsAny(fl, "-/.") && isDigit(fl[0]) || len(fl) == 8 && allDigits(fl)):
			if err := parseDate(f, fl); err != nil {
				if err == errRange {
					return nil, errFieldRange(text)
				}
				if err == errMonthRange {
					return nil, errFieldRange(text).WithHint("Perhaps you need a different \"datestyle\" setting.")
				}
				return bad()
			}
		case !f.hasDate && monthByName(fl) > 0 && i+1 < len(fields):
			// Mon DD [YYYY]
			m := monthByName(fl)
			if i+2 < len(fields) && allDigits(fields[i+1]) && allDigits(fields[i+2]) {
				d, _ := strconv.Atoi(fields[i+1])
				y, _ := strconv.Atoi(fields[i+2])
				f.y, f.m, f.d, f.hasDate = y, m, d, true
				i += 2
			} else {
				return bad()
			}
		case f.hasTime && (fl[0] == '+' || fl[0] == '-'):
			if !parseZone(f, fl) {
				return bad()
			}
		case f.hasTime && !f.hasZone && strings.Contains(fl, "/"):
			loc, err := time.LoadLocation(fl)
			if err != nil {
				return nil, pgerror.New(pgerror.InvalidParameterValue, "time zone \"%s\" not recognized", fl)
			}
			f.hasZone, f.zoneLoc = true, loc
		default:
			return bad()
		}
	}
	if f.bc && f.hasDate {
		f.y = 1 - f.y
	}
	if f.hasDate {
		if f.m < 1 || f.m > 12 || f.d < 1 || f.d > daysIn(f.y, f.m) || f.y == 0 && !f.bc && false {
			return nil, errFieldRange(text)
		}
	}
	if f.hasTime {
		if f.hour > 24 || f.min > 59 || f.sec > 60 || f.hour == 24 && (f.min > 0 || f.sec > 0 || f.us > 0) {
			return nil, errFieldRange(text)
		}
	}
	return f, nil
}

// errRange and errMonthRange are a field out of range (a month out of
// range suggests another DateStyle).
var (
	errRange      = fmt.Errorf("range")
	errMonthRange = fmt.Errorf("month range")
)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func daysIn(y, m int) int {
	return time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// parseDate reads YYYY-MM-DD, YYYYMMDD, MM/DD/YYYY (MDY), MM-DD-YYYY,
// DD-Mon-YYYY, YYYY-Mon-DD.
func parseDate(f *dtFields, s string) error {
	var parts []string
	if allDigits(s) && len(s) == 8 {
		parts = []string{s[:4], s[4:6], s[6:]}
	} else {
		parts = strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '/' || r == '.' })
	}
	if len(parts) != 3 {
		return errCorrupt
	}
	num := func(p string) (int, bool) {
		if !allDigits(p) {
			return 0, false
		}
		n, err := strconv.Atoi(p)
		return n, err == nil
	}
	switch {
	case monthByName(parts[1]) > 0:
		f.m = monthByName(parts[1])
		a, ok1 := num(parts[0])
		c, ok2 := num(parts[2])
		if !ok1 || !ok2 {
			return errCorrupt
		}
		if len(parts[0]) >= 3 {
			f.y, f.d = a, c
		} else {
			f.d, f.y = a, c
		}
	case len(parts[0]) >= 3:
		y, ok1 := num(parts[0])
		m, ok2 := num(parts[1])
		d, ok3 := num(parts[2])
		if !ok1 || !ok2 || !ok3 {
			return errCorrupt
		}
		f.y, f.m, f.d = y, m, d
	default:
		m, ok1 := num(parts[0])
		d, ok2 := num(parts[1])
		y, ok3 := num(parts[2])
		if !ok1 || !ok2 || !ok3 {
			return errCorrupt
		}
		if len(parts[2]) <= 2 {
			// Two-digit years: 70-99 are 19xx, 00-69 20xx.
			if y < 70 {
				y += 2000
			} else {
				y += 1900
			}
		}
		f.y, f.m, f.d = y, m, d
	}
	if f.m < 1 || f.m > 12 {
		return errMonthRange
	}
	if f.d < 1 || f.d > 31 {
		return errRange
	}
	f.hasDate = true
	return nil
}

// parseClock reads HH:MM[:SS[.ffffff]].
func parseClock(f *dtFields, s string) error {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return errCorrupt
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || !allDigits(parts[0]) || !allDigits(parts[1]) {
		return errCorrupt
	}
	f.hour, f.min = h, m
	if len(parts) == 3 {
		sec, frac, _ := strings.Cut(parts[2], ".")
		if !allDigits(sec) {
			return errCorrupt
		}
		f.sec, _ = strconv.Atoi(sec)
		if frac != "" {
			if !allDigits(frac) {
				return errCorrupt
			}
			// Round to microseconds.
			for len(frac) < 7 {
				frac += "0"
			}
			us, _ := strconv.ParseInt(frac[:6], 10, 64)
			if frac[6] >= '5' {
				us++
			}
			f.us = us
		}
	}
	f.hasTime = true
	return nil
}

// parseZone reads +HH, +HHMM, +HH:MM, +HH:MM:SS, Z.
func parseZone(f *dtFields, s string) bool {
	if s == "Z" || s == "z" {
		f.hasZone, f.zoneOff = true, 0
		return true
	}
	if len(s) < 2 || (s[0] != '+' && s[0] != '-') {
		return false
	}
	sign := 1
	if s[0] == '-' {
		sign = -1
	}
	body := s[1:]
	var h, m, sec int
	var err error
	switch {
	case strings.Contains(body, ":"):
		p := strings.Split(body, ":")
		if len(p) > 3 {
			return false
		}
		vals := []*int{&h, &m, &sec}
		for i, x := range p {
			if !allDigits(x) {
				return false
			}
			*vals[i], err = strconv.Atoi(x)
			if err != nil {
				return false
			}
		}
	case allDigits(body) && len(body) <= 2:
		h, _ = strconv.Atoi(body)
	case allDigits(body) && len(body) == 4:
		h, _ = strconv.Atoi(body[:2])
		m, _ = strconv.Atoi(body[2:])
	default:
		return false
	}
	if h > 15 || m > 59 || sec > 59 {
		return false
	}
	f.hasZone, f.zoneOff = true, sign*(h*3600+m*60+sec)
	return true
}

// ParseDate reads a date.
func ParseDate(text string) (Date, error) {
	f, err := parseDatetime("date", text)
	if err != nil {
		return 0, err
	}
	switch f.special {
	case "infinity":
		return DatePosInfinity, nil
	case "-infinity":
		return DateNegInfinity, nil
	case "epoch":
		return -10957, nil
	}
	if !f.hasDate {
		return 0, errDatetimeSyntax("date", text)
	}
	d := DateOf(time.Date(f.y, time.Month(f.m), f.d, 0, 0, 0, 0, time.UTC))
	if !DateInRange(d) {
		return 0, pgerror.New(pgerror.DatetimeFieldOverflow, "date out of range: \"%s\"", text)
	}
	return d, nil
}

// ParseTime reads a time of day (a date or zone given is ignored).
func ParseTime(text string) (TimeOfDay, error) {
	f, err := parseDatetime("time", text)
	if err != nil {
		return 0, err
	}
	if !f.hasTime || f.special != "" {
		return 0, errDatetimeSyntax("time without time zone", text)
	}
	return TimeOfDay(int64(f.hour)*usPerHour + int64(f.min)*usPerMin + int64(f.sec)*usPerSec + f.us), nil
}

// ParseTimestamp reads a timestamp; with tz, a value without a zone is in
// loc; without tz, a zone given is ignored.
func ParseTimestamp(text string, tz bool, loc *time.Location) (Timestamp, error) {
	typ := "timestamp without time zone"
	if tz {
		typ = "timestamp with time zone"
	}
	f, err := parseDatetime(typ, text)
	if err != nil {
		return 0, err
	}
	switch f.special {
	case "infinity":
		return TimestampPosInfinity, nil
	case "-infinity":
		return TimestampNegInfinity, nil
	case "epoch":
		return -pgEpochUnix * Timestamp(usPerSec), nil
	}
	if !f.hasDate {
		return 0, errDatetimeSyntax(typ, text)
	}
	wall := time.Date(f.y, time.Month(f.m), f.d, f.hour, f.min, f.sec, int(f.us)*1000, time.UTC)
	var ts Timestamp
	switch {
	case !tz:
		ts = TimestampOf(wall)
	case f.hasZone && f.zoneLoc != nil:
		ts = TimestampOf(time.Date(f.y, time.Month(f.m), f.d, f.hour, f.min, f.sec, int(f.us)*1000, f.zoneLoc))
	case f.hasZone:
		ts = TimestampOf(wall) - Timestamp(int64(f.zoneOff)*usPerSec)
	default:
		if loc == nil {
			loc = time.UTC
		}
		ts = TimestampOf(time.Date(f.y, time.Month(f.m), f.d, f.hour, f.min, f.sec, int(f.us)*1000, loc))
	}
	if !TimestampInRange(ts) {
		return 0, pgerror.New(pgerror.DatetimeFieldOverflow, "timestamp out of range: \"%s\"", text)
	}
	return ts, nil
}
