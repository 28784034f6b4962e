package exec

import (
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// The field functions of dates, times and intervals (date_trunc,
// EXTRACT, date_part) and the SQL value functions (CURRENT_DATE,
// LOCALTIMESTAMP, ...), valued from the statement's clock.

// fieldName normalizes a date/time field name (units and their
// abbreviations, as date_trunc and extract take them).
func fieldName(s string) string {
	s = strings.ToLower(s)
	switch s {
	case "microsecond", "microseconds", "us", "usec", "usecs", "useconds":
		return "microseconds"
	case "millisecond", "milliseconds", "ms", "msec", "msecs", "mseconds":
		return "milliseconds"
	case "second", "seconds", "s", "sec", "secs":
		return "second"
	case "minute", "minutes", "m", "min", "mins":
		return "minute"
	case "hour", "hours", "h", "hr", "hrs":
		return "hour"
	case "day", "days", "d":
		return "day"
	case "week", "weeks", "w":
		return "week"
	case "month", "months", "mon", "mons":
		return "month"
	case "quarter", "qtr":
		return "quarter"
	case "year", "years", "y", "yr", "yrs":
		return "year"
	case "decade", "decades", "dec":
		return "decade"
	case "century", "centuries", "c", "cent":
		return "century"
	case "millennium", "millennia", "mil", "mils", "millenia", "millenium":
		return "millennium"
	}
	return s
}

func typeLabel(t types.Oid) string { return types.FormatType(t, -1) }

func errUnitNotRecognized(unit string, t types.Oid) error {
	return pgerror.New(pgerror.InvalidParameterValue, "unit \"%s\" not recognized for type %s", unit, typeLabel(t))
}

func errUnitNotSupported(unit string, t types.Oid) error {
	return pgerror.New(pgerror.FeatureNotSupported, "unit \"%s\" not supported for type %s", unit, typeLabel(t))
}

func truncTimestamp(unit string, ts types.Timestamp, tz bool, l *time.Location) (any, error) {
	t := types.OidTimestamp
	if tz {
		t = types.OidTimestamptz
	}
	f := fieldName(unit)
	if !ts.IsFinite() {
		return ts, nil
	}
	w := ts.TimeOf(l)
	y, mo, d := w.Date()
	h, mi, s, ns := w.Hour(), w.Minute(), w.Second(), w.Nanosecond()
	switch f {
	case "microseconds":
	case "milliseconds":
		ns = ns / 1000000 * 1000000
	case "second":
		ns = 0
	case "minute":
		s, ns = 0, 0
	case "hour":
		mi, s, ns = 0, 0, 0
	case "day":
		h, mi, s, ns = 0, 0, 0, 0
	case "week":
		wd := (int(w.Weekday()) + 6) % 7 // days since Monday
		d -= wd
		h, mi, s, ns = 0, 0, 0, 0
	case "month":
		d, h, mi, s, ns = 1, 0, 0, 0, 0
	case "quarter":
		mo = (mo-1)/3*3 + 1
		d, h, mi, s, ns = 1, 0, 0, 0, 0
	case "year", "decade", "century", "millennium":
		// Year numbers as Postgres counts them (no year 0).
		py := y
		if py <= 0 {
			py--
		}
		switch f {
		case "decade":
			py = floorDivInt(py, 10) * 10
			if y <= 0 {
				py = -((-py + 9) / 10 * 10)
			}
		case "century":
			if py > 0 {
				py = (py-1)/100*100 + 1
			} else {
				py = -((-py-1)/100*100 + 100)
			}
		case "millennium":
			if py > 0 {
				py = (py-1)/1000*1000 + 1
			} else {
				py = -((-py-1)/1000*1000 + 1000)
			}
		}
		if py < 0 {
			py++
		}
		y = py
		mo, d, h, mi, s, ns = 1, 1, 0, 0, 0, 0
	default:
		if isKnownField(f) {
			return nil, errUnitNotSupported(unit, t)
		}
		return nil, errUnitNotRecognized(unit, t)
	}
	if !tz {
		l = time.UTC
	}
	return checkTimestamp(types.TimestampOf(time.Date(y, mo, d, h, mi, s, ns, l)))
}

func floorDivInt(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func isKnownField(f string) bool {
	switch f {
	case "microseconds", "milliseconds", "second", "minute", "hour", "day", "week", "month", "quarter",
		"year", "decade", "century", "millennium", "dow", "isodow", "doy", "epoch", "julian", "isoyear",
		"timezone", "timezone_hour", "timezone_minute":
		return true
	}
	return false
}

func truncInterval(unit string, iv types.Interval) (any, error) {
	f := fieldName(unit)
	us := iv.Micros
	switch f {
	case "microseconds":
	case "milliseconds":
		us = us / 1000 * 1000
	case "second":
		us = us / usPerSec * usPerSec
	case "minute":
		us = us / usPerMin * usPerMin
	case "hour":
		us = us / usPerHour * usPerHour
	case "day":
		us = 0
	case "month":
		iv.Days, us = 0, 0
	case "quarter":
		iv.Months, iv.Days, us = iv.Months/3*3, 0, 0
	case "year":
		iv.Months, iv.Days, us = iv.Months/12*12, 0, 0
	case "decade":
		iv.Months, iv.Days, us = iv.Months/120*120, 0, 0
	case "century":
		iv.Months, iv.Days, us = iv.Months/1200*1200, 0, 0
	case "millennium":
		iv.Months, iv.Days, us = iv.Months/12000*12000, 0, 0
	default:
		if isKnownField(f) {
			return nil, pgerror.New(pgerror.FeatureNotSupported, "unit \"%s\" not supported for type interval", unit)
		}
		return nil, errUnitNotRecognized(unit, types.OidInterval)
	}
	iv.Micros = us
	return iv, nil
}

// decimal returns n / 10^scale as a numeric with that scale.
func decimal(n int64, scale int32) *apd.Decimal { return apd.New(n, -scale) }

// extract computes EXTRACT(field FROM v) as a numeric, with the scales
// Postgres gives (seconds with 6 digits, milliseconds with 3).
func extract(ctx *EvalCtx, unit string, t types.Oid, v any) (any, error) {
	f := fieldName(unit)
	if !isKnownField(f) {
		return nil, errUnitNotRecognized(unit, t)
	}
	switch t {
	case types.OidInterval:
		return extractInterval(f, unit, v.(types.Interval))
	case types.OidTime:
		us := int64(v.(types.TimeOfDay))
		if d := extractClock(f, us); d != nil {
			return d, nil
		}
		if f == "epoch" {
			return decimal(us, 6), nil
		}
		return nil, errUnitNotSupported(unit, t)
	}
	var ts types.Timestamp
	isDate := t == types.OidDate
	if isDate {
		d := v.(types.Date)
		if !d.IsFinite() {
			return infiniteField(f, unit, t, d == types.DatePosInfinity)
		}
		ts = dateToTs(d)
		switch f {
		case "microseconds", "milliseconds", "second", "minute", "hour", "timezone", "timezone_hour", "timezone_minute":
			return nil, errUnitNotSupported(unit, t)
		}
	} else {
		ts = v.(types.Timestamp)
		if !ts.IsFinite() {
			return infiniteField(f, unit, t, ts == types.TimestampPosInfinity)
		}
	}
	l := time.UTC
	if t == types.OidTimestamptz {
		l = loc(ctx)
	}
	w := ts.TimeOf(l)
	y := w.Year()
	secUs := int64(w.Second())*usPerSec + int64(w.Nanosecond()/1000)
	switch f {
	case "microseconds":
		return decimal(secUs, 0), nil
	case "milliseconds":
		return decimal(secUs, 3), nil
	case "second":
		return decimal(secUs, 6), nil
	case "minute":
		return decimal(int64(w.Minute()), 0), nil
	case "hour":
		return decimal(int64(w.Hour()), 0), nil
	case "day":
		return decimal(int64(w.Day()), 0), nil
	case "month":
		return decimal(int64(w.Month()), 0), nil
	case "quarter":
		return decimal(int64((w.Month()-1)/3+1), 0), nil
	case "year":
		if y <= 0 {
			return decimal(int64(y-1), 0), nil
		}
		return decimal(int64(y), 0), nil
	case "decade":
		if y <= 0 {
			return decimal(-int64((-y+10)/10), 0), nil
		}
		return decimal(int64(y/10), 0), nil
	case "century":
		if y <= 0 {
			return decimal(-int64((-y+100)/100), 0), nil
		}
		return decimal(int64((y+99)/100), 0), nil
	case "millennium":
		if y <= 0 {
			return decimal(-int64((-y+1000)/1000), 0), nil
		}
		return decimal(int64((y+999)/1000), 0), nil
	case "dow":
		return decimal(int64(w.Weekday()), 0), nil
	case "isodow":
		wd := int64(w.Weekday())
		if wd == 0 {
			wd = 7
		}
		return decimal(wd, 0), nil
	case "doy":
		return decimal(int64(w.YearDay()), 0), nil
	case "week":
		_, wk := w.ISOWeek()
		return decimal(int64(wk), 0), nil
	case "isoyear":
		iy, _ := w.ISOWeek()
		if iy <= 0 {
			iy--
		}
		return decimal(int64(iy), 0), nil
	case "julian":
		days := int64(types.DateOf(w)) + 2451545
		if isDate {
			return decimal(days, 0), nil
		}
		// Days plus the fraction of the day, as a numeric.
		dayUs := int64(w.Hour())*usPerHour + int64(w.Minute())*usPerMin + secUs
		n, day := apd.New(days*usPerDay+dayUs, 0), apd.New(usPerDay, 0)
		return numQuo(n, day, types.NumericDivScale(n, day))
	case "epoch":
		if isDate {
			return decimal(int64(ts)/usPerSec+946684800, 0), nil
		}
		return decimal(int64(ts)+946684800*usPerSec, 6), nil
	case "timezone", "timezone_hour", "timezone_minute":
		if t != types.OidTimestamptz {
			return nil, errUnitNotSupported(unit, t)
		}
		_, off := w.Zone()
		switch f {
		case "timezone":
			return decimal(int64(off), 0), nil
		case "timezone_hour":
			return decimal(int64(off/3600), 0), nil
		}
		return decimal(int64(off/60%60), 0), nil
	}
	return nil, errUnitNotSupported(unit, t)
}

// infiniteField is EXTRACT of an infinite date or timestamp: ±Infinity
// for the fields that grow with time, NULL for the others.
func infiniteField(f, unit string, t types.Oid, pos bool) (any, error) {
	switch f {
	case "year", "decade", "century", "millennium", "julian", "isoyear", "epoch":
		return &apd.Decimal{Form: apd.Infinite, Negative: !pos}, nil
	}
	if t == types.OidDate {
		switch f {
		case "microseconds", "milliseconds", "second", "minute", "hour", "timezone", "timezone_hour", "timezone_minute":
			return nil, errUnitNotSupported(unit, t)
		}
	}
	return nil, nil
}

// extractClock extracts a field of a time of day (or of an interval's
// time part) of us microseconds; nil for the other fields.
func extractClock(f string, us int64) *apd.Decimal {
	switch f {
	case "microseconds":
		return decimal(us%usPerMin, 0)
	case "milliseconds":
		return decimal(us%usPerMin, 3)
	case "second":
		return decimal(us%usPerMin, 6)
	case "minute":
		return decimal(us/usPerMin%60, 0)
	case "hour":
		return decimal(us/usPerHour, 0)
	}
	return nil
}

func extractInterval(f, unit string, iv types.Interval) (any, error) {
	us := iv.Micros
	if d := extractClock(f, us); d != nil {
		return d, nil
	}
	switch f {
	case "day":
		return decimal(int64(iv.Days), 0), nil
	case "month":
		return decimal(int64(iv.Months%12), 0), nil
	case "quarter":
		return decimal(int64(iv.Months%12/3+1), 0), nil
	case "year":
		return decimal(int64(iv.Months/12), 0), nil
	case "decade":
		return decimal(int64(iv.Months/120), 0), nil
	case "century":
		return decimal(int64(iv.Months/1200), 0), nil
	case "millennium":
		return decimal(int64(iv.Months/12000), 0), nil
	case "epoch":
		// Years count 365.25 days, months 30 days.
		secs := int64(iv.Months/12)*31557600 + int64(iv.Months%12)*2592000 + int64(iv.Days)*86400
		return decimal(secs*usPerSec+us, 6), nil
	}
	return nil, pgerror.New(pgerror.FeatureNotSupported, "unit \"%s\" not supported for type interval", unit)
}

// sqlValueFunction analyzes CURRENT_DATE, CURRENT_TIMESTAMP[(p)],
// LOCALTIMESTAMP[(p)] and LOCALTIME[(p)]: all read Env.Now.
// CURRENT_TIME (time with time zone) is not supported.
func (a *analyzer) sqlValueFunction(x *pg.SQLValueFunction) (Expr, error) {
	var t types.Type
	var f func(ctx *EvalCtx) any
	now := func(ctx *EvalCtx) types.Timestamp { return ctx.Env.Now }
	switch x.Op {
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_DATE:
		t = types.DateType
		f = func(ctx *EvalCtx) any { return types.DateOf(now(ctx).TimeOf(loc(ctx))) }
	case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N:
		t = types.TimestamptzType
		f = func(ctx *EvalCtx) any { return now(ctx) }
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP, pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:
		t = types.TimestampType
		f = func(ctx *EvalCtx) any { return types.WallTimestamp(now(ctx).TimeOf(loc(ctx))) }
	case pg.SQLValueFunctionOp_SVFOP_LOCALTIME, pg.SQLValueFunctionOp_SVFOP_LOCALTIME_N:
		t = types.TimeType
		f = func(ctx *EvalCtx) any {
			w := types.WallTimestamp(now(ctx).TimeOf(loc(ctx)))
			us := int64(w) % usPerDay
			if us < 0 {
				us += usPerDay
			}
			return types.TimeOfDay(us)
		}
	default:
		return a.sessionValueFunction(x)
	}
	if x.Typmod >= 0 {
		t.Mod = x.Typmod
	}
	return &nowExpr{T: t, f: f}, nil
}

// nowExpr is a value computed from the statement's clock.
type nowExpr struct {
	T types.Type
	f func(ctx *EvalCtx) any
}

func (n *nowExpr) Type() types.Type { return n.T }
func (n *nowExpr) Eval(ctx *EvalCtx, _ Row) (any, error) {
	return types.Coerce(n.T, n.f(ctx), true)
}
