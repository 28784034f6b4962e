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

// copyIn receives COPY data and inserts its rows as they arrive, in the
// session's transaction (or one of its own): the rows stream through the
// transaction's overlay, which spills to its staging area as it grows
// (stage.go), so a COPY of any size holds a bounded part of its data in
// memory. Its progress shows in pg_stat_progress_copy.
func (c *conn) copyIn(ctx context.Context, t *catalog.Object, qname string, cols []*catalog.Column, names []string, o *copyOptions) (*exec.Result, error) {
	if err := c.startCopyIn(len(cols), o.binary); err != nil {
		return nil, err
	}
	params := make([]string, len(cols))
	ptypes := make([]types.Type, len(cols))
	for i, col := range cols {
		params[i], ptypes[i] = fmt.Sprintf("$%d", i+1), col.Type
	}
	stmts, err := exec.Parse(fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", qname, strings.Join(names, ", "), strings.Join(params, ", ")))
	if err != nil {
		return nil, c.drainCopy(err)
	}
	own := c.ss.state != txOpen
	if own {
		// Outside a transaction block the rows are a transaction of
		// their own.
		c.ss.state, c.ss.tx = txOpen, &transaction{now: timestamp(c.s.cfg.Clock())}
		defer c.ss.end()
	}
	env, err := c.ss.txEnv(ctx)
	if err != nil {
		return nil, c.drainCopy(err)
	}
	mark := c.ss.tx.overlay.Mark()
	c.ss.tx.replay.disable()
	ins, err := exec.PlanRunner(env, stmts[0], ptypes)
	if err != nil {
		return nil, c.drainCopy(err)
	}
	prog := exec.StartCopy(exec.CopyProgress{PID: c.pid, Database: c.ss.sess.Database, Relid: t.Oid, Command: "COPY FROM", Type: "PIPE"})
	defer prog.Done()
	in := &copyInput{c: c, t: t, cols: cols, o: o, r: &copyReader{o: o}, ins: ins, prog: prog, ctx: ctx}
	res := &exec.Result{}
	if err := in.receive(res); err != nil {
		c.ss.tx.overlay.Rollback(mark)
		return nil, err
	}
	res.Tag = fmt.Sprintf("COPY %d", in.rows)
	if own {
		if err := c.ss.commit(ctx); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// copyInput is a COPY FROM STDIN under way.
type copyInput struct {
	c    *conn
	ctx  context.Context
	t    *catalog.Object
	cols []*catalog.Column
	o    *copyOptions
	r    *copyReader
	ins  *exec.Runner
	prog *exec.CopyRun
	buf  []byte // data not yet parsed: at most a partial row
	rows int64
	// headerDone: the header line (HEADER option) was skipped.
	headerDone bool
}

// where sets e's CONTEXT to the COPY's current line, with a suffix.
func (in *copyInput) where(e *pgerror.Error, format string, args ...any) *pgerror.Error {
	e.Where = fmt.Sprintf("COPY %s, line %d", in.t.Name, in.r.line) + fmt.Sprintf(format, args...)
	return e
}

// spillEvery is how many rows a COPY inserts between checks of its
// transaction's size.
const spillEvery = 256

// receive reads the client's COPY messages until CopyDone or CopyFail,
// inserting rows as they complete. After an error it reads on (and
// discards) to the end of the data, as Postgres does, and returns it.
func (in *copyInput) receive(res *exec.Result) error {
	var failed error
	for {
		msg, err := in.c.receive()
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if failed != nil {
				continue
			}
			in.buf = append(in.buf, m.Data...)
			in.prog.Bytes(int64(len(m.Data)))
			failed = in.parse(res, false)
			if failed == nil && len(in.buf) > in.c.s.cfg.MaxMessage {
				failed = pgerror.New(pgerror.ProgramLimitExceeded, "COPY row exceeds %d bytes", in.c.s.cfg.MaxMessage)
			}
		case *pgproto3.CopyDone:
			if failed == nil {
				failed = in.parse(res, true)
			}
			return failed
		case *pgproto3.CopyFail:
			e := pgerror.New(pgerror.QueryCanceled, "COPY from stdin failed: %s", m.Message)
			if !in.o.binary {
				e.Where = fmt.Sprintf("COPY %s, line %d", in.t.Name, in.r.lines+1)
			}
			return e
		case *pgproto3.Flush, *pgproto3.Sync:
			// Postgres ignores these during COPY IN.
		case *pgproto3.Terminate:
			return pgerror.New(pgerror.ConnectionFailure, "unexpected EOF on client connection with an open transaction")
		default:
			return pgerror.New(pgerror.ProtocolViolation, "unexpected message type 0x%02X during COPY from stdin", msgType(msg))
		}
	}
}

// parse inserts the complete rows in the buffer (every row, final).
func (in *copyInput) parse(res *exec.Result, final bool) error {
	r := in.r
	r.data, r.pos = string(in.buf), 0
	for {
		start, lines := r.pos, r.lines
		if !final && !r.complete() {
			break
		}
		fields, raw, err := r.next()
		if !final && r.pos >= len(r.data) && !r.o.binary {
			// The row may go on in the next message.
			r.pos, r.lines = start, lines
			break
		}
		if err != nil {
			return in.where(pgerror.As(err), ": \"%s\"", limitPrintout(raw))
		}
		if fields == nil {
			r.pos = len(r.data)
			break
		}
		if in.o.header && !in.headerDone {
			in.headerDone = true
			continue
		}
		if err := in.insert(res, fields, raw); err != nil {
			return err
		}
	}
	in.buf = append(in.buf[:0], r.data[r.pos:]...)
	r.data, r.pos = "", 0
	return nil
}

// insert converts one row's fields and inserts it.
func (in *copyInput) insert(res *exec.Result, fields []copyField, raw string) error {
	cols, o, where := in.cols, in.o, in.where
	if o.binary && len(fields) != len(cols) {
		return where(pgerror.New(pgerror.BadCopyFileFormat, "row field count is %d, expected %d", len(fields), len(cols)), "")
	}
	if len(fields) > len(cols) {
		return where(pgerror.New(pgerror.BadCopyFileFormat, "extra data after last expected column"), ": \"%s\"", limitPrintout(raw))
	}
	if len(fields) < len(cols) {
		return where(pgerror.New(pgerror.BadCopyFileFormat, "missing data for column \"%s\"", cols[len(fields)].Name), ": \"%s\"", limitPrintout(raw))
	}
	values := make([]any, len(cols))
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
			v, err = types.Parse(col.Type, f.val, in.c.ss.sess.Types)
		}
		if err == nil {
			v, err = types.Coerce(col.Type, v, false)
		}
		if err != nil && o.binary {
			return where(pgerror.As(err), ", column %s", col.Name)
		}
		if err != nil {
			return where(pgerror.As(err), ", column %s: \"%s\"", col.Name, limitPrintout(f.val))
		}
		values[i] = v
	}
	out, err := in.ins.Run(values)
	if err != nil {
		e := pgerror.As(err)
		if e.Where == "" && e.Code == pgerror.UniqueViolation {
			return in.where(e, "")
		}
		if e.Where == "" {
			return in.where(e, ": \"%s\"", limitPrintout(raw))
		}
		return e
	}
	res.Notices = append(res.Notices, out.Notices...)
	in.rows++
	in.prog.Tuple()
	if in.rows%spillEvery == 0 {
		return in.c.ss.maybeSpill(in.ctx)
	}
	return nil
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

// startCopyIn sends CopyInResponse.
func (c *conn) startCopyIn(ncols int, binaryFormat bool) error {
	var format uint16
	if binaryFormat {
		format = 1
	}
	codes := make([]uint16, ncols)
	for i := range codes {
		codes[i] = format
	}
	c.be.Send(&pgproto3.CopyInResponse{OverallFormat: byte(format), ColumnFormatCodes: codes})
	return c.be.Flush()
}

// drainCopy reads the client's COPY data to its end, discarding it, and
// returns err: the COPY failed before its first row.
func (c *conn) drainCopy(err error) error {
	for {
		msg, rerr := c.receive()
		if rerr != nil {
			return rerr
		}
		switch msg.(type) {
		case *pgproto3.CopyData, *pgproto3.Flush, *pgproto3.Sync:
		case *pgproto3.CopyDone, *pgproto3.CopyFail:
			return err
		default:
			return pgerror.New(pgerror.ProtocolViolation, "unexpected message type 0x%02X during COPY from stdin", msgType(msg))
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
