package sql

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	pg "github.com/pganalyze/pg_query_go/v6"

	"hourglass/personalities/sql/exec"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// conn is one client connection.
type conn struct {
	s  *Server
	nc net.Conn
	// ctx is the connection's, cancelled when it ends (or the server
	// closes); statements' contexts derive from it.
	ctx       context.Context
	cancelCtx context.CancelFunc
	// wire is what the protocol travels over: nc, or the TLS connection
	// over it once an SSLRequest was accepted (ssl).
	wire net.Conn
	ssl  bool
	be   *pgproto3.Backend // used to send only; fr reads
	fr   *frameReader
	pid  int32
	key  uint32
	ss   *session

	// Extended-query state: prepared statements and portals by name
	// ("" is the unnamed one).
	prepared map[string]*prepared
	portals  map[string]*portal
	// skipping: an error occurred in an extended-query batch; messages
	// are skipped until Sync.
	skipping bool

	// implicit: an extended-protocol pipeline's implicit transaction is
	// open (committed at Sync).
	implicit bool

	// sentParams are the reported parameters' values as last sent.
	sentParams map[string]string

	// running holds the cancel function of the statement being run, for
	// cancel requests (which arrive on other connections' goroutines).
	running struct {
		sync.Mutex
		cancel context.CancelFunc
	}
}

// prepared is a statement of the extended protocol.
type prepared struct {
	st     *exec.Statement // nil for an empty query
	params []types.Type
	cols   []exec.Column
}

// portal is a bound statement.
type portal struct {
	p       *prepared
	values  []any
	formats []int16 // result column formats
	// res holds the rows once executed; sent counts those already sent
	// (Execute with a row limit).
	res  *exec.Result
	sent int
	done bool
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc, wire: nc, prepared: map[string]*prepared{}, portals: map[string]*portal{}}
	c.be = pgproto3.NewBackend(nc, nc)
	c.fr = newFrameReader(nc, s.cfg.MaxMessage)
	// The connection's statements derive their contexts from one of its
	// own, so that making one does not contend with other connections.
	c.ctx, c.cancelCtx = context.WithCancel(s.ctx)
	return c
}

// startTLS answers an SSLRequest: 'N' without TLS material (or on a
// connection that already speaks TLS), else 'S' and the server's side of
// the handshake, after which the connection speaks through TLS. It
// reports whether the connection goes on.
func (c *conn) startTLS() bool {
	if c.s.cfg.TLS == nil || c.ssl {
		_, err := c.wire.Write([]byte{'N'})
		return err == nil
	}
	if c.fr.r.Buffered() > 0 {
		// Bytes sent after the SSLRequest, before the handshake, could
		// have been injected by a man in the middle (CVE-2021-23214).
		c.fatal(pgerror.New(pgerror.ProtocolViolation, "received unencrypted data after SSL request"))
		return false
	}
	if _, err := c.nc.Write([]byte{'S'}); err != nil {
		return false
	}
	tc := tls.Server(c.nc, c.s.cfg.TLS)
	if err := tc.Handshake(); err != nil {
		c.s.log.Debug("TLS handshake failed", "addr", c.nc.RemoteAddr().String(), "err", err)
		return false
	}
	c.wire, c.ssl = tc, true
	c.be = pgproto3.NewBackend(tc, tc)
	c.fr = newFrameReader(tc, c.s.cfg.MaxMessage)
	return true
}

// serve runs the connection: startup, then messages until Terminate or
// an error. full refuses the connection (too many clients).
func (c *conn) serve(full bool) {
	defer c.cancelCtx()
	defer c.nc.Close()
	defer func() {
		if c.ss != nil {
			c.ss.end()
		}
	}()
	c.nc.SetDeadline(time.Now().Add(time.Minute))
	if !c.startup(full) {
		return
	}
	c.nc.SetDeadline(time.Time{})
	for {
		msg, err := c.receive()
		if err != nil {
			return
		}
		if !c.handle(msg) {
			return
		}
	}
}

// receive reads and decodes the next message. A protocol violation is
// reported with a FATAL error and ends the connection. (Postgres logs a
// bad message length without telling the client; the client is told
// here.)
func (c *conn) receive() (pgproto3.FrontendMessage, error) {
	typ, body, err := c.fr.readMessage()
	if err == nil {
		var msg pgproto3.FrontendMessage
		if msg, err = decodeMessage(typ, body); err == nil {
			return msg, nil
		}
	}
	var pe *pgerror.Error
	if errors.As(err, &pe) {
		c.fatal(pe)
	}
	return nil, err
}

// fatal sends a FATAL error and lets the connection close.
func (c *conn) fatal(e *pgerror.Error) {
	e.Severity = "FATAL"
	c.be.Send(errorResponse(e))
	c.be.Flush()
}

// startup handles the startup packet (answering SSL and GSSAPI
// encryption requests with 'N'), authenticates, and sends the session's
// parameters. A 3.x protocol newer than 3.0 is answered with
// NegotiateProtocolVersion (3.0), as Postgres 15 does.
func (c *conn) startup(full bool) bool {
	for {
		p, err := c.fr.readStartup()
		if err != nil {
			var pe *pgerror.Error
			// Postgres only logs a startup packet of a bad length, and
			// answers a protocol before 3.0 in that protocol's format.
			switch {
			case !errors.As(err, &pe) || pe.Message == "invalid length of startup packet":
			case pe.Code == pgerror.FeatureNotSupported:
				c.wire.Write(append([]byte("EFATAL:  "+pe.Message+"\n"), 0))
			default:
				c.fatal(pe)
			}
			return false
		}
		switch p.code {
		case sslRequest:
			if !c.startTLS() {
				return false
			}
			continue
		case gssEncRequest:
			if _, err := c.wire.Write([]byte{'N'}); err != nil {
				return false
			}
			continue
		case cancelCode:
			c.s.cancelRequest(p.pid, p.key)
			return false
		}
		if full {
			c.fatal(pgerror.New(pgerror.TooManyConnections, "sorry, too many clients already"))
			return false
		}
		params := map[string]string{}
		var unrecognized []string
		for _, kv := range p.params {
			if len(kv[0]) > 5 && kv[0][:5] == "_pq_." {
				unrecognized = append(unrecognized, kv[0])
				continue
			}
			params[kv[0]] = kv[1]
		}
		if p.code != protocol30 || len(unrecognized) > 0 {
			// Postgres 15 sends its newest version whole (3.0) here.
			c.be.Send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: protocol30, UnrecognizedOptions: unrecognized})
		}
		user := params["user"]
		if user == "" {
			c.fatal(pgerror.New(pgerror.InvalidAuthorizationSpecification, "no PostgreSQL user name specified in startup packet"))
			return false
		}
		db := params["database"]
		if db == "" {
			db = user
		}
		if c.s.cfg.SSLRequired && !c.ssl {
			// As a pg_hba.conf with only hostssl lines answers.
			host, _, _ := net.SplitHostPort(c.nc.RemoteAddr().String())
			c.fatal(pgerror.New(pgerror.InvalidAuthorizationSpecification, "no pg_hba.conf entry for host \"%s\", user \"%s\", database \"%s\", no encryption", host, user, db))
			return false
		}
		if !c.authenticate(user) {
			return false
		}
		c.ss = newSession(c.s, user, db)
		for _, kv := range p.params {
			switch kv[0] {
			case "user", "database", "replication", "options":
				continue
			}
			if len(kv[0]) > 5 && kv[0][:5] == "_pq_." {
				continue
			}
			if err := c.ss.setParam(lower(kv[0]), []string{kv[1]}, 0); err != nil {
				c.fatal(pgerror.As(err))
				return false
			}
		}
		c.pid = c.s.newPID()
		c.ss.sess.BackendPID = c.pid
		c.key = randomKey()
		c.be.Send(&pgproto3.AuthenticationOk{})
		c.reportParams()
		c.be.Send(&pgproto3.BackendKeyData{ProcessID: uint32(c.pid), SecretKey: binary.BigEndian.AppendUint32(nil, c.key)})
		c.be.Send(&pgproto3.ReadyForQuery{TxStatus: txIdle})
		return c.be.Flush() == nil
	}
}

// handle processes one message; false closes the connection.
func (c *conn) handle(msg pgproto3.FrontendMessage) bool {
	ctx, done := c.statementContext()
	defer done()
	if c.skipping {
		switch msg.(type) {
		case *pgproto3.Sync:
			c.skipping = false
		case *pgproto3.Terminate:
			return false
		default:
			return true
		}
	}
	switch m := msg.(type) {
	case *pgproto3.Query:
		c.simpleQuery(ctx, m.String)
	case *pgproto3.Parse:
		c.parse(ctx, m)
	case *pgproto3.Bind:
		c.bind(m)
	case *pgproto3.Describe:
		c.describe(m)
	case *pgproto3.Execute:
		c.execute(ctx, m)
	case *pgproto3.Close:
		if m.ObjectType == 'S' {
			delete(c.prepared, m.Name)
		} else {
			delete(c.portals, m.Name)
		}
		c.be.Send(&pgproto3.CloseComplete{})
	case *pgproto3.Sync:
		delete(c.portals, "")
		c.endPipeline(ctx)
		c.readyForQuery()
		return c.be.Flush() == nil
	case *pgproto3.Flush:
		return c.be.Flush() == nil
	case *pgproto3.Terminate:
		return false
	default:
		c.fatal(pgerror.New(pgerror.ProtocolViolation, "unexpected message type %T", msg))
		return false
	}
	return true
}

// simpleQuery runs a Query message: its statements in order, as one
// implicit transaction when there are several and none controls the
// transaction itself.
func (c *conn) simpleQuery(ctx context.Context, q string) {
	defer c.be.Flush()
	stmts, err := c.s.parsed.parseAll(q)
	if err != nil {
		c.sendError(err)
		c.readyForQuery()
		return
	}
	if len(stmts) == 0 {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		c.readyForQuery()
		return
	}
	implicit := len(stmts) > 1 && c.ss.state == txIdle
	for _, st := range stmts {
		if st.Node.GetTransactionStmt() != nil {
			implicit = false
		}
	}
	if implicit {
		c.ss.state, c.ss.tx = txOpen, &transaction{now: timestamp(c.s.cfg.Clock())}
	}
	failed := false
	for _, st := range stmts {
		res, err := c.run(ctx, st, nil, nil)
		if err != nil {
			c.sendError(err)
			failed = true
			break
		}
		if err := c.sendResult(res, nil, true); err != nil {
			c.sendError(err)
			failed = true
			break
		}
	}
	if implicit {
		if !failed && c.ss.state == txOpen {
			if err := c.ss.commit(ctx); err != nil {
				c.sendError(err)
			}
		}
		c.ss.end()
	}
	c.readyForQuery()
}

// sendResult sends a statement's notices, rows (with their description
// if describe) and CommandComplete.
func (c *conn) sendResult(res *exec.Result, formats []int16, describe bool) error {
	for _, n := range res.Notices {
		c.be.Send(noticeResponse(n))
	}
	if res.Columns != nil && describe {
		c.be.Send(rowDescription(res.Columns, formats))
	}
	if err := c.sendRows(res, 0, len(res.Rows), formats); err != nil {
		return err
	}
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(res.Tag)})
	return nil
}

// sendRows sends rows [from, to) of a result, each column in its format
// (one code applies to every column; none means text).
func (c *conn) sendRows(res *exec.Result, from, to int, formats []int16) error {
	for _, r := range res.Rows[from:to] {
		vals := make([][]byte, len(r))
		for i, v := range r {
			if v == nil {
				continue
			}
			if formatOf(formats, i) == 1 {
				b, err := types.EncodeBinary(res.Columns[i].Type, v)
				if err != nil {
					return err
				}
				if b == nil {
					b = []byte{}
				}
				vals[i] = b
				continue
			}
			vals[i] = []byte(types.Format(res.Columns[i].Type, v, c.ss.sess.Types))
		}
		c.be.Send(&pgproto3.DataRow{Values: vals})
	}
	return nil
}

// formatOf is column (or parameter) i's format code: one code applies
// to all, none means text.
func formatOf(formats []int16, i int) int16 {
	switch {
	case len(formats) == 1:
		return formats[0]
	case i < len(formats):
		return formats[i]
	}
	return 0
}

// rowDescription describes result columns.
func rowDescription(cols []exec.Column, formats []int16) *pgproto3.RowDescription {
	rd := &pgproto3.RowDescription{}
	for i, col := range cols {
		size := int16(-1)
		if info := types.Lookup(col.Type.Oid); info != nil {
			size = info.Len
		}
		f := formatOf(formats, i)
		rd.Fields = append(rd.Fields, pgproto3.FieldDescription{
			Name: []byte(col.Name), TableOID: uint32(col.Table), TableAttributeNumber: uint16(col.Attnum),
			DataTypeOID: uint32(col.Type.Oid), DataTypeSize: size, TypeModifier: col.Type.Mod, Format: f,
		})
	}
	return rd
}

// sendError sends err as an ErrorResponse, and fails an open transaction.
func (c *conn) sendError(err error) {
	e := pgerror.As(err)
	if e.Code == pgerror.Internal {
		c.s.log.Warn("internal error", "err", err)
	}
	c.be.Send(errorResponse(e))
	if c.ss.state == txOpen {
		c.ss.state = txFailed
	}
}

func errorResponse(e *pgerror.Error) *pgproto3.ErrorResponse {
	sev := e.Severity
	if sev == "" {
		sev = "ERROR"
	}
	return &pgproto3.ErrorResponse{
		Severity: sev, SeverityUnlocalized: sev, Code: e.Code, Message: e.Message, Detail: e.Detail, Hint: e.Hint,
		Position: e.Position, SchemaName: e.Schema, TableName: e.Table, ColumnName: e.Column,
		DataTypeName: e.DataType, ConstraintName: e.Constraint, Where: e.Where,
	}
}

func noticeResponse(e *pgerror.Error) *pgproto3.NoticeResponse {
	r := errorResponse(e)
	return (*pgproto3.NoticeResponse)(r)
}

// parse handles Parse: the statement is parsed and described now.
func (c *conn) parse(ctx context.Context, m *pgproto3.Parse) {
	stmts, err := c.s.parsed.parseAll(m.Query)
	if err == nil && len(stmts) > 1 {
		err = pgerror.New(pgerror.SyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	if err != nil {
		c.extendedError(err)
		return
	}
	p := &prepared{}
	for _, o := range m.ParameterOIDs {
		if o == 0 {
			o = uint32(types.OidUnknown) // left to the statement to decide
		}
		p.params = append(p.params, types.T(types.Oid(o)))
	}
	if len(stmts) == 1 {
		p.st = stmts[0]
		if err := c.describeStatement(ctx, p); err != nil {
			c.extendedError(err)
			return
		}
	}
	if m.Name != "" {
		if _, dup := c.prepared[m.Name]; dup {
			c.extendedError(pgerror.New(pgerror.DuplicatePreparedStatement, "prepared statement \"%s\" already exists", m.Name))
			return
		}
	}
	c.prepared[m.Name] = p
	c.be.Send(&pgproto3.ParseComplete{})
}

// describeStatement fills in a prepared statement's parameter types and
// result columns.
func (c *conn) describeStatement(ctx context.Context, p *prepared) error {
	if v := p.st.Node.GetVariableShowStmt(); v != nil {
		p.cols = showColumns(v)
		return nil
	}
	if p.st.Node.GetTransactionStmt() != nil || p.st.Node.GetVariableSetStmt() != nil || p.st.Node.GetVariableShowStmt() != nil || p.st.Node.GetCopyStmt() != nil || p.st.Node.GetDeallocateStmt() != nil {
		return nil
	}
	env, done, err := c.describeEnv(ctx)
	if err != nil {
		return err
	}
	defer done()
	cols, params, err := exec.Describe(env, p.st, p.params)
	if err != nil {
		return err
	}
	p.cols, p.params = cols, params
	return nil
}

// describeEnv returns an Env over what the session's statements see now:
// the open transaction's overlay, or a view synced with the log. done
// releases it.
func (c *conn) describeEnv(ctx context.Context) (env *exec.Env, done func(), err error) {
	sctx, cancel := context.WithTimeout(ctx, c.s.cfg.ProposeTimeout)
	v, err := c.s.engine.Sync(sctx)
	if err != nil {
		cancel()
		return nil, nil, stackError(err)
	}
	env = c.ss.env(ctx, storeOf(c.ss, v), timestamp(c.s.cfg.Clock()))
	return env, func() { v.Close(); cancel() }, nil
}

// extendedError reports an error in an extended-query batch: the rest of
// the batch is skipped until Sync.
func (c *conn) extendedError(err error) {
	c.sendError(err)
	c.skipping = true
}

// bind handles Bind: parameters are decoded (text or binary) for the
// statement's types.
func (c *conn) bind(m *pgproto3.Bind) {
	p := c.prepared[m.PreparedStatement]
	if p == nil {
		c.extendedError(pgerror.New(pgerror.InvalidSQLStatementName, "prepared statement \"%s\" does not exist", m.PreparedStatement))
		return
	}
	if len(m.Parameters) != len(p.params) {
		c.extendedError(pgerror.New(pgerror.ProtocolViolation, "bind message supplies %d parameters, but prepared statement \"%s\" requires %d", len(m.Parameters), m.PreparedStatement, len(p.params)))
		return
	}
	if n := len(m.ParameterFormatCodes); n > 1 && n != len(m.Parameters) {
		c.extendedError(pgerror.New(pgerror.ProtocolViolation, "bind message has %d parameter formats but %d parameters", n, len(m.Parameters)))
		return
	}
	if n := len(m.ResultFormatCodes); n > 1 && n != len(p.cols) {
		c.extendedError(pgerror.New(pgerror.ProtocolViolation, "bind message has %d result formats but query has %d columns", n, len(p.cols)))
		return
	}
	for _, f := range m.ResultFormatCodes {
		if f != 0 && f != 1 {
			c.extendedError(pgerror.New(pgerror.InvalidParameterValue, "unsupported format code: %d", f))
			return
		}
	}
	values := make([]any, len(m.Parameters))
	for i, raw := range m.Parameters {
		if raw == nil {
			continue
		}
		var v any
		var err error
		switch f := formatOf(m.ParameterFormatCodes, i); f {
		case 0:
			v, err = types.Parse(p.params[i], string(raw), c.ss.sess.Types)
		case 1:
			v, err = types.DecodeBinary(p.params[i], append([]byte(nil), raw...))
		default:
			err = pgerror.New(pgerror.InvalidParameterValue, "unsupported format code: %d", f)
		}
		if err != nil {
			c.extendedError(err)
			return
		}
		values[i] = v
	}
	c.portals[m.DestinationPortal] = &portal{p: p, values: values, formats: append([]int16(nil), m.ResultFormatCodes...)}
	c.be.Send(&pgproto3.BindComplete{})
}

// describe handles Describe of a statement or a portal.
func (c *conn) describe(m *pgproto3.Describe) {
	var p *prepared
	var formats []int16
	if m.ObjectType == 'S' {
		p = c.prepared[m.Name]
		if p == nil {
			c.extendedError(pgerror.New(pgerror.InvalidSQLStatementName, "prepared statement \"%s\" does not exist", m.Name))
			return
		}
		pd := &pgproto3.ParameterDescription{}
		for _, t := range p.params {
			pd.ParameterOIDs = append(pd.ParameterOIDs, uint32(t.Oid))
		}
		c.be.Send(pd)
	} else {
		pt := c.portals[m.Name]
		if pt == nil {
			c.extendedError(pgerror.New(pgerror.InvalidCursorName, "portal \"%s\" does not exist", m.Name))
			return
		}
		p, formats = pt.p, pt.formats
	}
	if p.cols == nil {
		c.be.Send(&pgproto3.NoData{})
		return
	}
	c.be.Send(rowDescription(p.cols, formats))
}

// execute handles Execute: the portal's statement runs once; its rows
// are sent maxRows at a time (0: all).
func (c *conn) execute(ctx context.Context, m *pgproto3.Execute) {
	pt := c.portals[m.Portal]
	if pt == nil {
		c.extendedError(pgerror.New(pgerror.InvalidCursorName, "portal \"%s\" does not exist", m.Portal))
		return
	}
	if pt.p.st == nil {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		return
	}
	if pt.res == nil {
		c.beginPipeline(pt.p.st)
		if t := pt.p.st.Node.GetTransactionStmt(); t != nil && c.implicit && (t.Kind == pg.TransactionStmtKind_TRANS_STMT_BEGIN || t.Kind == pg.TransactionStmtKind_TRANS_STMT_START) {
			// BEGIN turns the pipeline's implicit transaction into a block.
			c.implicit = false
			c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte("BEGIN")})
			return
		}
		res, err := c.run(ctx, pt.p.st, pt.p.params, pt.values)
		if err != nil {
			c.extendedError(err)
			return
		}
		pt.res = res
		for _, n := range res.Notices {
			c.be.Send(noticeResponse(n))
		}
	}
	if pt.done {
		c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(pt.res.Tag)})
		return
	}
	to := len(pt.res.Rows)
	if m.MaxRows > 0 && pt.sent+int(m.MaxRows) < to {
		to = pt.sent + int(m.MaxRows)
		if err := c.sendRows(pt.res, pt.sent, to, pt.formats); err != nil {
			c.extendedError(err)
			return
		}
		pt.sent = to
		c.be.Send(&pgproto3.PortalSuspended{})
		return
	}
	if err := c.sendRows(pt.res, pt.sent, to, pt.formats); err != nil {
		c.extendedError(err)
		return
	}
	pt.sent, pt.done = to, true
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(pt.res.Tag)})
}

// readyForQuery reports changed parameters and sends ReadyForQuery, as
// Postgres does before each ReadyForQuery.
func (c *conn) readyForQuery() {
	c.reportParams()
	c.be.Send(&pgproto3.ReadyForQuery{TxStatus: c.ss.state})
}

// reportParams sends ParameterStatus for each reported parameter whose
// value changed since it was last reported.
func (c *conn) reportParams() {
	if c.ss == nil {
		return
	}
	if c.sentParams == nil {
		c.sentParams = map[string]string{}
	}
	for _, name := range reported {
		v, _ := c.ss.param(lower(name))
		if old, ok := c.sentParams[name]; ok && old == v {
			continue
		}
		c.sentParams[name] = v
		c.be.Send(&pgproto3.ParameterStatus{Name: name, Value: v})
	}
}

func lower(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			b[i] = ch + 'a' - 'A'
		}
	}
	return string(b)
}
