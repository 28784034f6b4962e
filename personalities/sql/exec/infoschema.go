package exec

import (
	"strconv"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/types"
)

// The views of information_schema, over the catalog. Columns of the SQL
// standard's domains are typed by their base types (sql_identifier as
// name, character_data and yes_or_no as varchar, cardinal_number as
// int4). Views count as updatable (Postgres's simple views are).
// columns lists the user relations' columns with the leading
// columns of Postgres's view; table_constraints lists no NOT NULL
// constraints.

func init() {
	is := catalog.InformationSchemaNamespace
	registerSys(is, 13100, 'v', "schemata", "catalog_name name, schema_name name, schema_owner name, default_character_set_catalog name, default_character_set_schema name, default_character_set_name name, sql_path varchar", isSchemata)
	registerSys(is, 13101, 'v', "tables", "table_catalog name, table_schema name, table_name name, table_type varchar, self_referencing_column_name name, reference_generation varchar, user_defined_type_catalog name, user_defined_type_schema name, user_defined_type_name name, is_insertable_into varchar, is_typed varchar, commit_action varchar", isTables)
	registerSys(is, 13102, 'v', "columns", "table_catalog name, table_schema name, table_name name, column_name name, ordinal_position int4, column_default varchar, is_nullable varchar, data_type varchar, character_maximum_length int4, character_octet_length int4, numeric_precision int4, numeric_precision_radix int4, numeric_scale int4, datetime_precision int4, udt_catalog name, udt_schema name, udt_name name, is_identity varchar, identity_generation varchar, is_generated varchar, is_updatable varchar", isColumns)
	registerSys(is, 13103, 'v', "table_constraints", "constraint_catalog name, constraint_schema name, constraint_name name, table_catalog name, table_schema name, table_name name, constraint_type varchar, is_deferrable varchar, initially_deferred varchar, enforced varchar, nulls_distinct varchar", isTableConstraints)
	registerSys(is, 13104, 'v', "key_column_usage", "constraint_catalog name, constraint_schema name, constraint_name name, table_catalog name, table_schema name, table_name name, column_name name, ordinal_position int4, position_in_unique_constraint int4", isKeyColumnUsage)
	registerSys(is, 13105, 'v', "views", "table_catalog name, table_schema name, table_name name, view_definition varchar, check_option varchar, is_updatable varchar, is_insertable_into varchar, is_trigger_updatable varchar, is_trigger_deletable varchar, is_trigger_insertable_into varchar", isViews)
	registerSys(is, 13106, 'v', "sequences", "sequence_catalog name, sequence_schema name, sequence_name name, data_type varchar, numeric_precision int4, numeric_precision_radix int4, numeric_scale int4, start_value varchar, minimum_value varchar, maximum_value varchar, increment varchar, cycle_option varchar", isSequences)
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

func (g *sysGen) schemaName(oid catalog.Oid) string {
	if s := g.cat.Object(oid); s != nil {
		return s.Name
	}
	return ""
}

func (g *sysGen) roleName(oid catalog.Oid) string {
	if r := g.cat.Object(oid); r != nil {
		return r.Name
	}
	return ""
}

func isSchemata(g *sysGen) ([]Row, error) {
	var rows []Row
	for _, s := range g.objectsOfKind("schema") {
		rows = append(rows, Row{g.env.Session.Database, s.Name, g.roleName(ownerOf(s)), nil, nil, nil, nil})
	}
	return rows, nil
}

func isTables(g *sysGen) ([]Row, error) {
	db := g.env.Session.Database
	row := func(schema, name string, kind byte) Row {
		typ := "BASE TABLE"
		if kind == catalog.RelView {
			typ = "VIEW"
		}
		return Row{db, schema, name, typ, nil, nil, nil, nil, nil, "YES", "NO", nil}
	}
	var rows []Row
	for _, t := range sysAll() {
		r := row(g.schemaName(t.Schema), t.Name, t.Kind)
		if t.Foreign != nil {
			r[9] = "NO" // is_insertable_into
		}
		rows = append(rows, r)
	}
	for _, o := range g.relations() {
		if o.RelKind == catalog.RelTable || o.RelKind == catalog.RelView {
			rows = append(rows, row(g.schemaName(o.Schema), o.Name, o.RelKind))
		}
	}
	return rows, nil
}

// dataType is a column type as information_schema.columns.data_type
// names it.
func dataType(t types.Oid) string {
	switch {
	case types.ElemOf(t) != 0 && t != types.OidName && t != types.OidInt2Vector && t != types.OidOidVector:
		return "ARRAY"
	case t == types.OidBpchar:
		return "character"
	}
	return types.FormatType(t, -1)
}

func isColumns(g *sysGen) ([]Row, error) {
	db := g.env.Session.Database
	var rows []Row
	for _, o := range g.relations() {
		if o.RelKind != catalog.RelTable && o.RelKind != catalog.RelView {
			continue
		}
		schema := g.schemaName(o.Schema)
		pos := 0
		for _, c := range o.LiveColumns() {
			pos++
			var def any
			if c.Default != "" && c.Identity == 0 {
				def = c.Default
			}
			m := columnMeasures(c.Type.Oid, c.Type.Mod)
			var gen any
			if c.Identity == 'a' {
				gen = "ALWAYS"
			} else if c.Identity == 'd' {
				gen = "BY DEFAULT"
			}
			rows = append(rows, append(append(Row{db, schema, o.Name, c.Name, int64(pos), def, yesNo(!c.NotNull), dataType(c.Type.Oid)}, m...),
				db, "pg_catalog", udtName(c.Type.Oid), yesNo(c.Identity != 0), gen, "NEVER", "YES"))
		}
	}
	// The system schemas' views, which cannot be written.
	for _, t := range sysAll() {
		if t.Foreign == nil {
			continue
		}
		for i, c := range t.Cols {
			rows = append(rows, append(append(Row{db, g.schemaName(t.Schema), t.Name, c.Name, int64(i + 1), nil, "YES", dataType(c.T.Oid)}, columnMeasures(c.T.Oid, -1)...),
				db, "pg_catalog", udtName(c.T.Oid), "NO", nil, "NEVER", "NO"))
		}
	}
	return rows, nil
}

// columnMeasures are a column type's character_maximum_length,
// character_octet_length, numeric_precision, numeric_precision_radix,
// numeric_scale and datetime_precision in information_schema.columns.
func columnMeasures(t types.Oid, mod int32) []any {
	var charLen, octetLen, prec, radix, scale, dtPrec any
	switch t {
	case types.OidVarchar, types.OidBpchar, types.OidText:
		octetLen = int64(1073741824)
		if mod >= 4 {
			charLen, octetLen = int64(mod-4), int64(mod-4)*4
		}
	case types.OidInt2, types.OidInt4, types.OidInt8:
		prec, radix, scale = int64(map[types.Oid]int{types.OidInt2: 16, types.OidInt4: 32, types.OidInt8: 64}[t]), int64(2), int64(0)
	case types.OidFloat4, types.OidFloat8:
		prec, radix = int64(map[types.Oid]int{types.OidFloat4: 24, types.OidFloat8: 53}[t]), int64(2)
	case types.OidNumeric:
		radix = int64(10)
		if mod >= 4 {
			prec, scale = int64(((mod-4)>>16)&0xffff), int64(int16((mod-4)&0xffff))
		}
	case types.OidDate:
		dtPrec = int64(0)
	case types.OidTime, types.OidTimetz, types.OidTimestamp, types.OidTimestamptz, types.OidInterval:
		dtPrec = int64(6)
		if mod >= 0 {
			dtPrec = int64(mod)
		}
	}
	return []any{charLen, octetLen, prec, radix, scale, dtPrec}
}

// udtName is a type's udt_name.
func udtName(t types.Oid) string {
	if info := types.Lookup(t); info != nil {
		return info.Name
	}
	return ""
}

var constraintTypes = map[byte]string{'p': "PRIMARY KEY", 'u': "UNIQUE", 'c': "CHECK", 'f': "FOREIGN KEY"}

func isTableConstraints(g *sysGen) ([]Row, error) {
	db := g.env.Session.Database
	var rows []Row
	for _, o := range g.relations() {
		schema := g.schemaName(o.Schema)
		for _, c := range o.Constraints {
			var nullsDistinct any
			if c.Kind == 'u' {
				nullsDistinct = "YES"
			}
			rows = append(rows, Row{db, schema, c.Name, db, schema, o.Name, constraintTypes[c.Kind], yesNo(c.Deferrable), yesNo(c.Deferred), "YES", nullsDistinct})
		}
	}
	return rows, nil
}

func isKeyColumnUsage(g *sysGen) ([]Row, error) {
	db := g.env.Session.Database
	var rows []Row
	for _, o := range g.relations() {
		schema := g.schemaName(o.Schema)
		for _, c := range o.Constraints {
			if c.Kind != 'p' && c.Kind != 'u' && c.Kind != 'f' {
				continue
			}
			for i, num := range c.Columns {
				col := o.Column(num)
				if col == nil {
					continue
				}
				var inUnique any
				if c.Kind == 'f' {
					inUnique = int64(i + 1)
				}
				rows = append(rows, Row{db, schema, c.Name, db, schema, o.Name, col.Name, int64(i + 1), inUnique})
			}
		}
	}
	return rows, nil
}

func isViews(g *sysGen) ([]Row, error) {
	db := g.env.Session.Database
	var rows []Row
	for _, o := range g.relations() {
		if o.RelKind == catalog.RelView {
			rows = append(rows, Row{db, g.schemaName(o.Schema), o.Name, o.ViewQuery, "NONE", "YES", "YES", "NO", "NO", "NO"})
		}
	}
	return rows, nil
}

func isSequences(g *sysGen) ([]Row, error) {
	db := g.env.Session.Database
	var rows []Row
	for _, o := range g.relations() {
		q := o.Sequence
		if o.RelKind != catalog.RelSequence || q == nil {
			continue
		}
		prec := map[types.Oid]int64{types.OidInt2: 16, types.OidInt4: 32, types.OidInt8: 64}[q.Type]
		i := strconv.FormatInt
		rows = append(rows, Row{db, g.schemaName(o.Schema), o.Name, types.FormatType(q.Type, -1), prec, int64(2), int64(0),
			i(q.Start, 10), i(q.Min, 10), i(q.Max, 10), i(q.Increment, 10), yesNo(q.Cycle)})
	}
	return rows, nil
}
