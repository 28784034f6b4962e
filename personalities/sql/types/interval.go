package types

import (
	"math"
	"strconv"
	"strings"

	"hourglass/personalities/sql/pgerror"
)

// Interval input (Postgres and ISO 8601 forms) and interval arithmetic
// helpers: comparison by total span, rounding to a precision.

// intervalUnits maps a unit word to months, days or microseconds per
// unit.
var intervalUnits = map[string]struct {
	months, days int64
	us           int64
}{
	"microsecond": {us: 1}, "microseconds": {us: 1}, "us": {us: 1}, "usec": {us: 1}, "usecs": {us: 1},
	"millisecond": {us: 1000}, "milliseconds": {us: 1000}, "ms": {us: 1000}, "msec": {us: 1000}, "msecs": {us: 1000},
	"second": {us: usPerSec}, "seconds": {us: usPerSec}, "sec": {us: usPerSec}, "secs": {us: usPerSec}, "s": {us: usPerSec},
	"minute": {us: usPerMin}, "minutes": {us: usPerMin}, "min": {us: usPerMin}, "mins": {us: usPerMin}, "m": {us: usPerMin},
	"hour": {us: usPerHour}, "hours": {us: usPerHour}, "hr": {us: usPerHour}, "hrs": {us: usPerHour}, "h": {us: usPerHour},
	"day": {days: 1}, "days": {days: 1}, "d": {days: 1},
	"week": {days: 7}, "weeks": {days: 7}, "w": {days: 7},
	"month": {months: 1}, "months": {months: 1}, "mon": {months: 1}, "mons": {months: 1},
	"year": {months: 12}, "years": {months: 12}, "y": {months: 12}, "yr": {months: 12}, "yrs": {months: 12},
	"decade": {months: 120}, "decades": {months: 120},
	"century": {months: 1200}, "centuries": {months: 1200},
	"millennium": {months: 12000}, "millennia": {months: 12000},
}

// ParseInterval reads an interval in the postgres format ("1 year 2 mons
// 3 days 04:05:06", "@ 1 hour ago", "-1 day +02:00") or a bare number of
// seconds.
func ParseInterval(text string) (Interval, error) {
	bad := func() (Interval, error) {
		return Interval{}, pgerror.New(pgerror.InvalidDatetimeFormat, "invalid input syntax for type interval: \"%s\"", text)
	}
	s := strings.ToLower(strings.TrimSpace(text))
	if s == "" {
		return bad()
	}
	if strings.HasPrefix(s, "p") {
		return parseISOInterval(text, s[1:])
	}
	s = strings.TrimPrefix(s, "@")
	// Split "1day" into "1 day".
	var toks []string
	for _, w := range strings.Fields(s) {
		i := 0
		for i < len(w) && (isDigit(w[i]) || w[i] == '.' || w[i] == '-' || w[i] == '+' || w[i] == ':') {
			i++
		}
		if i > 0 && i < len(w) {
			toks = append(toks, w[:i], w[i:])
		} else {
			toks = append(toks, w)
		}
	}
	var months, days float64
	var us float64
	var iv Interval
	ago := false
	sawAny := false
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t == "ago":
			ago = true
			continue
		case strings.Contains(t, ":"):
			neg := strings.HasPrefix(t, "-")
			t = strings.TrimLeft(t, "+-")
			f := &dtFields{}
			parts := strings.Split(t, ":")
			if len(parts) == 2 && strings.Contains(parts[1], ".") {
				// MM:SS.fff
				t = "0:" + t
			}
			if err := parseClock(f, t); err != nil || f.min > 59 || f.sec > 59 {
				return bad()
			}
			v := int64(f.hour)*usPerHour + int64(f.min)*usPerMin + int64(f.sec)*usPerSec + f.us
			if neg {
				v = -v
			}
			iv.Micros += v
			sawAny = true
			continue
		}
		n, err := strconv.ParseFloat(t, 64)
		if err != nil || strings.ContainsAny(t, "einxp_") {
			return bad()
		}
		unit := intervalUnits["second"]
		if i+1 < len(toks) {
			if u, ok := intervalUnits[toks[i+1]]; ok {
				unit = u
				i++
			} else if toks[i+1] != "ago" && !strings.Contains(toks[i+1], ":") {
				return bad()
			}
		}
		sawAny = true
		if n != math.Trunc(n) || unit.months == 0 && unit.days == 0 {
			// Fractions cascade down: months to days (30), days to hours.
			months += n * float64(unit.months)
			days += n * float64(unit.days)
			us += n * float64(unit.us)
		} else {
			iv.Months += int32(n) * int32(unit.months)
			iv.Days += int32(n) * int32(unit.days)
		}
	}
	if !sawAny {
		return bad()
	}
	wm := math.Trunc(months)
	iv.Months += int32(wm)
	days += (months - wm) * 30
	wd := math.Trunc(days)
	iv.Days += int32(wd)
	us += (days - wd) * float64(usPerDay)
	iv.Micros += int64(math.Round(us))
	if ago {
		iv = Interval{-iv.Months, -iv.Days, -iv.Micros}
	}
	return iv, nil
}

// parseISOInterval reads P[nY][nM][nW][nD][T[nH][nM][nS]].
func parseISOInterval(text, s string) (Interval, error) {
	bad := func() (Interval, error) {
		return Interval{}, pgerror.New(pgerror.InvalidDatetimeFormat, "invalid input syntax for type interval: \"%s\"", text)
	}
	var iv Interval
	inTime := false
	for s != "" {
		if s[0] == 't' {
			inTime = true
			s = s[1:]
			continue
		}
		i := 0
		for i < len(s) && (isDigit(s[i]) || s[i] == '.' || s[i] == '-') {
			i++
		}
		if i == 0 || i == len(s) {
			return bad()
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return bad()
		}
		switch u := s[i]; {
		case u == 'y' && !inTime:
			iv.Months += int32(n * 12)
		case u == 'm' && !inTime:
			iv.Months += int32(n)
			iv.Days += int32((n - math.Trunc(n)) * 30)
		case u == 'w' && !inTime:
			iv.Days += int32(n * 7)
		case u == 'd' && !inTime:
			iv.Days += int32(n)
			iv.Micros += int64((n - math.Trunc(n)) * float64(usPerDay))
		case u == 'h' && inTime:
			iv.Micros += int64(math.Round(n * float64(usPerHour)))
		case u == 'm' && inTime:
			iv.Micros += int64(math.Round(n * float64(usPerMin)))
		case u == 's' && inTime:
			iv.Micros += int64(math.Round(n * float64(usPerSec)))
		default:
			return bad()
		}
		s = s[i+1:]
	}
	return iv, nil
}

// IntervalSpan is an interval's length for ordering, as Postgres compares
// intervals: a month is 30 days, a day 24 hours. It is returned as a
// 128-bit value (hi, lo) so that no interval overflows.
func IntervalSpan(iv Interval) (hi int64, lo uint64) {
	days := int64(iv.Months)*30 + int64(iv.Days)
	// days*usPerDay fits in int64 for int32 months and days? 2^31*30*8.64e10
	// does not, so compute in 128 bits: days*usPerDay + Micros.
	dh, dl := mul64(days, usPerDay)
	return add128(dh, dl, iv.Micros)
}

func mul64(a, b int64) (int64, uint64) {
	neg := (a < 0) != (b < 0)
	ua, ub := uint64(abs64(a)), uint64(abs64(b))
	hi, lo := mulU64(ua, ub)
	if neg {
		lo = ^lo + 1
		hi = ^hi
		if lo == 0 {
			hi++
		}
	}
	return int64(hi), lo
}

func abs64(a int64) int64 {
	if a < 0 {
		return -a
	}
	return a
}

func mulU64(a, b uint64) (uint64, uint64) {
	const mask = 1<<32 - 1
	a0, a1 := a&mask, a>>32
	b0, b1 := b&mask, b>>32
	w0 := a0 * b0
	t := a1*b0 + w0>>32
	w1 := t & mask
	w2 := t >> 32
	w1 += a0 * b1
	return a1*b1 + w2 + w1>>32, a * b
}

func add128(hi int64, lo uint64, v int64) (int64, uint64) {
	nlo := lo + uint64(v)
	carry := int64(0)
	if v >= 0 && nlo < lo {
		carry = 1
	} else if v < 0 && nlo > lo {
		carry = -1
	}
	return hi + carry + 0, nlo
}

// CompareInterval orders intervals by their span.
func CompareInterval(a, b Interval) int {
	ah, al := IntervalSpan(a)
	bh, bl := IntervalSpan(b)
	switch {
	case ah < bh:
		return -1
	case ah > bh:
		return 1
	case al < bl:
		return -1
	case al > bl:
		return 1
	}
	return 0
}

// coerceTimePrecision rounds microseconds to p fractional digits.
func roundMicros(us int64, p int32) int64 {
	if p < 0 || p >= 6 {
		return us
	}
	unit := int64(math.Pow10(int(6 - p)))
	if us >= 0 {
		return (us + unit/2) / unit * unit
	}
	return -((-us + unit/2) / unit * unit)
}
