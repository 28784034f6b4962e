package exec

import (
	"sort"
	"strings"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/types"
)

// The tables and views of pg_catalog, with Postgres 15's columns and, for
// the built-in rows, its OIDs. User relations get no row type (reltype 0)
// and no TOAST table; statistics columns hold a never-analyzed table's
// values.

// Catalog OIDs of the system relations that pg_description and pg_depend
// rows name in classoid/refclassid.
const (
	relPgClass      catalog.Oid = 1259
	relPgNamespace  catalog.Oid = 2615
	relPgConstraint catalog.Oid = 2606
	relPgType       catalog.Oid = 1247
	relPgProc       catalog.Oid = 1255
	relPgAttrdef    catalog.Oid = 2604
)

// Access methods.
const (
	amHeap  catalog.Oid = 2
	amBtree catalog.Oid = 403
)

// Collations.
const (
	collDefault catalog.Oid = 100
	collC       catalog.Oid = 950
)

func init() {
	pgc := catalog.PgCatalogNamespace
	registerSys(pgc, 2615, 'r', "pg_namespace", "oid oid, nspname name, nspowner oid, nspacl _aclitem", pgNamespace)
	registerSys(pgc, relPgClass, 'r', "pg_class", "oid oid, relname name, relnamespace oid, reltype oid, reloftype oid, relowner oid, relam oid, relfilenode oid, reltablespace oid, relpages int4, reltuples float4, relallvisible int4, reltoastrelid oid, relhasindex bool, relisshared bool, relpersistence char, relkind char, relnatts int2, relchecks int2, relhasrules bool, relhastriggers bool, relhassubclass bool, relrowsecurity bool, relforcerowsecurity bool, relispopulated bool, relreplident char, relispartition bool, relrewrite oid, relfrozenxid xid, relminmxid xid, relacl _aclitem, reloptions _text, relpartbound pg_node_tree", pgClass)
	registerSys(pgc, 1249, 'r', "pg_attribute", "attrelid oid, attname name, atttypid oid, attstattarget int4, attlen int2, attnum int2, attndims int4, attcacheoff int4, atttypmod int4, attbyval bool, attalign char, attstorage char, attcompression char, attnotnull bool, atthasdef bool, atthasmissing bool, attidentity char, attgenerated char, attisdropped bool, attislocal bool, attinhcount int4, attcollation oid, attacl _aclitem, attoptions _text, attfdwoptions _text, attmissingval anyarray", pgAttribute)
	registerSys(pgc, relPgAttrdef, 'r', "pg_attrdef", "oid oid, adrelid oid, adnum int2, adbin pg_node_tree", pgAttrdef)
	registerSys(pgc, relPgType, 'r', "pg_type", "oid oid, typname name, typnamespace oid, typowner oid, typlen int2, typbyval bool, typtype char, typcategory char, typispreferred bool, typisdefined bool, typdelim char, typrelid oid, typsubscript regproc, typelem oid, typarray oid, typinput regproc, typoutput regproc, typreceive regproc, typsend regproc, typmodin regproc, typmodout regproc, typanalyze regproc, typalign char, typstorage char, typnotnull bool, typbasetype oid, typtypmod int4, typndims int4, typcollation oid, typdefaultbin pg_node_tree, typdefault text, typacl _aclitem", pgType)
	registerSys(pgc, 2610, 'r', "pg_index", "indexrelid oid, indrelid oid, indnatts int2, indnkeyatts int2, indisunique bool, indnullsnotdistinct bool, indisprimary bool, indisexclusion bool, indimmediate bool, indisclustered bool, indisvalid bool, indcheckxmin bool, indisready bool, indislive bool, indisreplident bool, indkey int2vector, indcollation oidvector, indclass oidvector, indoption int2vector, indexprs pg_node_tree, indpred pg_node_tree", pgIndex)
	registerSys(pgc, relPgConstraint, 'r', "pg_constraint", "oid oid, conname name, connamespace oid, contype char, condeferrable bool, condeferred bool, convalidated bool, conrelid oid, contypid oid, conindid oid, conparentid oid, confrelid oid, confupdtype char, confdeltype char, confmatchtype char, conislocal bool, coninhcount int4, connoinherit bool, conkey _int2, confkey _int2, conpfeqop _oid, conppeqop _oid, conffeqop _oid, confdelsetcols _int2, conexclop _oid, conbin pg_node_tree", pgConstraint)
	registerSys(pgc, 2601, 'r', "pg_am", "oid oid, amname name, amhandler regproc, amtype char", pgAm)
	registerSys(pgc, 1262, 'r', "pg_database", "oid oid, datname name, datdba oid, encoding int4, datlocprovider char, datistemplate bool, datallowconn bool, datconnlimit int4, datfrozenxid xid, datminmxid xid, dattablespace oid, datcollate text, datctype text, daticulocale text, datcollversion text, datacl _aclitem", pgDatabase)
	registerSys(pgc, 1260, 'r', "pg_authid", "oid oid, rolname name, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, rolcanlogin bool, rolreplication bool, rolbypassrls bool, rolconnlimit int4, rolpassword text, rolvaliduntil timestamptz", pgAuthid)
	registerSys(pgc, 12001, 'v', "pg_roles", "rolname name, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, rolcanlogin bool, rolreplication bool, rolconnlimit int4, rolpassword text, rolvaliduntil timestamptz, rolbypassrls bool, rolconfig _text, oid oid", pgRoles)
	registerSys(pgc, 12006, 'v', "pg_user", "usename name, usesysid oid, usecreatedb bool, usesuper bool, userepl bool, usebypassrls bool, passwd text, valuntil timestamptz, useconfig _text", pgUser)
	registerSys(pgc, 1261, 'r', "pg_auth_members", "oid oid, roleid oid, member oid, grantor oid, admin_option bool", emptySys)
	registerSys(pgc, 2609, 'r', "pg_description", "objoid oid, classoid oid, objsubid int4, description text", pgDescription)
	registerSys(pgc, 2396, 'r', "pg_shdescription", "objoid oid, classoid oid, description text", emptySys)
	registerSys(pgc, relPgProc, 'r', "pg_proc", "oid oid, proname name, pronamespace oid, proowner oid, prolang oid, procost float4, prorows float4, provariadic oid, prosupport regproc, prokind char, prosecdef bool, proleakproof bool, proisstrict bool, proretset bool, provolatile char, proparallel char, pronargs int2, pronargdefaults int2, prorettype oid, proargtypes oidvector, proallargtypes _oid, proargmodes _char, proargnames _text, proargdefaults pg_node_tree, protrftypes _oid, prosrc text, probin text, prosqlbody pg_node_tree, proconfig _text, proacl _aclitem", pgProc)
	registerSys(pgc, 2612, 'r', "pg_language", "oid oid, lanname name, lanowner oid, lanispl bool, lanpltrusted bool, lanplcallfoid oid, laninline oid, lanvalidator oid, lanacl _aclitem", pgLanguage)
	registerSys(pgc, 1213, 'r', "pg_tablespace", "oid oid, spcname name, spcowner oid, spcacl _aclitem, spcoptions _text", pgTablespace)
	registerSys(pgc, 3456, 'r', "pg_collation", "oid oid, collname name, collnamespace oid, collowner oid, collprovider char, collisdeterministic bool, collencoding int4, collcollate text, collctype text, colliculocale text, collversion text", pgCollation)
	registerSys(pgc, 2224, 'r', "pg_sequence", "seqrelid oid, seqtypid oid, seqstart int8, seqincrement int8, seqmax int8, seqmin int8, seqcache int8, seqcycle bool", pgSequence)
	registerSys(pgc, 2608, 'r', "pg_depend", "classid oid, objid oid, objsubid int4, refclassid oid, refobjid oid, refobjsubid int4, deptype char", pgDepend)
	registerSys(pgc, 3079, 'r', "pg_extension", "oid oid, extname name, extowner oid, extnamespace oid, extrelocatable bool, extversion text, extconfig _oid, extcondition _text", emptySys)
	registerSys(pgc, 2611, 'r', "pg_inherits", "inhrelid oid, inhparent oid, inhseqno int4, inhdetachpending bool", emptySys)
	registerSys(pgc, 3118, 'r', "pg_foreign_table", "ftrelid oid, ftserver oid, ftoptions _text", emptySys)
	registerSys(pgc, 1417, 'r', "pg_foreign_server", "oid oid, srvname name, srvowner oid, srvfdw oid, srvtype text, srvversion text, srvacl _aclitem, srvoptions _text", emptySys)
	registerSys(pgc, 2328, 'r', "pg_foreign_data_wrapper", "oid oid, fdwname name, fdwowner oid, fdwhandler oid, fdwvalidator oid, fdwacl _aclitem, fdwoptions _text", emptySys)
	registerSys(pgc, 3350, 'r', "pg_partitioned_table", "partrelid oid, partstrat char, partnatts int2, partdefid oid, partattrs int2vector, partclass oidvector, partcollation oidvector, partexprs pg_node_tree", emptySys)
	registerSys(pgc, 3256, 'r', "pg_policy", "oid oid, polname name, polrelid oid, polcmd char, polpermissive bool, polroles _oid, polqual pg_node_tree, polwithcheck pg_node_tree", emptySys)
	registerSys(pgc, 6104, 'r', "pg_publication", "oid oid, pubname name, pubowner oid, puballtables bool, pubinsert bool, pubupdate bool, pubdelete bool, pubtruncate bool, pubviaroot bool", emptySys)
	registerSys(pgc, 6106, 'r', "pg_publication_rel", "oid oid, prpubid oid, prrelid oid, prqual pg_node_tree, prattrs int2vector", emptySys)
	registerSys(pgc, 6237, 'r', "pg_publication_namespace", "oid oid, pnpubid oid, pnnspid oid", emptySys)
	registerSys(pgc, 6100, 'r', "pg_subscription", "oid oid, subdbid oid, subname name, subowner oid, subenabled bool", emptySys)
	registerSys(pgc, 3381, 'r', "pg_statistic_ext", "oid oid, stxrelid oid, stxname name, stxnamespace oid, stxowner oid, stxstattarget int4, stxkeys int2vector, stxkind _char, stxexprs pg_node_tree", emptySys)
	registerSys(pgc, 2620, 'r', "pg_trigger", "oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid, tgtype int2, tgenabled char, tgisinternal bool, tgconstrrelid oid, tgconstrindid oid, tgconstraint oid, tgdeferrable bool, tginitdeferred bool, tgnargs int2, tgattr int2vector, tgargs bytea, tgqual pg_node_tree, tgoldtable name, tgnewtable name", emptySys)
	registerSys(pgc, 2618, 'r', "pg_rewrite", "oid oid, rulename name, ev_class oid, ev_type char, ev_enabled char, is_instead bool, ev_qual pg_node_tree, ev_action pg_node_tree", emptySys)
	registerSys(pgc, 3466, 'r', "pg_event_trigger", "oid oid, evtname name, evtevent name, evtowner oid, evtfoid oid, evtenabled char, evttags _text", emptySys)
	registerSys(pgc, 2753, 'r', "pg_opfamily", "oid oid, opfmethod oid, opfname name, opfnamespace oid, opfowner oid", emptySys)
	registerSys(pgc, 12010, 'v', "pg_settings", "name text, setting text, unit text, category text, short_desc text, extra_desc text, context text, vartype text, source text, min_val text, max_val text, enumvals _text, boot_val text, reset_val text, sourcefile text, sourceline int4, pending_restart bool", pgSettings)
}

// relations lists the catalog's relations in oid order.
func (g *sysGen) relations() []*catalog.Object { return g.objectsOfKind("relation") }

// objectsOfKind lists the catalog's objects of a kind in oid order.
func (g *sysGen) objectsOfKind(kind string) []*catalog.Object {
	var out []*catalog.Object
	for _, o := range g.cat.Objects() {
		if o.Kind == kind {
			out = append(out, o)
		}
	}
	return out
}

func ownerOf(o *catalog.Object) catalog.Oid {
	if o.Owner == 0 {
		return catalog.BootstrapSuperuser
	}
	return o.Owner
}

func pgNamespace(g *sysGen) ([]Row, error) {
	var rows []Row
	for _, o := range g.cat.Objects() {
		if o.Kind == "schema" {
			rows = append(rows, Row{oidv(o.Oid), o.Name, oidv(ownerOf(o)), schemaACL(o.Oid)})
		}
	}
	return rows, nil
}

func pgClass(g *sysGen) ([]Row, error) {
	var rows []Row
	for _, t := range sysAll() {
		rows = append(rows, Row{oidv(t.Oid), t.Name, oidv(t.Schema), int64(0), int64(0), oidv(catalog.BootstrapSuperuser),
			oidv(map[byte]catalog.Oid{'r': amHeap}[t.Kind]), oidv(map[byte]catalog.Oid{'r': t.Oid}[t.Kind]), int64(0), int64(0), float64(-1), int64(0), int64(0),
			false, false, "p", charv(t.Kind), int64(len(t.Cols)), int64(0), t.Kind == 'v', false, false, false, false, true,
			"n", false, int64(0), int64(0), int64(0), nil, nil, nil})
	}
	for _, o := range g.relations() {
		rows = append(rows, classRow(g.cat, o))
	}
	return rows, nil
}

// schemaACL is a built-in schema's nspacl, as initdb grants it (user
// schemas have the default, NULL).
func schemaACL(oid catalog.Oid) any {
	owner := "postgres"
	switch oid {
	case catalog.PublicNamespace:
		owner = "pg_database_owner"
	case catalog.PgCatalogNamespace, catalog.InformationSchemaNamespace:
	default:
		return nil
	}
	return types.NewArray(types.OidAclitem, []any{owner + "=UC/" + owner, "=U/" + owner})
}

func classRow(cat *catalog.Catalog, o *catalog.Object) Row {
	var am, filenode catalog.Oid
	natts := len(o.Columns)
	replident, frozen, minmxid := "n", int64(0), int64(0)
	checks := 0
	for _, c := range o.Constraints {
		if c.Kind == 'c' {
			checks++
		}
	}
	switch o.RelKind {
	case catalog.RelTable:
		am, filenode, replident, frozen, minmxid = amHeap, o.Oid, "d", 1, 1
	case catalog.RelIndex:
		am, filenode = amBtree, o.Oid
		if o.Index != nil {
			natts = len(o.Index.Columns)
		}
	case catalog.RelSequence:
		filenode, natts = o.Oid, 3
	}
	hasFK := false
	for _, c := range o.Constraints {
		hasFK = hasFK || c.Kind == 'f'
	}
	return Row{oidv(o.Oid), o.Name, oidv(o.Schema), int64(0), int64(0), oidv(ownerOf(o)), oidv(am), oidv(filenode), int64(0),
		int64(0), float64(-1), int64(0), int64(0), len(cat.Indexes(o.Oid)) > 0, false, "p", charv(o.RelKind), int64(natts),
		int64(checks), o.RelKind == catalog.RelView, hasFK || referenced(cat, o.Oid), false, false, false, true, replident, false,
		int64(0), frozen, minmxid, nil, nil, nil}
}

// referenced reports whether a foreign key references table (Postgres
// then has triggers on it).
func referenced(cat *catalog.Catalog, table catalog.Oid) bool {
	for _, o := range cat.Objects() {
		for _, c := range o.Constraints {
			if c.Kind == 'f' && c.RefTable == table {
				return true
			}
		}
	}
	return false
}

// systemColumns are the system columns every table and sequence has, as
// pg_attribute lists them (attnum < 0).
var systemColumns = []struct {
	name string
	num  int16
	typ  types.Oid
}{
	{"tableoid", -6, types.OidOid}, {"cmax", -5, types.OidCid}, {"xmax", -4, types.OidXid},
	{"cmin", -3, types.OidCid}, {"xmin", -2, types.OidXid}, {"ctid", -1, types.OidTid},
}

func collationOf(t types.Oid) catalog.Oid {
	if e := types.ElemOf(t); e != 0 {
		t = e
	}
	switch t {
	case types.OidText, types.OidVarchar, types.OidBpchar:
		return collDefault
	case types.OidName:
		return collC
	}
	return 0
}

func attRow(rel catalog.Oid, name string, t types.Type, num int16, notNull bool) Row {
	info := types.Lookup(t.Oid)
	var length int64 = -1
	byVal, align, storage := false, "i", "x"
	if info != nil {
		length, byVal, align, storage = int64(info.Len), info.ByVal, charv(info.Align).(string), charv(info.Storage).(string)
	}
	dims := int64(0)
	if types.ElemOf(t.Oid) != 0 && t.Oid != types.OidName && t.Oid != types.OidInt2Vector && t.Oid != types.OidOidVector {
		dims = 1
	}
	return Row{oidv(rel), name, oidv(t.Oid), int64(-1), length, int64(num), dims, int64(-1), int64(t.Mod), byVal, align, storage,
		"", notNull, false, false, "", "", false, true, int64(0), oidv(collationOf(t.Oid)), nil, nil, nil, nil}
}

func pgAttribute(g *sysGen) ([]Row, error) {
	var rows []Row
	for _, t := range sysAll() {
		for i, c := range t.Cols {
			rows = append(rows, attRow(t.Oid, c.Name, c.T, int16(i+1), t.Kind == 'r'))
		}
	}
	for _, o := range g.relations() {
		switch o.RelKind {
		case catalog.RelIndex:
			if o.Index == nil {
				continue
			}
			table := g.cat.Object(o.Index.Table)
			for i, num := range o.Index.Columns {
				if table == nil || table.Column(num) == nil {
					continue
				}
				c := table.Column(num)
				rows = append(rows, attRow(o.Oid, c.Name, c.Type, int16(i+1), false))
			}
			continue
		case catalog.RelSequence:
			if o.Sequence != nil {
				rows = append(rows,
					attRow(o.Oid, "last_value", types.Int8Type, 1, true),
					attRow(o.Oid, "log_cnt", types.Int8Type, 2, true),
					attRow(o.Oid, "is_called", types.BoolType, 3, true))
			}
		}
		for _, c := range o.Columns {
			r := attRow(o.Oid, c.Name, c.Type, c.Num, c.NotNull)
			r[14] = c.Default != ""
			r[16] = charv(c.Identity)
			if c.Dropped {
				r[1] = "........pg.dropped." + itoa(int(c.Num)) + "........"
				r[2], r[8], r[13], r[18], r[21] = int64(0), int64(-1), false, true, int64(0)
			}
			rows = append(rows, r)
		}
		if o.RelKind == catalog.RelTable || o.RelKind == catalog.RelSequence {
			for _, s := range systemColumns {
				r := attRow(o.Oid, s.name, types.T(s.typ), s.num, true)
				r[19] = true
				rows = append(rows, r)
			}
		}
	}
	return rows, nil
}

func pgAttrdef(g *sysGen) ([]Row, error) {
	var rows []Row
	for _, o := range g.relations() {
		for _, c := range o.Columns {
			if c.Default != "" && !c.Dropped && c.Identity == 0 {
				rows = append(rows, Row{oidv(o.Oid), oidv(o.Oid), int64(c.Num), c.Default})
			}
		}
	}
	return rows, nil
}

// typmodFuncs names the typmodin/typmodout functions of the types with
// modifiers.
var typmodFuncs = map[types.Oid]string{
	types.OidBpchar: "bpchar", types.OidVarchar: "varchar", types.OidNumeric: "numeric", types.OidTime: "time",
	types.OidTimetz: "timetz", types.OidTimestamp: "timestamp", types.OidTimestamptz: "timestamptz", types.OidInterval: "interval",
}

func pgType(g *sysGen) ([]Row, error) {
	var rows []Row
	builtins := types.Builtins()
	infos := make([]*types.Info, len(builtins))
	for i := range builtins {
		infos[i] = &builtins[i]
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].Oid < infos[j].Oid })
	for _, t := range infos {
		typtype := "b"
		if t.Category == 'P' {
			typtype = "p"
		}
		subscript, analyze := "-", "-"
		base := t.Oid
		if t.Category == 'A' && t.Elem != 0 {
			subscript, analyze = "array_subscript_handler", "array_typanalyze"
			base = t.Elem
		}
		if t.Oid == types.OidName || t.Oid == types.OidInt2Vector || t.Oid == types.OidOidVector {
			subscript, analyze = "raw_array_subscript_handler", "-"
			base = t.Oid
		}
		modin, modout := "-", "-"
		if f := typmodFuncs[base]; f != "" {
			modin, modout = f+"typmodin", f+"typmodout"
		}
		recv, send := regprocText(t.Receive), regprocText(t.Send)
		rows = append(rows, Row{oidv(t.Oid), t.Name, oidv(catalog.PgCatalogNamespace), oidv(catalog.BootstrapSuperuser),
			int64(t.Len), t.ByVal, typtype, charv(t.Category), t.Preferred, true, charv(t.Delim), int64(0), subscript,
			oidv(t.Elem), oidv(t.Array), regprocText(t.Input), regprocText(t.Output), recv, send, modin, modout, analyze,
			charv(t.Align), charv(t.Storage), false, int64(0), int64(-1), int64(0), oidv(collationOf(t.Oid)), nil, nil, nil})
	}
	return rows, nil
}

// regprocText is a regproc value carried by name: "-" for none.
func regprocText(name string) any {
	if name == "" {
		return "-"
	}
	return name
}

func pgIndex(g *sysGen) ([]Row, error) {
	var rows []Row
	for _, o := range g.relations() {
		if o.RelKind != catalog.RelIndex || o.Index == nil {
			continue
		}
		ix := o.Index
		n := len(ix.Columns)
		colls := make([]string, n)
		classes := make([]string, n)
		opts := make([]int16, n)
		table := g.cat.Object(ix.Table)
		for i, num := range ix.Columns {
			var t types.Oid
			if table != nil && table.Column(num) != nil {
				t = table.Column(num).Type.Oid
			}
			colls[i] = itoa(int(collationOf(t)))
			classes[i] = itoa(int(btreeOpclass(t)))
			if i < len(ix.Desc) && ix.Desc[i] {
				opts[i] = 3 // INDOPTION_DESC | INDOPTION_NULLS_FIRST
			}
		}
		rows = append(rows, Row{oidv(o.Oid), oidv(ix.Table), int64(n), int64(n), ix.Unique || ix.Primary, false, ix.Primary,
			false, true, false, true, false, true, true, false, int2Vector(ix.Columns), strings.Join(colls, " "), strings.Join(classes, " "),
			int2Vector(opts), nil, nil})
	}
	return rows, nil
}

// btreeOpclass is the default btree operator class of a type.
func btreeOpclass(t types.Oid) catalog.Oid {
	return btreeOpclasses[t]
}

// btreeOpclasses are Postgres 15's default btree operator classes.
var btreeOpclasses = map[types.Oid]catalog.Oid{
	types.OidInt4: 1978, types.OidInt2: 1979, types.OidOid: 1981, types.OidDate: 3122, types.OidFloat8: 3123,
	types.OidInt8: 3124, types.OidNumeric: 3125, types.OidText: 3126, types.OidVarchar: 3126, types.OidTimestamptz: 3127,
	types.OidTimestamp: 3128, types.OidBool: 10003, types.OidBpchar: 10004, types.OidBytea: 10006, types.OidChar: 10007,
	types.OidFloat4: 10012, types.OidInterval: 10022, types.OidName: 10028, types.OidOidVector: 10032, types.OidTime: 10038,
	types.OidTimetz: 10041, types.OidUUID: 10065, types.OidPgLsn: 10067, types.OidJsonb: 10088,
}

func pgConstraint(g *sysGen) ([]Row, error) {
	var rows []Row
	for _, o := range g.relations() {
		for _, c := range o.Constraints {
			var conkey, confkey any
			if len(c.Columns) > 0 {
				conkey = int2Array(c.Columns)
			}
			if len(c.RefColumns) > 0 {
				confkey = int2Array(c.RefColumns)
			}
			upd, del, match := " ", " ", " "
			if c.Kind == 'f' {
				upd, del, match = charv(orDefault(c.OnUpdate, 'a')).(string), charv(orDefault(c.OnDelete, 'a')).(string), charv(orDefault(c.Match, 's')).(string)
			}
			var conbin any
			if c.Kind == 'c' {
				conbin = c.Check
			}
			rows = append(rows, Row{oidv(c.Oid), c.Name, oidv(o.Schema), charv(c.Kind), c.Deferrable, c.Deferred, c.Validated,
				oidv(o.Oid), int64(0), oidv(c.Index), int64(0), oidv(c.RefTable), upd, del, match, true, int64(0), false,
				conkey, confkey, nil, nil, nil, nil, nil, conbin})
		}
	}
	return rows, nil
}

func orDefault(b, d byte) byte {
	if b == 0 {
		return d
	}
	return b
}

func pgAm(*sysGen) ([]Row, error) {
	return []Row{
		{int64(2), "heap", "heap_tableam_handler", "t"},
		{int64(403), "btree", "bthandler", "i"},
		{int64(405), "hash", "hashhandler", "i"},
		{int64(783), "gist", "gisthandler", "i"},
		{int64(2742), "gin", "ginhandler", "i"},
		{int64(4000), "spgist", "spghandler", "i"},
		{int64(3580), "brin", "brinhandler", "i"},
	}, nil
}

func pgDatabase(g *sysGen) ([]Row, error) {
	db := func(oid catalog.Oid, name string, template, allow bool) Row {
		var acl any
		if template {
			acl = types.NewArray(types.OidAclitem, []any{"=c/postgres", "postgres=CTc/postgres"})
		}
		return Row{oidv(oid), name, oidv(catalog.BootstrapSuperuser), int64(6), "c", template, allow, int64(-1), int64(716), int64(1),
			int64(1663), "C", "C", nil, nil, acl}
	}
	name := g.env.Session.Database
	rows := []Row{db(1, "template1", true, true), db(4, "template0", true, false)}
	if name != "template1" && name != "template0" {
		rows = append(rows, db(catalog.DatabaseOid, name, false, true))
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i][0].(int64) < rows[j][0].(int64) })
	return rows, nil
}

func (g *sysGen) roles() []*catalog.Object { return g.objectsOfKind("role") }

func pgAuthid(g *sysGen) ([]Row, error) {
	var rows []Row
	for _, r := range g.roles() {
		var pw any
		if r.Password != "" {
			pw = r.Password
		}
		rows = append(rows, Row{oidv(r.Oid), r.Name, r.Super, !r.NoInherit, r.CreateRole, r.CreateDB, r.Login, r.Replication, r.BypassRLS, int64(-1), pw, nil})
	}
	return rows, nil
}

func pgRoles(g *sysGen) ([]Row, error) {
	var rows []Row
	for _, r := range g.roles() {
		rows = append(rows, Row{r.Name, r.Super, !r.NoInherit, r.CreateRole, r.CreateDB, r.Login, r.Replication, int64(-1), "********", nil, r.BypassRLS, nil, oidv(r.Oid)})
	}
	return rows, nil
}

func pgUser(g *sysGen) ([]Row, error) {
	var rows []Row
	for _, r := range g.roles() {
		if r.Login {
			rows = append(rows, Row{r.Name, oidv(r.Oid), r.CreateDB, r.Super, r.Replication, r.BypassRLS, "********", nil, nil})
		}
	}
	return rows, nil
}

func pgDescription(g *sysGen) ([]Row, error) {
	var rows []Row
	for _, o := range g.cat.Objects() {
		if o.Comment == "" {
			continue
		}
		class := relPgClass
		switch o.Kind {
		case "schema":
			class = relPgNamespace
		case "role":
			continue // pg_shdescription
		}
		rows = append(rows, Row{oidv(o.Oid), oidv(class), int64(0), o.Comment})
	}
	return rows, nil
}

// procRows are pg_proc's rows for the registered functions, numbered as
// procByOid numbers them.
func procRows() []Row {
	byOid := procByOid()
	oids := make([]int64, 0, len(byOid))
	for oid := range byOid {
		oids = append(oids, oid)
	}
	sort.Slice(oids, func(i, j int) bool { return oids[i] < oids[j] })
	rows := make([]Row, 0, len(oids))
	for _, oid := range oids {
		f := byOid[oid]
		kind := "f"
		if f.Agg != nil {
			kind = "a"
		} else if f.Window != nil {
			kind = "w"
		}
		args := make([]string, len(f.Args))
		for i, a := range f.Args {
			args[i] = itoa(int(a))
		}
		var variadic int64
		if f.Variadic && len(f.Args) > 0 {
			variadic = int64(f.Args[len(f.Args)-1])
		}
		rows = append(rows, Row{oid, f.Name, oidv(catalog.PgCatalogNamespace), oidv(catalog.BootstrapSuperuser), int64(12),
			float64(1), float64(0), variadic, "-", kind, false, false, f.Strict, false, "i", "s", int64(len(f.Args)), int64(0),
			oidv(f.Ret), strings.Join(args, " "), nil, nil, nil, nil, nil, f.Name, nil, nil, nil, nil})
	}
	return rows
}

func pgProc(*sysGen) ([]Row, error) { return procRows(), nil }

func pgLanguage(*sysGen) ([]Row, error) {
	lang := func(oid int64, name string, trusted bool, validator int64) Row {
		return Row{oid, name, oidv(catalog.BootstrapSuperuser), false, trusted, int64(0), int64(0), validator, nil}
	}
	return []Row{lang(12, "internal", false, 2246), lang(13, "c", false, 2247), lang(14, "sql", true, 2248)}, nil
}

func pgTablespace(*sysGen) ([]Row, error) {
	return []Row{
		{int64(1663), "pg_default", oidv(catalog.BootstrapSuperuser), nil, nil},
		{int64(1664), "pg_global", oidv(catalog.BootstrapSuperuser), nil, nil},
	}, nil
}

func pgCollation(*sysGen) ([]Row, error) {
	c := func(oid catalog.Oid, name, provider string, enc int64, coll any) Row {
		return Row{oidv(oid), name, oidv(catalog.PgCatalogNamespace), oidv(catalog.BootstrapSuperuser), provider, true, enc, coll, coll, nil, nil}
	}
	return []Row{
		c(collDefault, "default", "d", -1, nil),
		c(collC, "C", "c", -1, "C"),
		c(951, "POSIX", "c", -1, "POSIX"),
		c(962, "ucs_basic", "c", 6, "C"),
	}, nil
}

func pgSequence(g *sysGen) ([]Row, error) {
	var rows []Row
	for _, o := range g.relations() {
		if q := o.Sequence; o.RelKind == catalog.RelSequence && q != nil {
			rows = append(rows, Row{oidv(o.Oid), oidv(q.Type), q.Start, q.Increment, q.Max, q.Min, q.Cache, q.Cycle})
		}
	}
	return rows, nil
}

// pgDepend lists the dependencies clients look for: a serial or identity
// sequence on its column, an index on the constraint it implements.
func pgDepend(g *sysGen) ([]Row, error) {
	var rows []Row
	for _, o := range g.relations() {
		if q := o.Sequence; q != nil && q.OwnedByTable != 0 {
			kind := "a"
			if t := g.cat.Object(q.OwnedByTable); t != nil {
				if c := t.Column(q.OwnedByColumn); c != nil && c.Identity != 0 {
					kind = "i"
				}
			}
			rows = append(rows, Row{oidv(relPgClass), oidv(o.Oid), int64(0), oidv(relPgClass), oidv(q.OwnedByTable), int64(q.OwnedByColumn), kind})
		}
		for _, c := range o.Constraints {
			if c.Index != 0 {
				rows = append(rows, Row{oidv(relPgClass), oidv(c.Index), int64(0), oidv(relPgConstraint), oidv(c.Oid), int64(0), "i"})
			}
		}
	}
	return rows, nil
}

func pgSettings(g *sysGen) ([]Row, error) {
	s := g.env.Session
	vals := map[string]string{}
	for k, v := range s.Settings {
		vals[k] = v
	}
	if t := s.Types; t != nil {
		vals["DateStyle"] = t.DateStyle
		vals["IntervalStyle"] = t.IntervalStyle
		vals["TimeZone"] = t.TimeZoneName
		vals["extra_float_digits"] = itoa(t.ExtraFloatDigits)
		if t.ExtraFloatDigits < 0 {
			vals["extra_float_digits"] = "-" + itoa(-t.ExtraFloatDigits)
		}
		vals["bytea_output"] = t.ByteaOutput
	}
	vals["search_path"] = joinComma(s.SearchPath)
	names := make([]string, 0, len(vals))
	for k := range vals {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return lowerLess(names[i], names[j]) })
	rows := make([]Row, 0, len(names))
	for _, n := range names {
		rows = append(rows, Row{n, vals[n], nil, nil, nil, nil, "user", "string", "default", nil, nil, nil, nil, nil, nil, nil, false})
	}
	return rows, nil
}

func lowerLess(a, b string) bool {
	la, lb := []byte(a), []byte(b)
	for i := range la {
		if la[i] >= 'A' && la[i] <= 'Z' {
			la[i] += 'a' - 'A'
		}
	}
	for i := range lb {
		if lb[i] >= 'A' && lb[i] <= 'Z' {
			lb[i] += 'a' - 'A'
		}
	}
	return string(la) < string(lb)
}
