package sql

import (
	"strconv"
	"strings"
	"time"

	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/pgerror"
)

// Run-time parameters a session has, as SET and SHOW see them. The ones
// the types package uses live in the session's types.Settings; the rest in
// its Settings map.

// reported are the parameters a ParameterStatus message reports, at
// startup and whenever they change.
var reported = []string{
	"application_name", "client_encoding", "DateStyle", "default_transaction_read_only",
	"in_hot_standby", "integer_datetimes", "IntervalStyle", "is_superuser", "server_encoding",
	"server_version", "session_authorization", "standard_conforming_strings", "TimeZone",
}

// fixed are read-only parameters and their values (server_version is the
// server's).
var fixed = map[string]string{
	"server_encoding":       "UTF8",
	"integer_datetimes":     "on",
	"in_hot_standby":        "off",
	"max_identifier_length": "63",
	"lc_collate":            "C",
	"lc_ctype":              "C",
	"block_size":            "8192",
	"server_version_num":    "150008",
	"data_checksums":        "off",
	"max_connections":       "100",
	"wal_level":             "replica",
}

// defaults are the settable parameters beyond the types settings, with
// their initial values.
var defaults = map[string]string{
	"application_name":                    "",
	"client_encoding":                     "UTF8",
	"standard_conforming_strings":         "on",
	"statement_timeout":                   "0",
	"lock_timeout":                        "0",
	"idle_in_transaction_session_timeout": "0",
	"transaction_isolation":               "serializable",
	"default_transaction_isolation":       "serializable",
	"transaction_read_only":               "off",
	"default_transaction_read_only":       "off",
	"client_min_messages":                 "notice",
	"synchronous_commit":                  "on",
	"lc_messages":                         "C",
	"lc_monetary":                         "C",
	"lc_numeric":                          "C",
	"lc_time":                             "C",
	"row_security":                        "on",
	"enable_seqscan":                      "on",
	"jit":                                 "off",
	"work_mem":                            "4MB",
	"maintenance_work_mem":                "64MB",
	"search_path":                         `"$user", public`,
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// canonical maps lower-case parameter names to their canonical spelling.
func canonical(name string) string {
	for _, n := range reported {
		if strings.EqualFold(n, name) {
			return n
		}
	}
	return name
}

// param returns a parameter's value as SHOW prints it.
func (ss *session) param(name string) (string, bool) {
	t := ss.sess.Types
	switch name {
	case "timezone":
		return t.TimeZoneName, true
	case "datestyle":
		return t.DateStyle, true
	case "intervalstyle":
		return t.IntervalStyle, true
	case "extra_float_digits":
		return strconv.Itoa(t.ExtraFloatDigits), true
	case "bytea_output":
		return t.ByteaOutput, true
	case "search_path":
		return formatSearchPath(ss.sess.SearchPath), true
	case "server_version":
		return ss.s.cfg.ServerVersion, true
	case "is_superuser":
		return "on", true
	case "session_authorization":
		return ss.sess.User, true
	case "transaction_isolation", "default_transaction_isolation":
		return "serializable", true
	case "transaction_read_only":
		return onOff(ss.readOnly()), true
	}
	if v, ok := fixed[name]; ok {
		return v, true
	}
	if v, ok := ss.sess.Settings[name]; ok {
		return v, true
	}
	v, ok := defaults[name]
	return v, ok
}

func formatSearchPath(p []string) string {
	parts := make([]string, len(p))
	for i, s := range p {
		if s == "$user" {
			parts[i] = `"$user"`
		} else {
			parts[i] = s
		}
	}
	return strings.Join(parts, ", ")
}

// setParam sets a parameter (RESET restores its default).
func (ss *session) setParam(name string, args []string, kind pg.VariableSetKind) error {
	reset := kind == pg.VariableSetKind_VAR_RESET || kind == pg.VariableSetKind_VAR_SET_DEFAULT
	if kind == pg.VariableSetKind_VAR_RESET_ALL {
		base := newSession(ss.s, ss.sess.User, ss.sess.Database)
		ss.sess.Types, ss.sess.SearchPath, ss.sess.Settings = base.sess.Types, base.sess.SearchPath, base.sess.Settings
		return nil
	}
	if kind == pg.VariableSetKind_VAR_SET_MULTI {
		return nil // SET TRANSACTION: see session.setTransaction
	}
	val := strings.Join(args, ", ")
	t := ss.sess.Types
	switch name {
	case "timezone":
		if reset {
			val = "UTC"
		}
		loc, err := loadZone(val)
		if err != nil {
			return pgerror.New(pgerror.InvalidParameterValue, "invalid value for parameter \"TimeZone\": \"%s\"", val)
		}
		t.Location, t.TimeZoneName = loc, val
	case "datestyle":
		if reset {
			val = "ISO, MDY"
		}
		t.DateStyle = normalizeDateStyle(val, t.DateStyle)
	case "intervalstyle":
		if reset {
			val = "postgres"
		}
		switch val {
		case "postgres", "postgres_verbose", "sql_standard", "iso_8601":
			t.IntervalStyle = val
		default:
			return pgerror.New(pgerror.InvalidParameterValue, "invalid value for parameter \"IntervalStyle\": \"%s\"", val)
		}
	case "extra_float_digits":
		if reset {
			val = "1"
		}
		n, err := strconv.Atoi(val)
		if err != nil || n < -15 || n > 3 {
			return pgerror.New(pgerror.InvalidParameterValue, "invalid value for parameter \"extra_float_digits\": \"%s\"", val)
		}
		t.ExtraFloatDigits = n
	case "bytea_output":
		if reset {
			val = "hex"
		}
		if val != "hex" && val != "escape" {
			return pgerror.New(pgerror.InvalidParameterValue, "invalid value for parameter \"bytea_output\": \"%s\"", val)
		}
		t.ByteaOutput = val
	case "search_path":
		if reset {
			ss.sess.SearchPath = []string{"$user", "public"}
			return nil
		}
		ss.sess.SearchPath = append([]string(nil), args...)
	case "client_encoding":
		if !reset && !strings.EqualFold(strings.ReplaceAll(val, "-", ""), "UTF8") && !strings.EqualFold(val, "unicode") {
			return pgerror.New(pgerror.FeatureNotSupported, "conversion between %s and UTF8 is not supported", val)
		}
	case "standard_conforming_strings":
		if !reset && val != "on" && val != "true" {
			return pgerror.New(pgerror.FeatureNotSupported, "non-standard string literals are not supported")
		}
	case "transaction_isolation", "default_transaction_isolation":
		// Every level runs serializable; SHOW says so.
	default:
		if _, ok := fixed[name]; ok {
			return pgerror.New(pgerror.CantChangeRuntimeParam, "parameter \"%s\" cannot be changed", name)
		}
		if _, ok := defaults[name]; !ok {
			return pgerror.New(pgerror.UndefinedObject, "unrecognized configuration parameter \"%s\"", name)
		}
		if reset {
			delete(ss.sess.Settings, name)
		} else {
			ss.sess.Settings[name] = val
		}
	}
	return nil
}

// loadZone resolves a TimeZone setting: a zone name, or a numeric offset
// in hours (as Postgres takes "-5" to mean UTC-5, POSIX-style names
// aside).
func loadZone(name string) (*time.Location, error) {
	if strings.EqualFold(name, "utc") || strings.EqualFold(name, "gmt") || name == "Z" {
		return time.UTC, nil
	}
	if h, err := strconv.ParseFloat(name, 64); err == nil {
		return time.FixedZone(name, int(h*3600)), nil
	}
	return time.LoadLocation(name)
}

// normalizeDateStyle merges a DateStyle setting ("ISO", "German, DMY")
// into the current one, as Postgres prints it ("ISO, MDY").
func normalizeDateStyle(val, cur string) string {
	format, order := "ISO", "MDY"
	if f, o, ok := strings.Cut(cur, ", "); ok {
		format, order = f, o
	}
	for _, part := range strings.Split(val, ",") {
		switch strings.ToUpper(strings.TrimSpace(part)) {
		case "ISO":
			format = "ISO"
		case "SQL":
			format = "SQL"
		case "POSTGRES":
			format = "Postgres"
		case "GERMAN":
			format, order = "German", "DMY"
		case "DMY", "EURO", "EUROPEAN":
			order = "DMY"
		case "MDY", "US", "NONEURO", "NONEUROPEAN":
			order = "MDY"
		case "YMD":
			order = "YMD"
		}
	}
	return format + ", " + order
}
