package sql

import (
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/internal/metrics"
	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/exec"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// COPY ... FROM STDIN and COPY ... TO STDOUT, in the text, CSV and
// binary formats.
//
// COPY FROM collects the client's data (at most Config.MaxMessage bytes in
// all: a larger COPY is refused with 54000 once its data has been read;
// streaming a COPY through several log entries is not done yet), parses
// every row here, where a bad value gets Postgres's error and CONTEXT
// ("COPY t, line 3, column b: "x""), and then inserts the rows one by one
// into a transaction's overlay: the open block's, or outside a block a
// transaction of the COPY's own whose writes are committed as one log
// entry (validated like any transaction's, and retried on a conflict),
// so a COPY applies entirely or not at all. A serial column's nextval
// goes through the log per row, as in any transaction. COPY TO runs the equivalent SELECT and sends
// its rows. COPY to or from a server file or program is refused (0A000).

func errAborted() error {
	return pgerror.New(pgerror.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
}

// run runs one statement and records it in the metrics.
func (c *conn) run(ctx context.Context, st *exec.Statement, ptypes []types.Type, values []any) (*exec.Result, error) {
	start := time.Now()
	res, err := c.runStatement(ctx, st, ptypes, values)
	c.s.cfg.Metrics.Command(metrics.Postgres, st.Tag).Done(start, err != nil)
	return res, err
}

// runStatement runs one statement: COPY and DEALLOCATE here, the rest in
// the session.
func (c *conn) runStatement(ctx context.Context, st *exec.Statement, ptypes []types.Type, values []any) (*exec.Result, error) {
	if cs := st.Node.GetCopyStmt(); cs != nil {
		if c.ss.state == txFailed {
			return nil, errAborted()
		}
		res, err := c.copyStmt(ctx, cs)
		if err != nil && c.ss.state == txOpen {
			c.ss.state = txFailed
		}
		return res, err
	}
	if d := st.Node.GetDeallocateStmt(); d != nil {
		if c.ss.state == txFailed {
			return nil, errAborted()
		}
		return c.deallocate(d)
	}
	return c.ss.run(ctx, st, ptypes, values)
}

func (c *conn) copyStmt(ctx context.Context, cs *pg.CopyStmt) (*exec.Result, error) {
	if cs.Filename != "" || cs.IsProgram {
		return nil, pgerror.New(pgerror.FeatureNotSupported, "COPY to or from a file or program is not supported").
			WithHint("Use COPY ... FROM STDIN or TO STDOUT, or psql's \\copy.")
	}
	o, err := parseCopyOptions(cs.Options, cs.IsFrom)
	if err != nil {
		return nil, err
	}
	if cs.Query != nil {
		sql, err := pg.Deparse(&pg.ParseResult{Version: parseTreeVersion(), Stmts: []*pg.RawStmt{{Stmt: cs.Query}}})
		if err != nil {
			return nil, pgerror.New(pgerror.SyntaxError, "%v", err)
		}
		return c.copyOut(ctx, sql, o)
	}
	var target *catalog.Object
	var cols []*catalog.Column
	var qname string
	err = c.withCatalog(ctx, func(cat *catalog.Catalog) error {
		rv := cs.Relation
		if exec.IsSystemView(cat, rv.Schemaname, rv.Relname, cat.SearchPath(c.ss.sess.SearchPath, c.ss.sess.User)) {
			if cs.IsFrom {
				return pgerror.New(pgerror.WrongObjectType, "cannot copy to view \"%s\"", rv.Relname)
			}
			return pgerror.New(pgerror.WrongObjectType, "cannot copy from view \"%s\"", rv.Relname).
				WithHint("Try the COPY (SELECT ...) TO variant.")
		}
		obj, err := cat.Resolve(rv.Schemaname, rv.Relname, cat.SearchPath(c.ss.sess.SearchPath, c.ss.sess.User))
		if err != nil {
			return err
		}
		if obj == nil {
			name := rv.Relname
			if rv.Schemaname != "" {
				name = rv.Schemaname + "." + name
			}
			return pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", name)
		}
		if obj.RelKind != catalog.RelTable {
			if cs.IsFrom {
				return pgerror.New(pgerror.WrongObjectType, "cannot copy to non-table relation \"%s\"", obj.Name)
			}
			return pgerror.New(pgerror.WrongObjectType, "cannot copy from non-table relation \"%s\"", obj.Name).
				WithHint("Try the COPY (SELECT ...) TO variant.")
		}
		target, qname = obj, cat.QualifiedName(obj)
		for _, lists := range [][]string{o.forceQuote, o.forceNotNul, o.forceNull} {
			for _, name := range lists {
				if obj.ColumnByName(name) == nil {
					return pgerror.New(pgerror.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", name, obj.Name)
				}
			}
		}
		if len(cs.Attlist) == 0 {
			cols = obj.LiveColumns()
			return nil
		}
		for _, n := range cs.Attlist {
			name := n.GetString_().GetSval()
			col := obj.ColumnByName(name)
			if col == nil {
				return pgerror.New(pgerror.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", name, obj.Name)
			}
			for _, prev := range cols {
				if prev == col {
					return pgerror.New(pgerror.DuplicateColumn, "column \"%s\" specified more than once", name)
				}
			}
			cols = append(cols, col)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = catalog.QuoteIdent(col.Name)
	}
	if !cs.IsFrom {
		return c.copyOut(ctx, "SELECT "+strings.Join(names, ", ")+" FROM "+qname, o)
	}
	return c.copyIn(ctx, target, qname, cols, names, o)
}

// parseTreeVersion is the version pg_query's parse trees carry (Deparse
// checks it).
var parseTreeVersion = sync.OnceValue(func() int32 {
	tree, err := pg.Parse("SELECT")
	if err != nil {
		return 0
	}
	return tree.Version
})

// withCatalog calls fn with the catalog statements of the session see
// now.
func (c *conn) withCatalog(ctx context.Context, fn func(*catalog.Catalog) error) error {
	env, done, err := c.describeEnv(ctx)
	if err != nil {
		return err
	}
	defer done()
	cat, err := env.Catalog()
	if err != nil {
		return err
	}
	return fn(cat)
}

// runSQL runs a statement built here (its text names quoted objects).
func (c *conn) runSQL(ctx context.Context, sql string) (*exec.Result, error) {
	stmts, err := exec.Parse(sql)
	if err != nil {
		return nil, err
	}
	return c.ss.run(ctx, stmts[0], nil, nil)
}

// copyOut runs a query and sends its rows as COPY data.
func (c *conn) copyOut(ctx context.Context, sql string, o *copyOptions) (*exec.Result, error) {
	res, err := c.runSQL(ctx, sql)
	if err != nil {
		return nil, err
	}
	force := make([]bool, len(res.Columns))
	for i, col := range res.Columns {
		force[i] = o.forceAll
		for _, n := range o.forceQuote {
			force[i] = force[i] || n == col.Name
		}
	}
	for _, n := range o.forceQuote {
		found := false
		for _, col := range res.Columns {
			found = found || col.Name == n
		}
		if !found {
			return nil, pgerror.New(pgerror.UndefinedColumn, "FORCE_QUOTE column \"%s\" not referenced by COPY", n)
		}
	}
	if o.binary {
		return c.copyOutBinary(res)
	}
	c.be.Send(&pgproto3.CopyOutResponse{OverallFormat: 0, ColumnFormatCodes: make([]uint16, len(res.Columns))})
	single := len(res.Columns) == 1
	appendField := func(b []byte, s string, i int) []byte {
		if i > 0 {
			b = append(b, o.delim)
		}
		if o.csv {
			return appendCSV(b, s, o, force[i], single)
		}
		return appendText(b, s, o)
	}
	if o.header {
		var b []byte
		for i, col := range res.Columns {
			b = appendField(b, col.Name, i)
		}
		c.be.Send(&pgproto3.CopyData{Data: append(b, '\n')})
	}
	for _, r := range res.Rows {
		var b []byte
		for i, v := range r {
			if v == nil {
				if i > 0 {
					b = append(b, o.delim)
				}
				b = append(b, o.null...)
				continue
			}
			b = appendField(b, types.Format(res.Columns[i].Type, v, c.ss.sess.Types), i)
		}
		c.be.Send(&pgproto3.CopyData{Data: append(b, '\n')})
	}
	c.be.Send(&pgproto3.CopyDone{})
	return &exec.Result{Tag: fmt.Sprintf("COPY %d", len(res.Rows))}, nil
}

// copyOutBinary sends a result's rows in the binary COPY format.
func (c *conn) copyOutBinary(res *exec.Result) (*exec.Result, error) {
	codes := make([]uint16, len(res.Columns))
	for i := range codes {
		codes[i] = 1
	}
	c.be.Send(&pgproto3.CopyOutResponse{OverallFormat: 1, ColumnFormatCodes: codes})
	c.be.Send(&pgproto3.CopyData{Data: appendBinaryHeader(nil)})
	for _, r := range res.Rows {
		b := binary.BigEndian.AppendUint16(nil, uint16(len(r)))
		for i, v := range r {
			if v == nil {
				b = binary.BigEndian.AppendUint32(b, 0xffffffff)
				continue
			}
			enc, err := types.EncodeBinary(res.Columns[i].Type, v)
			if err != nil {
				return nil, err
			}
			b = binary.BigEndian.AppendUint32(b, uint32(len(enc)))
			b = append(b, enc...)
		}
		c.be.Send(&pgproto3.CopyData{Data: b})
	}
	c.be.Send(&pgproto3.CopyData{Data: []byte{0xff, 0xff}})
	c.be.Send(&pgproto3.CopyDone{})
	return &exec.Result{Tag: fmt.Sprintf("COPY %d", len(res.Rows))}, nil
}

// copyIn receives COPY data, parses its rows for cols and inserts them.
func (c *conn) copyIn(ctx context.Context, t *catalog.Object, qname string, cols []*catalog.Column, names []string, o *copyOptions) (*exec.Result, error) {
	data, err := c.receiveCopyData(t.Name, len(cols), o.binary)
	if err != nil {
		return nil, err
	}
	r := &copyReader{data: data, o: o}
	where := func(e *pgerror.Error, format string, args ...any) *pgerror.Error {
		e.Where = fmt.Sprintf("COPY %s, line %d", t.Name, r.line) + fmt.Sprintf(format, args...)
		return e
	}
	if o.header {
		if _, _, err := r.next(); err != nil {
			return nil, where(pgerror.As(err), "")
		}
	}
	var rows []copyRow
	for {
		fields, raw, err := r.next()
		if err != nil {
			return nil, where(pgerror.As(err), ": \"%s\"", limitPrintout(raw))
		}
		if fields == nil {
			break
		}
		if o.binary && len(fields) != len(cols) {
			return nil, where(pgerror.New(pgerror.BadCopyFileFormat, "row field count is %d, expected %d", len(fields), len(cols)), "")
		}
		if len(fields) > len(cols) {
			return nil, where(pgerror.New(pgerror.BadCopyFileFormat, "extra data after last expected column"), ": \"%s\"", limitPrintout(raw))
		}
		if len(fields) < len(cols) {
			return nil, where(pgerror.New(pgerror.BadCopyFileFormat, "missing data for column \"%s\"", cols[len(fields)].Name), ": \"%s\"", limitPrintout(raw))
		}
		row := copyRow{line: r.line, raw: raw, values: make([]any, len(cols))}
		for i, f := range fields {
			col := cols[i]
			null := f.null && !contains(o.forceNotNul, col.Name)
			if !f.null && f.quoted && contains(o.forceNull, col.Name) && f.val == o.null {
				null = true
			}
			if null {
				continue
			}
			var v any
			var err error
			if o.binary {
				v, err = types.DecodeBinary(col.Type, []byte(f.val))
			} else {
				v, err = types.Parse(col.Type, f.val, c.ss.sess.Types)
			}
			if err == nil {
				v, err = types.Coerce(col.Type, v, false)
			}
			if err != nil && o.binary {
				return nil, where(pgerror.As(err), ", column %s", col.Name)
			}
			if err != nil {
				return nil, where(pgerror.As(err), ", column %s: \"%s\"", col.Name, limitPrintout(f.val))
			}
			row.values[i] = v
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return &exec.Result{Tag: "COPY 0"}, nil
	}
	params := make([]string, len(cols))
	ptypes := make([]types.Type, len(cols))
	for i, col := range cols {
		params[i], ptypes[i] = fmt.Sprintf("$%d", i+1), col.Type
	}
	stmts, err := exec.Parse(fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", qname, strings.Join(names, ", "), strings.Join(params, ", ")))
	if err != nil {
		return nil, err
	}
	res := &exec.Result{Tag: fmt.Sprintf("COPY %d", len(rows))}
	// The insert is planned once and run per row in one Env; a failing
	// row fails the COPY, whose writes go back to where it began.
	insert := func() (err error) {
		env, err := c.ss.txEnv(ctx)
		if err != nil {
			return err
		}
		mark := c.ss.tx.overlay.Mark()
		c.ss.tx.replay.disable()
		defer func() {
			if err != nil {
				c.ss.tx.overlay.Rollback(mark)
			}
		}()
		ins, err := exec.PlanRunner(env, stmts[0], ptypes)
		if err != nil {
			return err
		}
		for _, row := range rows {
			r, err := ins.Run(row.values)
			if err != nil {
				e := pgerror.As(err)
				if e.Where == "" {
					e.Where = fmt.Sprintf("COPY %s, line %d", t.Name, row.line)
					if e.Code != pgerror.UniqueViolation {
						e.Where += fmt.Sprintf(": \"%s\"", limitPrintout(row.raw))
					}
				}
				return e
			}
			res.Notices = append(res.Notices, r.Notices...)
		}
		return nil
	}
	if c.ss.state == txOpen {
		return res, insert()
	}
	// Outside a transaction block the rows are written as a transaction
	// of their own: one log entry, retried if a concurrent write
	// conflicts with what the inserts read (unique checks).
	for attempt := 0; ; attempt++ {
		res.Notices = nil
		c.ss.state, c.ss.tx = txOpen, &transaction{now: timestamp(c.s.cfg.Clock())}
		err := insert()
		if err == nil {
			err = c.ss.commit(ctx)
		}
		c.ss.end()
		if pgerror.CodeOf(err) == pgerror.SerializationFailure && attempt < 5 {
			continue
		}
		if err != nil {
			return nil, err
		}
		return res, nil
	}
}

// copyRow is a row of COPY FROM data, parsed, with where it came from.
type copyRow struct {
	line   int
	raw    string
	values []any
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// receiveCopyData sends CopyInResponse and collects the client's data
// until CopyDone (or CopyFail, an error).
func (c *conn) receiveCopyData(table string, ncols int, binaryFormat bool) (string, error) {
	var format uint16
	if binaryFormat {
		format = 1
	}
	codes := make([]uint16, ncols)
	for i := range codes {
		codes[i] = format
	}
	c.be.Send(&pgproto3.CopyInResponse{OverallFormat: byte(format), ColumnFormatCodes: codes})
	if err := c.be.Flush(); err != nil {
		return "", err
	}
	var data strings.Builder
	tooBig := false
	for {
		msg, err := c.receive()
		if err != nil {
			return "", err
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if data.Len()+len(m.Data) > c.s.cfg.MaxMessage {
				tooBig = true
			}
			if !tooBig {
				data.Write(m.Data)
			}
		case *pgproto3.CopyDone:
			if tooBig {
				return "", pgerror.New(pgerror.ProgramLimitExceeded, "COPY data exceeds %d bytes", c.s.cfg.MaxMessage).
					WithDetail("A COPY FROM is applied as one log entry, whose size is bounded.").
					WithHint("Split the data into several COPY commands.")
			}
			return data.String(), nil
		case *pgproto3.CopyFail:
			e := pgerror.New(pgerror.QueryCanceled, "COPY from stdin failed: %s", m.Message)
			if !binaryFormat {
				e.Where = fmt.Sprintf("COPY %s, line %d", table, strings.Count(data.String(), "\n")+1)
			}
			return "", e
		case *pgproto3.Flush, *pgproto3.Sync:
			// Postgres ignores these during COPY IN.
		case *pgproto3.Terminate:
			return "", pgerror.New(pgerror.ConnectionFailure, "unexpected EOF on client connection with an open transaction")
		default:
			return "", pgerror.New(pgerror.ProtocolViolation, "unexpected message type 0x%02X during COPY from stdin", msgType(msg))
		}
	}
}

// msgType is a frontend message's type byte.
func msgType(m pgproto3.FrontendMessage) byte {
	b, err := m.Encode(nil)
	if err != nil || len(b) == 0 {
		return 0
	}
	return b[0]
}
