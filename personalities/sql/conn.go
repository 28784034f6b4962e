package sql

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"hourglass/personalities/sql/exec"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/types"
)

// conn is one client connection.
type conn struct {
	s   *Server
	nc  net.Conn
	be  *pgproto3.Backend
	pid int32
	key uint32
	ss  *session

	// Extended-query state: prepared statements and portals by name
	// ("" is the unnamed one).
	prepared map[string]*prepared
	portals  map[string]*portal
	// skipping: an error occurred in an extended-query batch; messages
	// are skipped until Sync.
	skipping bool
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
	c := &conn{s: s, nc: nc, prepared: map[string]*prepared{}, portals: map[string]*portal{}}
	c.be = pgproto3.NewBackend(nc, nc)
	c.be.SetMaxBodyLen(s.cfg.MaxMessage)
	return c
}

// serve runs the connection: startup, then messages until Terminate or
// an error. full refuses the connection (too many clients).
func (c *conn) serve(full bool) {
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
		msg, err := c.be.Receive()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				c.fatal(pgerror.New(pgerror.ProtocolViolation, "%v", err))
			}
			return
		}
		if !c.handle(msg) {
			return
		}
	}
}

// fatal sends a FATAL error and lets the connection close.
func (c *conn) fatal(e *pgerror.Error) {
	e.Severity = "FATAL"
	c.be.Send(errorResponse(e))
	c.be.Flush()
}

// startup handles the startup packet (answering SSL and GSSAPI
// encryption requests with 'N'), authenticates, and sends the session's
// parameters.
func (c *conn) startup(full bool) bool {
	for {
		msg, err := c.be.ReceiveStartupMessage()
		if err != nil {
			return false
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest, *pgproto3.GSSEncRequest:
			if _, err := c.nc.Write([]byte{'N'}); err != nil {
				return false
			}
			continue
		case *pgproto3.CancelRequest:
			c.s.cancelRequest(m.ProcessID, m.SecretKey)
			return false
		case *pgproto3.StartupMessage:
			if full {
				c.fatal(pgerror.New(pgerror.TooManyConnections, "sorry, too many clients already"))
				return false
			}
			user := m.Parameters["user"]
			if user == "" {
				c.fatal(pgerror.New(pgerror.InvalidAuthorizationSpecification, "no PostgreSQL user name specified in startup packet"))
				return false
			}
			db := m.Parameters["database"]
			if db == "" {
				db = user
			}
			if !c.authenticate(user) {
				return false
			}
			c.ss = newSession(c.s, user, db)
			for k, v := range m.Parameters {
				switch k {
				case "user", "database", "replication":
					continue
				case "options":
					continue
				}
				if err := c.ss.setParam(lower(k), []string{v}, 0); err != nil {
					c.fatal(pgerror.As(err))
					return false
				}
			}
			c.pid = c.s.nextPID.Add(1)
			c.ss.sess.BackendPID = c.pid
			c.key = randomKey()
			c.be.Send(&pgproto3.AuthenticationOk{})
			for _, name := range reported {
				v, _ := c.ss.param(lower(name))
				c.be.Send(&pgproto3.ParameterStatus{Name: name, Value: v})
			}
			c.be.Send(&pgproto3.BackendKeyData{ProcessID: uint32(c.pid), SecretKey: binary.BigEndian.AppendUint32(nil, c.key)})
			c.be.Send(&pgproto3.ReadyForQuery{TxStatus: txIdle})
			return c.be.Flush() == nil
		default:
			c.fatal(pgerror.New(pgerror.ProtocolViolation, "unsupported startup message"))
			return false
		}
	}
}

// authenticate checks the client's credentials (trust unless a password
// is configured).
func (c *conn) authenticate(user string) bool {
	if c.s.cfg.Password == "" {
		return true
	}
	c.fatal(pgerror.New(pgerror.InvalidPassword, "password authentication failed for user \"%s\"", user))
	return false
}

// handle processes one message; false closes the connection.
func (c *conn) handle(msg pgproto3.FrontendMessage) bool {
	ctx := c.s.ctx
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
		c.parse(m)
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
		c.be.Send(&pgproto3.ReadyForQuery{TxStatus: c.ss.state})
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
	stmts, err := exec.Parse(q)
	if err != nil {
		c.sendError(err)
		c.be.Send(&pgproto3.ReadyForQuery{TxStatus: c.ss.state})
		return
	}
	if len(stmts) == 0 {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		c.be.Send(&pgproto3.ReadyForQuery{TxStatus: c.ss.state})
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
		res, err := c.ss.run(ctx, st, nil, nil)
		if err != nil {
			c.sendError(err)
			failed = true
			break
		}
		c.sendResult(res, nil, true)
	}
	if implicit {
		if !failed && c.ss.state == txOpen {
			if err := c.ss.commit(ctx); err != nil {
				c.sendError(err)
			}
		}
		c.ss.end()
	}
	c.be.Send(&pgproto3.ReadyForQuery{TxStatus: c.ss.state})
}

// sendResult sends a statement's notices, rows (with their description
// if describe) and CommandComplete.
func (c *conn) sendResult(res *exec.Result, formats []int16, describe bool) {
	for _, n := range res.Notices {
		c.be.Send(noticeResponse(n))
	}
	if res.Columns != nil && describe {
		c.be.Send(rowDescription(res.Columns, formats))
	}
	c.sendRows(res, 0, len(res.Rows), formats)
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(res.Tag)})
}

// sendRows sends rows [from, to) of a result.
func (c *conn) sendRows(res *exec.Result, from, to int, formats []int16) {
	for _, r := range res.Rows[from:to] {
		vals := make([][]byte, len(r))
		for i, v := range r {
			if v == nil {
				continue
			}
			vals[i] = []byte(types.Format(res.Columns[i].Type, v, c.ss.sess.Types))
		}
		c.be.Send(&pgproto3.DataRow{Values: vals})
	}
}

// rowDescription describes result columns.
func rowDescription(cols []exec.Column, formats []int16) *pgproto3.RowDescription {
	rd := &pgproto3.RowDescription{}
	for i, col := range cols {
		size := int16(-1)
		if info := types.Lookup(col.Type.Oid); info != nil {
			size = info.Len
		}
		var f int16
		if len(formats) == 1 {
			f = formats[0]
		} else if i < len(formats) {
			f = formats[i]
		}
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
func (c *conn) parse(m *pgproto3.Parse) {
	stmts, err := exec.Parse(m.Query)
	if err == nil && len(stmts) > 1 {
		err = pgerror.New(pgerror.SyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	if err != nil {
		c.extendedError(err)
		return
	}
	p := &prepared{}
	for _, o := range m.ParameterOIDs {
		p.params = append(p.params, types.T(types.Oid(o)))
	}
	if len(stmts) == 1 {
		p.st = stmts[0]
		if err := c.describeStatement(p); err != nil {
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
func (c *conn) describeStatement(p *prepared) error {
	if p.st.Node.GetTransactionStmt() != nil || p.st.Node.GetVariableSetStmt() != nil || p.st.Node.GetVariableShowStmt() != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.s.ctx, c.s.cfg.ProposeTimeout)
	defer cancel()
	v, err := c.s.engine.Sync(ctx)
	if err != nil {
		return stackError(err)
	}
	defer v.Close()
	env := c.ss.env(storeOf(c.ss, v), timestamp(c.s.cfg.Clock()))
	cols, params, err := exec.Describe(env, p.st, p.params)
	if err != nil {
		return err
	}
	p.cols, p.params = cols, params
	return nil
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
	values := make([]any, len(m.Parameters))
	for i, raw := range m.Parameters {
		if raw == nil {
			continue
		}
		format := int16(0)
		if len(m.ParameterFormatCodes) == 1 {
			format = m.ParameterFormatCodes[0]
		} else if i < len(m.ParameterFormatCodes) {
			format = m.ParameterFormatCodes[i]
		}
		if format != 0 {
			c.extendedError(pgerror.New(pgerror.FeatureNotSupported, "binary parameter format is not supported"))
			return
		}
		v, err := types.Parse(p.params[i], string(raw), c.ss.sess.Types)
		if err != nil {
			c.extendedError(err)
			return
		}
		values[i] = v
	}
	c.portals[m.DestinationPortal] = &portal{p: p, values: values, formats: m.ResultFormatCodes}
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
		res, err := c.ss.run(ctx, pt.p.st, pt.p.params, pt.values)
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
		c.sendRows(pt.res, pt.sent, to, pt.formats)
		pt.sent = to
		c.be.Send(&pgproto3.PortalSuspended{})
		return
	}
	c.sendRows(pt.res, pt.sent, to, pt.formats)
	pt.sent, pt.done = to, true
	c.be.Send(&pgproto3.CommandComplete{CommandTag: []byte(pt.res.Tag)})
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
