package exec

import (
	"math"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// Date/time operators and functions. The current time is the statement's
// Env.Now (fixed by the proposer and carried by the log), never the wall
// clock: now(), current_timestamp, transaction_timestamp(),
// statement_timestamp() and clock_timestamp() all return it (Postgres's
// clock_timestamp() advances during a statement; this one does not).

const (
	usPerSec  = int64(1000000)
	usPerMin  = 60 * usPerSec
	usPerHour = 60 * usPerMin
	usPerDay  = 24 * usPerHour
)

func loc(ctx *EvalCtx) *time.Location {
	if ctx == nil || ctx.Env == nil || ctx.Env.Session == nil || ctx.Env.Session.Types.Location == nil {
		return time.UTC
	}
	return ctx.Env.Session.Types.Location
}

var (
	errTimestampRange = pgerror.New(pgerror.DatetimeFieldOverflow, "timestamp out of range")
	errDateRange      = pgerror.New(pgerror.DatetimeFieldOverflow, "date out of range")
	errIntervalRange  = pgerror.New(pgerror.DatetimeFieldOverflow, "interval out of range")
)

func checkTimestamp(ts types.Timestamp) (any, error) {
	if ts.IsFinite() && !types.TimestampInRange(ts) {
		return nil, errTimestampRange
	}
	return ts, nil
}

// addMonths adds months to a wall-clock date, clamping the day to the
// end of the month as Postgres does.
func addMonths(t time.Time, months int) time.Time {
	y, m, d := t.Date()
	total := y*12 + int(m) - 1 + months
	ny, nm := total/12, total%12
	if nm < 0 {
		nm += 12
		ny--
	}
	last := time.Date(ny, time.Month(nm)+2, 0, 0, 0, 0, 0, time.UTC).Day()
	if d > last {
		d = last
	}
	return time.Date(ny, time.Month(nm+1), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
}

// tsPlusInterval adds iv to ts; with tz, months and days move the wall
// clock in loc (across daylight saving changes as Postgres does).
func tsPlusInterval(ts types.Timestamp, iv types.Interval, tz bool, l *time.Location) (any, error) {
	if !ts.IsFinite() {
		return ts, nil
	}
	if !tz {
		l = time.UTC
	}
	if iv.Months != 0 || iv.Days != 0 {
		t := ts.TimeOf(l)
		if iv.Months != 0 {
			t = addMonths(t, int(iv.Months))
		}
		if iv.Days != 0 {
			y, m, d := t.Date()
			t = time.Date(y, m, d+int(iv.Days), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), l)
		}
		ts = types.TimestampOf(t)
	}
	r := int64(ts) + iv.Micros
	if (iv.Micros > 0 && r < int64(ts)) || (iv.Micros < 0 && r > int64(ts)) {
		return nil, errTimestampRange
	}
	return checkTimestamp(types.Timestamp(r))
}

func negInterval(iv types.Interval) (types.Interval, error) {
	if iv.Months == math.MinInt32 || iv.Days == math.MinInt32 || iv.Micros == math.MinInt64 {
		return iv, errIntervalRange
	}
	return types.Interval{Months: -iv.Months, Days: -iv.Days, Micros: -iv.Micros}, nil
}

func addInterval(a, b types.Interval) (any, error) {
	m := int64(a.Months) + int64(b.Months)
	d := int64(a.Days) + int64(b.Days)
	us, overflow := addInt(a.Micros, b.Micros)
	if overflow || m != int64(int32(m)) || d != int64(int32(d)) {
		return nil, errIntervalRange
	}
	return types.Interval{Months: int32(m), Days: int32(d), Micros: us}, nil
}

// tsround is Postgres's TSROUND: round to microsecond precision.
func tsround(f float64) float64 { return math.RoundToEven(f*1e6) / 1e6 }

// scaleInterval multiplies an interval by factor (or divides by it), as
// interval_mul and interval_div do: fractional months and days cascade
// down to days and seconds.
func scaleInterval(iv types.Interval, factor float64, div bool) (any, error) {
	op := func(x float64) float64 {
		if div {
			return x / factor
		}
		return x * factor
	}
	if div && factor == 0 {
		return nil, errDivZero
	}
	if math.IsNaN(factor) {
		return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "interval out of range")
	}
	mf, df := op(float64(iv.Months)), op(float64(iv.Days))
	if mf > math.MaxInt32 || mf < math.MinInt32 || df > math.MaxInt32 || df < math.MinInt32 {
		return nil, errIntervalRange
	}
	r := types.Interval{Months: int32(mf), Days: int32(df)}
	monthRemDays := tsround((mf - float64(r.Months)) * 30)
	secRem := tsround((df - float64(r.Days) + monthRemDays - math.Trunc(monthRemDays)) * 86400)
	if math.Abs(secRem) >= 86400 {
		r.Days += int32(secRem / 86400)
		secRem -= math.Trunc(secRem/86400) * 86400
	}
	r.Days += int32(monthRemDays)
	us := math.RoundToEven(op(float64(iv.Micros)) + secRem*1e6)
	if math.IsNaN(us) || us >= 9.223372036854776e18 || us < -9.223372036854776e18 {
		return nil, errIntervalRange
	}
	r.Micros = int64(us)
	return r, nil
}

// tsMinus is timestamp - timestamp: the difference in microseconds, with
// whole days moved to the day field (justify_hours).
func tsMinus(a, b types.Timestamp) (any, error) {
	if !a.IsFinite() || !b.IsFinite() {
		return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "cannot subtract infinite timestamps")
	}
	d, overflow := subInt(int64(a), int64(b))
	if overflow {
		return nil, errIntervalRange
	}
	return justifyHours(types.Interval{Micros: d}), nil
}

func justifyHours(iv types.Interval) types.Interval {
	days := iv.Micros / usPerDay
	iv.Days += int32(days)
	iv.Micros -= days * usPerDay
	return daySignsAgree(iv)
}

// daySignsAgree borrows a day so that the days and the time have one
// sign.
func daySignsAgree(iv types.Interval) types.Interval {
	if iv.Days > 0 && iv.Micros < 0 {
		iv.Micros += usPerDay
		iv.Days--
	} else if iv.Days < 0 && iv.Micros > 0 {
		iv.Micros -= usPerDay
		iv.Days++
	}
	return iv
}

func justifyDays(iv types.Interval) types.Interval {
	months := iv.Days / 30
	iv.Months += months
	iv.Days -= months * 30
	if iv.Months > 0 && iv.Days < 0 {
		iv.Days += 30
		iv.Months--
	} else if iv.Months < 0 && iv.Days > 0 {
		iv.Days -= 30
		iv.Months++
	}
	return iv
}

// justifyInterval moves whole days out of the time and whole months out
// of the days, then makes the signs agree, as justify_interval does.
func justifyInterval(iv types.Interval) types.Interval {
	wholeDay := iv.Micros / usPerDay
	iv.Micros -= wholeDay * usPerDay
	iv.Days += int32(wholeDay)
	wholeMonth := iv.Days / 30
	iv.Days -= wholeMonth * 30
	iv.Months += wholeMonth
	if iv.Months > 0 && (iv.Days < 0 || iv.Days == 0 && iv.Micros < 0) {
		iv.Days += 30
		iv.Months--
	} else if iv.Months < 0 && (iv.Days > 0 || iv.Days == 0 && iv.Micros > 0) {
		iv.Days -= 30
		iv.Months++
	}
	return daySignsAgree(iv)
}

func dateToTs(d types.Date) types.Timestamp {
	switch d {
	case types.DatePosInfinity:
		return types.TimestampPosInfinity
	case types.DateNegInfinity:
		return types.TimestampNegInfinity
	}
	return types.Timestamp(int64(d) * usPerDay)
}

func datePlusDays(d types.Date, n int64) (any, error) {
	if !d.IsFinite() {
		return d, nil
	}
	r := int64(d) + n
	if r != int64(int32(r)) || !types.DateInRange(types.Date(r)) {
		return nil, errDateRange
	}
	return types.Date(r), nil
}

func fn(f func(ctx *EvalCtx, a []any) (any, error)) func(*EvalCtx, []any) (any, error) { return f }

func init() {
	D, T, TS, TZ, IV := types.OidDate, types.OidTime, types.OidTimestamp, types.OidTimestamptz, types.OidInterval
	I4, F8 := types.OidInt4, types.OidFloat8
	op := func(name string, args []types.Oid, ret types.Oid, f func(ctx *EvalCtx, a []any) (any, error)) {
		RegisterOp(name, &Func{Args: args, Ret: ret, Strict: true, Fn: f})
	}
	// date and integers.
	op("+", []types.Oid{D, I4}, D, fn(func(_ *EvalCtx, a []any) (any, error) { return datePlusDays(a[0].(types.Date), a[1].(int64)) }))
	op("+", []types.Oid{I4, D}, D, fn(func(_ *EvalCtx, a []any) (any, error) { return datePlusDays(a[1].(types.Date), a[0].(int64)) }))
	op("-", []types.Oid{D, I4}, D, fn(func(_ *EvalCtx, a []any) (any, error) { return datePlusDays(a[0].(types.Date), -a[1].(int64)) }))
	op("-", []types.Oid{D, D}, I4, fn(func(_ *EvalCtx, a []any) (any, error) {
		x, y := a[0].(types.Date), a[1].(types.Date)
		if !x.IsFinite() || !y.IsFinite() {
			return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "cannot subtract infinite dates")
		}
		return int64(x) - int64(y), nil
	}))
	// date with intervals and times gives timestamps.
	op("+", []types.Oid{D, IV}, TS, fn(func(_ *EvalCtx, a []any) (any, error) {
		return tsPlusInterval(dateToTs(a[0].(types.Date)), a[1].(types.Interval), false, nil)
	}))
	op("+", []types.Oid{IV, D}, TS, fn(func(_ *EvalCtx, a []any) (any, error) {
		return tsPlusInterval(dateToTs(a[1].(types.Date)), a[0].(types.Interval), false, nil)
	}))
	op("-", []types.Oid{D, IV}, TS, fn(func(_ *EvalCtx, a []any) (any, error) {
		n, err := negInterval(a[1].(types.Interval))
		if err != nil {
			return nil, err
		}
		return tsPlusInterval(dateToTs(a[0].(types.Date)), n, false, nil)
	}))
	op("+", []types.Oid{D, T}, TS, fn(func(_ *EvalCtx, a []any) (any, error) {
		return checkTimestamp(dateToTs(a[0].(types.Date)) + types.Timestamp(a[1].(types.TimeOfDay)))
	}))
	op("+", []types.Oid{T, D}, TS, fn(func(_ *EvalCtx, a []any) (any, error) {
		return checkTimestamp(dateToTs(a[1].(types.Date)) + types.Timestamp(a[0].(types.TimeOfDay)))
	}))
	// timestamps and intervals.
	for _, t := range []types.Oid{TS, TZ} {
		tz := t == TZ
		op("+", []types.Oid{t, IV}, t, fn(func(ctx *EvalCtx, a []any) (any, error) {
			return tsPlusInterval(a[0].(types.Timestamp), a[1].(types.Interval), tz, loc(ctx))
		}))
		op("+", []types.Oid{IV, t}, t, fn(func(ctx *EvalCtx, a []any) (any, error) {
			return tsPlusInterval(a[1].(types.Timestamp), a[0].(types.Interval), tz, loc(ctx))
		}))
		op("-", []types.Oid{t, IV}, t, fn(func(ctx *EvalCtx, a []any) (any, error) {
			n, err := negInterval(a[1].(types.Interval))
			if err != nil {
				return nil, err
			}
			return tsPlusInterval(a[0].(types.Timestamp), n, tz, loc(ctx))
		}))
		op("-", []types.Oid{t, t}, IV, fn(func(_ *EvalCtx, a []any) (any, error) {
			return tsMinus(a[0].(types.Timestamp), a[1].(types.Timestamp))
		}))
	}
	// times.
	timePlus := func(t types.TimeOfDay, us int64) any {
		r := (int64(t) + us%usPerDay) % usPerDay
		if r < 0 {
			r += usPerDay
		}
		return types.TimeOfDay(r)
	}
	op("+", []types.Oid{T, IV}, T, fn(func(_ *EvalCtx, a []any) (any, error) {
		return timePlus(a[0].(types.TimeOfDay), a[1].(types.Interval).Micros), nil
	}))
	op("+", []types.Oid{IV, T}, T, fn(func(_ *EvalCtx, a []any) (any, error) {
		return timePlus(a[1].(types.TimeOfDay), a[0].(types.Interval).Micros), nil
	}))
	op("-", []types.Oid{T, IV}, T, fn(func(_ *EvalCtx, a []any) (any, error) {
		return timePlus(a[0].(types.TimeOfDay), -a[1].(types.Interval).Micros), nil
	}))
	op("-", []types.Oid{T, T}, IV, fn(func(_ *EvalCtx, a []any) (any, error) {
		return types.Interval{Micros: int64(a[0].(types.TimeOfDay)) - int64(a[1].(types.TimeOfDay))}, nil
	}))
	// interval arithmetic.
	op("+", []types.Oid{IV, IV}, IV, fn(func(_ *EvalCtx, a []any) (any, error) {
		return addInterval(a[0].(types.Interval), a[1].(types.Interval))
	}))
	op("-", []types.Oid{IV, IV}, IV, fn(func(_ *EvalCtx, a []any) (any, error) {
		n, err := negInterval(a[1].(types.Interval))
		if err != nil {
			return nil, err
		}
		return addInterval(a[0].(types.Interval), n)
	}))
	op("-", []types.Oid{IV}, IV, fn(func(_ *EvalCtx, a []any) (any, error) { return negInterval(a[0].(types.Interval)) }))
	op("+", []types.Oid{IV}, IV, fn(func(_ *EvalCtx, a []any) (any, error) { return a[0], nil }))
	op("*", []types.Oid{IV, F8}, IV, fn(func(_ *EvalCtx, a []any) (any, error) {
		return scaleInterval(a[0].(types.Interval), a[1].(float64), false)
	}))
	op("*", []types.Oid{F8, IV}, IV, fn(func(_ *EvalCtx, a []any) (any, error) {
		return scaleInterval(a[1].(types.Interval), a[0].(float64), false)
	}))
	op("/", []types.Oid{IV, F8}, IV, fn(func(_ *EvalCtx, a []any) (any, error) {
		return scaleInterval(a[0].(types.Interval), a[1].(float64), true)
	}))

	reg := func(name string, args []types.Oid, ret types.Oid, f func(ctx *EvalCtx, a []any) (any, error)) {
		RegisterFunc(&Func{Name: name, Args: args, Ret: ret, Strict: true, Fn: f})
	}
	for _, name := range []string{"now", "transaction_timestamp", "statement_timestamp", "clock_timestamp"} {
		reg(name, nil, TZ, fn(func(ctx *EvalCtx, _ []any) (any, error) { return ctx.Env.Now, nil }))
	}
	reg("isfinite", []types.Oid{D}, types.OidBool, fn(func(_ *EvalCtx, a []any) (any, error) { return a[0].(types.Date).IsFinite(), nil }))
	reg("isfinite", []types.Oid{TS}, types.OidBool, fn(func(_ *EvalCtx, a []any) (any, error) { return a[0].(types.Timestamp).IsFinite(), nil }))
	reg("isfinite", []types.Oid{TZ}, types.OidBool, fn(func(_ *EvalCtx, a []any) (any, error) { return a[0].(types.Timestamp).IsFinite(), nil }))
	reg("isfinite", []types.Oid{IV}, types.OidBool, fn(func(_ *EvalCtx, a []any) (any, error) { return true, nil }))
	reg("justify_hours", []types.Oid{IV}, IV, fn(func(_ *EvalCtx, a []any) (any, error) { return justifyHours(a[0].(types.Interval)), nil }))
	reg("justify_days", []types.Oid{IV}, IV, fn(func(_ *EvalCtx, a []any) (any, error) { return justifyDays(a[0].(types.Interval)), nil }))
	reg("justify_interval", []types.Oid{IV}, IV, fn(func(_ *EvalCtx, a []any) (any, error) {
		return justifyInterval(a[0].(types.Interval)), nil
	}))
	reg("make_date", []types.Oid{I4, I4, I4}, D, fn(func(_ *EvalCtx, a []any) (any, error) {
		y, m, d := a[0].(int64), a[1].(int64), a[2].(int64)
		if y == 0 || m < 1 || m > 12 || d < 1 || d > 31 {
			return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "date field value out of range: %d-%02d-%02d", y, m, d)
		}
		if y < 0 {
			y++
		}
		t := time.Date(int(y), time.Month(m), int(d), 0, 0, 0, 0, time.UTC)
		if t.Day() != int(d) {
			return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "date field value out of range: %d-%02d-%02d", a[0].(int64), m, d)
		}
		return types.DateOf(t), nil
	}))
	reg("make_time", []types.Oid{I4, I4, F8}, T, fn(func(_ *EvalCtx, a []any) (any, error) {
		h, m, s := a[0].(int64), a[1].(int64), a[2].(float64)
		if h < 0 || h > 24 || m < 0 || m > 59 || s < 0 || s > 60 || h == 24 && (m > 0 || s > 0) {
			return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "time field value out of range: %d:%02d:%s", h, m, types.Format(types.Float8Type, s, nil))
		}
		return types.TimeOfDay(h*usPerHour + m*usPerMin + int64(math.RoundToEven(s*1e6))), nil
	}))
	reg("make_timestamp", []types.Oid{I4, I4, I4, I4, I4, F8}, TS, fn(func(_ *EvalCtx, a []any) (any, error) {
		y, mo, d, h, mi, s := a[0].(int64), a[1].(int64), a[2].(int64), a[3].(int64), a[4].(int64), a[5].(float64)
		if y < 0 {
			y++
		}
		t := time.Date(int(y), time.Month(mo), int(d), int(h), int(mi), 0, 0, time.UTC)
		if y == 0 || mo < 1 || mo > 12 || t.Day() != int(d) || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s >= 60 {
			return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "date field value out of range: %d-%02d-%02d", a[0].(int64), mo, d)
		}
		return checkTimestamp(types.TimestampOf(t) + types.Timestamp(math.RoundToEven(s*1e6)))
	}))
	// make_interval(years, months, weeks, days, hours, mins, secs), any
	// number of leading arguments (named arguments are not supported).
	for n := 0; n <= 7; n++ {
		args := make([]types.Oid, n)
		for i := range args {
			args[i] = I4
		}
		if n == 7 {
			args[6] = F8
		}
		reg("make_interval", args, IV, fn(func(_ *EvalCtx, a []any) (any, error) {
			v := make([]float64, 7)
			for i, x := range a {
				if f, ok := x.(float64); ok {
					v[i] = f
				} else {
					v[i] = float64(x.(int64))
				}
			}
			iv := types.Interval{
				Months: int32(v[0]*12 + v[1]),
				Days:   int32(v[2]*7 + v[3]),
				Micros: int64(v[4])*usPerHour + int64(v[5])*usPerMin + int64(math.RoundToEven(v[6]*1e6)),
			}
			return iv, nil
		}))
	}
	// age: the symbolic difference in years, months and days.
	reg("age", []types.Oid{TS, TS}, IV, fn(func(_ *EvalCtx, a []any) (any, error) {
		return age(a[0].(types.Timestamp), a[1].(types.Timestamp), time.UTC)
	}))
	reg("age", []types.Oid{TZ, TZ}, IV, fn(func(ctx *EvalCtx, a []any) (any, error) {
		return age(a[0].(types.Timestamp), a[1].(types.Timestamp), loc(ctx))
	}))
	reg("age", []types.Oid{TS}, IV, fn(func(ctx *EvalCtx, a []any) (any, error) {
		today := types.DateOf(ctx.Env.Now.TimeOf(loc(ctx)))
		return age(dateToTs(today), a[0].(types.Timestamp), time.UTC)
	}))
	// date_trunc.
	reg("date_trunc", []types.Oid{types.OidText, TS}, TS, fn(func(_ *EvalCtx, a []any) (any, error) {
		return truncTimestamp(a[0].(string), a[1].(types.Timestamp), false, time.UTC)
	}))
	reg("date_trunc", []types.Oid{types.OidText, TZ}, TZ, fn(func(ctx *EvalCtx, a []any) (any, error) {
		return truncTimestamp(a[0].(string), a[1].(types.Timestamp), true, loc(ctx))
	}))
	reg("date_trunc", []types.Oid{types.OidText, TZ, types.OidText}, TZ, fn(func(ctx *EvalCtx, a []any) (any, error) {
		l, err := zoneNamed(a[2].(string))
		if err != nil {
			return nil, err
		}
		return truncTimestamp(a[0].(string), a[1].(types.Timestamp), true, l)
	}))
	reg("date_trunc", []types.Oid{types.OidText, IV}, IV, fn(func(_ *EvalCtx, a []any) (any, error) {
		return truncInterval(a[0].(string), a[1].(types.Interval))
	}))
	// extract (numeric) and date_part (float8).
	for _, t := range []types.Oid{D, T, TS, TZ, IV} {
		t := t
		reg("extract", []types.Oid{types.OidText, t}, types.OidNumeric, fn(func(ctx *EvalCtx, a []any) (any, error) {
			return extract(ctx, a[0].(string), t, a[1])
		}))
		reg("date_part", []types.Oid{types.OidText, t}, F8, fn(func(ctx *EvalCtx, a []any) (any, error) {
			at, v := t, a[1]
			if t == D {
				// date_part(text, date) is date_part(text, timestamp).
				at, v = TS, dateToTs(v.(types.Date))
			}
			d, err := extract(ctx, a[0].(string), at, v)
			if err != nil {
				return nil, err
			}
			return types.NumericToFloat(d.(*apd.Decimal)), nil
		}))
	}
	// AT TIME ZONE.
	reg("timezone", []types.Oid{types.OidText, TZ}, TS, fn(func(_ *EvalCtx, a []any) (any, error) {
		ts := a[1].(types.Timestamp)
		if !ts.IsFinite() {
			return ts, nil
		}
		l, err := zoneNamed(a[0].(string))
		if err != nil {
			return nil, err
		}
		return types.WallTimestamp(ts.TimeOf(l)), nil
	}))
	reg("timezone", []types.Oid{types.OidText, TS}, TZ, fn(func(_ *EvalCtx, a []any) (any, error) {
		ts := a[1].(types.Timestamp)
		if !ts.IsFinite() {
			return ts, nil
		}
		l, err := zoneNamed(a[0].(string))
		if err != nil {
			return nil, err
		}
		w := ts.TimeOf(time.UTC)
		return checkTimestamp(types.TimestampOf(time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), l)))
	}))
	reg("timezone", []types.Oid{IV, TZ}, TS, fn(func(_ *EvalCtx, a []any) (any, error) {
		ts, iv := a[1].(types.Timestamp), a[0].(types.Interval)
		if iv.Months != 0 || iv.Days != 0 {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "interval time zone \"%s\" must not include months or days", types.FormatInterval(iv))
		}
		if !ts.IsFinite() {
			return ts, nil
		}
		return checkTimestamp(ts + types.Timestamp(iv.Micros))
	}))
	reg("to_timestamp", []types.Oid{F8}, TZ, fn(func(_ *EvalCtx, a []any) (any, error) {
		f := a[0].(float64)
		switch {
		case math.IsNaN(f):
			return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "timestamp cannot be NaN")
		case math.IsInf(f, 1):
			return types.TimestampPosInfinity, nil
		case math.IsInf(f, -1):
			return types.TimestampNegInfinity, nil
		}
		us := math.RoundToEven((f - 946684800) * 1e6)
		if us < -9.2e18 || us > 9.2e18 || !types.TimestampInRange(types.Timestamp(us)) {
			return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "timestamp out of range: \"%s\"", types.Format(types.Float8Type, f, nil))
		}
		return types.Timestamp(us), nil
	}))
}

// zoneNamed resolves a time zone name as AT TIME ZONE takes it: a zone
// of the time zone database, UTC, or a POSIX-style offset ("+05" is
// five hours west of Greenwich, as Postgres reads it).
func zoneNamed(name string) (*time.Location, error) {
	switch strings.ToLower(name) {
	case "utc", "gmt", "z", "zulu":
		return time.UTC, nil
	}
	if l, err := time.LoadLocation(name); err == nil && name != "" && name != "Local" {
		return l, nil
	}
	return nil, pgerror.New(pgerror.InvalidParameterValue, "time zone \"%s\" not recognized", name)
}

// age is age(a, b): a - b in years, months and days, borrowing from the
// larger fields as Postgres does, computed on the wall clock in l.
func age(a, b types.Timestamp, l *time.Location) (any, error) {
	if !a.IsFinite() || !b.IsFinite() {
		return nil, pgerror.New(pgerror.DatetimeFieldOverflow, "cannot subtract infinite timestamps")
	}
	t1, t2 := a.TimeOf(l), b.TimeOf(l)
	neg := false
	if a < b {
		t1, t2, neg = t2, t1, true
	}
	us := int64(t1.Hour()-t2.Hour())*usPerHour + int64(t1.Minute()-t2.Minute())*usPerMin +
		int64(t1.Second()-t2.Second())*usPerSec + int64(t1.Nanosecond()-t2.Nanosecond())/1000
	days := t1.Day() - t2.Day()
	months := int(t1.Month()) - int(t2.Month())
	years := t1.Year() - t2.Year()
	if us < 0 {
		us += usPerDay
		days--
	}
	if days < 0 {
		// Borrow the length of t2's month, as Postgres does.
		days += time.Date(t2.Year(), t2.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
		months--
	}
	if months < 0 {
		months += 12
		years--
	}
	iv := types.Interval{Months: int32(years*12 + months), Days: int32(days), Micros: us}
	if neg {
		return negInterval(iv)
	}
	return iv, nil
}
