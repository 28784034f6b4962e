package catalog

import "strings"

// Postgres 15's keywords that are not unreserved: quote_ident quotes them.
var keywords = map[string]bool{}

func init() {
	for _, k := range strings.Fields(`all analyse analyze and any array as asc asymmetric both case cast
	check collate column constraint create current_catalog current_date current_role current_time
	current_timestamp current_user default deferrable desc distinct do else end except false fetch
	for foreign from grant group having in initially intersect into lateral leading limit localtime
	localtimestamp not null offset on only or order placing primary references returning select
	session_user some symmetric table then to trailing true union unique user using variadic when
	where window with
	authorization binary collation concurrently cross current_schema freeze full ilike inner is
	isnull join left like natural notnull outer overlaps right similar tablesample verbose
	between bigint bit boolean char character coalesce dec decimal exists extract float greatest
	grouping inout int integer interval least national nchar none normalize nullif numeric out
	overlay position precision real row setof smallint substring time timestamp treat trim values
	varchar xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi
	xmlroot xmlserialize xmltable`) {
		keywords[k] = true
	}
}

// isReservedKeyword reports whether s is a keyword quote_ident quotes.
func isReservedKeyword(s string) bool { return keywords[s] }
