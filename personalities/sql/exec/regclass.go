package exec

import (
	"strconv"
	"strings"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// The reg* types name catalog objects: their text forms are names,
// resolved against the catalog, which package types does not see.

// isRegType reports whether t is one of the object-name types.
func isRegType(t types.Oid) bool { return types.IsRegType(t) }

// SplitQualifiedName splits "a.b" or "\"A\".b" into parts, lower-casing
// unquoted ones, as Postgres reads a name given as text.
func SplitQualifiedName(s string) ([]string, error) {
	var parts []string
	var cur strings.Builder
	quoted, inQuote := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '"' && i+1 < len(s) && s[i+1] == '"':
			cur.WriteByte('"')
			i++
		case c == '"':
			inQuote = !inQuote
			quoted = true
		case !inQuote && c == '.':
			parts = append(parts, finishPart(cur.String(), quoted))
			cur.Reset()
			quoted = false
		default:
			cur.WriteByte(c)
		}
	}
	if inQuote {
		return nil, pgerror.New(pgerror.InvalidName, "invalid name syntax")
	}
	parts = append(parts, finishPart(cur.String(), quoted))
	for _, p := range parts {
		if p == "" {
			return nil, pgerror.New(pgerror.InvalidName, "invalid name syntax")
		}
	}
	return parts, nil
}

func finishPart(s string, quoted bool) string {
	if quoted {
		return s
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// regInput reads the text form of a reg* value: a number, or a name.
func regInput(cat *catalog.Catalog, sess *Session, t types.Oid, text string) (int64, error) {
	if n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64); err == nil {
		return n, nil
	}
	switch t {
	case types.OidRegclass:
		parts, err := SplitQualifiedName(text)
		if err != nil {
			return 0, err
		}
		schema, name := "", parts[len(parts)-1]
		if len(parts) > 1 {
			schema = parts[len(parts)-2]
		}
		path := cat.SearchPath(sess.SearchPath, sess.User)
		if t := lookupSys(cat, schema, name, path); t != nil {
			return int64(t.Oid), nil
		}
		o, err := cat.Resolve(schema, name, path)
		if err != nil {
			return 0, err
		}
		if o == nil {
			return 0, pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", text)
		}
		return int64(o.Oid), nil
	case types.OidRegnamespace:
		if s := cat.Schema(text); s != nil {
			return int64(s.Oid), nil
		}
		return 0, pgerror.New(pgerror.InvalidSchemaName, "schema \"%s\" does not exist", text)
	case types.OidRegtype:
		return regtypeInput(text)
	case types.OidRegproc, types.OidRegprocedure:
		return regprocInput(text)
	case types.OidRegrole:
		if r := cat.Role(text); r != nil {
			return int64(r.Oid), nil
		}
		return 0, pgerror.New(pgerror.UndefinedObject, "role \"%s\" does not exist", text)
	}
	return 0, pgerror.New(pgerror.FeatureNotSupported, "input of type %s is not supported", types.FormatType(t, -1))
}
