package exec

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// to_char, to_date and to_timestamp with the common date/time template
// patterns: YYYY YYY YY Y MM DD DDD D HH HH12 HH24 MI SS MS US AM PM am pm
// Q Month MONTH month Mon MON mon Day DAY day Dy DY dy TZ tz OF, the FM
// prefix, "quoted text" and other characters copied. Not built: the
// numeric templates of to_char(numeric, text), week numbers (WW IW), J,
// ordinal suffixes (TH), and FX exact matching.

// dtPatterns lists the patterns, longest first where one is a prefix of
// another.
var dtPatterns = []string{
	"HH24", "HH12", "HH", "MI", "SS", "MS", "US",
	"YYYY", "YYY", "YY", "Y", "MONTH", "Month", "month", "MON", "Mon", "mon", "MM",
	"DAY", "Day", "day", "DY", "Dy", "dy", "DDD", "DD", "D", "AM", "PM", "am", "pm", "Q", "TZ", "tz", "OF",
}

type dtItem struct {
	pat string // a pattern, or "" for literal text
	lit string
	fm  bool
}

func caseVariant(p string) bool {
	switch strings.ToUpper(p) {
	case "MONTH", "MON", "DAY", "DY", "AM", "PM", "TZ":
		return true
	}
	return false
}

func parseTemplate(f string) []dtItem {
	var items []dtItem
	for i := 0; i < len(f); {
		fm := false
		if strings.HasPrefix(f[i:], "FM") || strings.HasPrefix(f[i:], "fm") {
			fm = true
			i += 2
		}
		matched := false
		for _, p := range dtPatterns {
			// Names, AM/PM and TZ print in the case they are written;
			// the others match in any case.
			if strings.HasPrefix(f[i:], p) || !caseVariant(p) && len(f)-i >= len(p) && strings.ToUpper(f[i:i+len(p)]) == p {
				items = append(items, dtItem{pat: p, fm: fm})
				i += len(p)
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		switch {
		case f[i] == '"':
			j := i + 1
			var sb strings.Builder
			for j < len(f) && f[j] != '"' {
				if f[j] == '\\' && j+1 < len(f) {
					j++
				}
				sb.WriteByte(f[j])
				j++
			}
			items = append(items, dtItem{lit: sb.String()})
			i = j + 1
		default:
			items = append(items, dtItem{lit: f[i : i+1]})
			i++
		}
	}
	return items
}

// casedName prints a month or day name in the pattern's case, padded to
// width unless fm.
func casedName(name, pat string, width int, fm bool) string {
	switch {
	case pat == strings.ToUpper(pat):
		name = strings.ToUpper(name)
	case pat == strings.ToLower(pat):
		name = strings.ToLower(name)
	}
	if !fm && len(name) < width {
		name += strings.Repeat(" ", width-len(name))
	}
	return name
}

func padNum(n int64, width int, fm bool) string {
	if fm {
		return strconv.FormatInt(n, 10)
	}
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprintf("%0*d", width, n)
	if neg {
		s = "-" + s
	}
	return s
}

// toChar formats a wall-clock time t (with zone abbreviation and offset
// for timestamptz).
func toChar(t time.Time, us int64, format string, tz bool) string {
	var b strings.Builder
	y := t.Year()
	if y <= 0 {
		y = 1 - y
	}
	h12 := t.Hour() % 12
	if h12 == 0 {
		h12 = 12
	}
	for _, it := range parseTemplate(format) {
		if it.pat == "" {
			b.WriteString(it.lit)
			continue
		}
		switch it.pat {
		case "YYYY":
			b.WriteString(padNum(int64(y), 4, it.fm))
		case "YYY":
			b.WriteString(padNum(int64(y%1000), 3, it.fm))
		case "YY":
			b.WriteString(padNum(int64(y%100), 2, it.fm))
		case "Y":
			b.WriteString(padNum(int64(y%10), 1, it.fm))
		case "MM":
			b.WriteString(padNum(int64(t.Month()), 2, it.fm))
		case "DD":
			b.WriteString(padNum(int64(t.Day()), 2, it.fm))
		case "DDD":
			b.WriteString(padNum(int64(t.YearDay()), 3, it.fm))
		case "D":
			b.WriteString(strconv.Itoa(int(t.Weekday()) + 1))
		case "HH", "HH12":
			b.WriteString(padNum(int64(h12), 2, it.fm))
		case "HH24":
			b.WriteString(padNum(int64(t.Hour()), 2, it.fm))
		case "MI":
			b.WriteString(padNum(int64(t.Minute()), 2, it.fm))
		case "SS":
			b.WriteString(padNum(int64(t.Second()), 2, it.fm))
		case "MS":
			b.WriteString(padNum(us/1000, 3, it.fm))
		case "US":
			b.WriteString(padNum(us, 6, it.fm))
		case "AM", "PM", "am", "pm":
			s := "AM"
			if t.Hour() >= 12 {
				s = "PM"
			}
			if it.pat[0] >= 'a' {
				s = strings.ToLower(s)
			}
			b.WriteString(s)
		case "Q":
			b.WriteString(strconv.Itoa((int(t.Month())-1)/3 + 1))
		case "MONTH", "Month", "month":
			b.WriteString(casedName(t.Month().String(), it.pat, 9, it.fm))
		case "MON", "Mon", "mon":
			b.WriteString(casedName(t.Month().String()[:3], it.pat, 3, it.fm))
		case "DAY", "Day", "day":
			b.WriteString(casedName(t.Weekday().String(), it.pat, 9, it.fm))
		case "DY", "Dy", "dy":
			b.WriteString(casedName(t.Weekday().String()[:3], it.pat, 3, it.fm))
		case "TZ", "tz":
			if tz {
				name, _ := t.Zone()
				if it.pat == "tz" {
					name = strings.ToLower(name)
				}
				b.WriteString(name)
			}
		case "OF":
			if tz {
				_, off := t.Zone()
				b.Write(types.AppendOffset(nil, off))
			}
		}
	}
	return b.String()
}

// fromChar reads text by a template, as to_timestamp and to_date do.
func fromChar(text, format string, l *time.Location, typ string) (time.Time, error) {
	y, mo, d := 1, 1, 1
	h, mi, s := 0, 0, 0
	us := int64(0)
	pm, hasAmPm := false, false
	pos := 0
	skipSpaces := func() {
		for pos < len(text) && text[pos] == ' ' {
			pos++
		}
	}
	num := func(width int, name string) (int, error) {
		skipSpaces()
		start := pos
		if pos < len(text) && (text[pos] == '-' || text[pos] == '+') {
			pos++
		}
		for pos < len(text) && isDigitByte(text[pos]) && (width <= 0 || pos-start < width) {
			pos++
		}
		if pos == start {
			rest := text[start:]
			return 0, pgerror.New(pgerror.InvalidDatetimeFormat, "invalid value \"%s\" for \"%s\"", firstWord(rest), name).
				WithDetail("Value must be an integer.")
		}
		n, err := strconv.Atoi(text[start:pos])
		if err != nil {
			return 0, pgerror.New(pgerror.InvalidDatetimeFormat, "invalid value \"%s\" for \"%s\"", text[start:pos], name)
		}
		return n, nil
	}
	name := func(names []string, n int, pat string) (int, error) {
		skipSpaces()
		for i, full := range names {
			cand := full
			if n > 0 {
				cand = full[:n]
			}
			if len(text)-pos >= len(cand) && strings.EqualFold(text[pos:pos+len(cand)], cand) {
				pos += len(cand)
				return i, nil
			}
		}
		return 0, pgerror.New(pgerror.InvalidDatetimeFormat, "invalid value \"%s\" for \"%s\"", firstWord(text[pos:]), pat).
			WithDetail("The given value did not match any of the allowed values for this field.")
	}
	months := make([]string, 12)
	for i := range months {
		months[i] = time.Month(i + 1).String()
	}
	days := make([]string, 7)
	for i := range days {
		days[i] = time.Weekday(i).String()
	}
	var err error
	items := parseTemplate(format)
	for k, it := range items {
		// A year runs to the next separator, or is four digits when
		// another field follows at once.
		yearWidth := 0
		if k+1 < len(items) && items[k+1].pat != "" {
			yearWidth = 4
		}
		if it.pat == "" {
			// A literal character skips one input character (spaces
			// match any run of spaces).
			for range it.lit {
				if pos < len(text) {
					if text[pos] == ' ' {
						skipSpaces()
					} else {
						pos++
					}
				}
			}
			continue
		}
		switch it.pat {
		case "YYYY":
			y, err = num(yearWidth, it.pat)
		case "YYY", "YY", "Y":
			y, err = num(len(it.pat), it.pat)
			if err == nil && len(it.pat) == 2 {
				if y < 70 {
					y += 2000
				} else if y < 100 {
					y += 1900
				}
			}
		case "MM":
			mo, err = num(2, it.pat)
		case "DD":
			d, err = num(2, it.pat)
		case "HH", "HH12", "HH24":
			h, err = num(2, it.pat)
		case "MI":
			mi, err = num(2, it.pat)
		case "SS":
			s, err = num(2, it.pat)
		case "MS":
			var v int
			v, err = num(3, it.pat)
			us += int64(v) * 1000
		case "US":
			var v int
			v, err = num(6, it.pat)
			us += int64(v)
		case "AM", "PM", "am", "pm":
			var i int
			i, err = name([]string{"AM", "PM"}, 0, it.pat)
			pm, hasAmPm = i == 1, true
		case "MONTH", "Month", "month":
			var i int
			i, err = name(months, 0, it.pat)
			mo = i + 1
		case "MON", "Mon", "mon":
			var i int
			i, err = name(months, 3, it.pat)
			mo = i + 1
		case "DAY", "Day", "day":
			_, err = name(days, 0, it.pat)
		case "DY", "Dy", "dy":
			_, err = name(days, 3, it.pat)
		default:
			return time.Time{}, pgerror.New(pgerror.FeatureNotSupported, "formatting field \"%s\" is only supported in to_char", it.pat)
		}
		if err != nil {
			return time.Time{}, err
		}
	}
	if hasAmPm {
		if h < 1 || h > 12 {
			return time.Time{}, pgerror.New(pgerror.InvalidDatetimeFormat, "hour \"%d\" is invalid for the 12-hour clock", h).
				WithHint("Use the 24-hour clock, or give an hour between 1 and 12.")
		}
		if pm && h < 12 {
			h += 12
		} else if !pm && h == 12 {
			h = 0
		}
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || s > 60 {
		return time.Time{}, pgerror.New(pgerror.DatetimeFieldOverflow, "date/time field value out of range: \"%s\"", text)
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, int(us)*1000, l)
	if t.Day() != d {
		return time.Time{}, pgerror.New(pgerror.DatetimeFieldOverflow, "date/time field value out of range: \"%s\"", text)
	}
	return t, nil
}

func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }

func firstWord(s string) string {
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[:i]
	}
	return s
}

func init() {
	TX := types.OidText
	for _, t := range []types.Oid{types.OidTimestamp, types.OidTimestamptz} {
		tz := t == types.OidTimestamptz
		RegisterFunc(&Func{Name: "to_char", Args: []types.Oid{t, TX}, Ret: TX, Strict: true, Fn: func(ctx *EvalCtx, a []any) (any, error) {
			ts := a[0].(types.Timestamp)
			if !ts.IsFinite() {
				return nil, nil
			}
			l := time.UTC
			if tz {
				l = loc(ctx)
			}
			w := ts.TimeOf(l)
			return toChar(w, int64(w.Nanosecond()/1000), a[1].(string), tz), nil
		}})
	}
	RegisterFunc(&Func{Name: "to_char", Args: []types.Oid{types.OidInterval, TX}, Ret: TX, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		iv := a[0].(types.Interval)
		us := iv.Micros
		w := time.Date(int(iv.Months/12), time.Month(iv.Months%12+1), int(iv.Days), int(us/usPerHour), int(us/usPerMin%60), int(us/usPerSec%60), 0, time.UTC)
		return toChar(w, us%usPerSec, a[1].(string), false), nil
	}})
	RegisterFunc(&Func{Name: "to_timestamp", Args: []types.Oid{TX, TX}, Ret: types.OidTimestamptz, Strict: true, Fn: func(ctx *EvalCtx, a []any) (any, error) {
		t, err := fromChar(a[0].(string), a[1].(string), loc(ctx), "timestamp")
		if err != nil {
			return nil, err
		}
		return checkTimestamp(types.TimestampOf(t))
	}})
	RegisterFunc(&Func{Name: "to_date", Args: []types.Oid{TX, TX}, Ret: types.OidDate, Strict: true, Fn: func(_ *EvalCtx, a []any) (any, error) {
		t, err := fromChar(a[0].(string), a[1].(string), time.UTC, "date")
		if err != nil {
			return nil, err
		}
		return types.DateOf(t), nil
	}})
}
