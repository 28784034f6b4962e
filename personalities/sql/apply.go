package sql

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"hourglass/personalities/sql/catalog"
	"hourglass/personalities/sql/exec"
	"hourglass/personalities/sql/pgerror"
	"hourglass/personalities/sql/sqlpb"
	"hourglass/personalities/sql/store"
	"hourglass/personalities/sql/types"
	"hourglass/platform"
)

// applicator is the Postgres personality's top-layer applicator: it runs
// a write statement, validates and applies a transaction, or advances a
// sequence, deterministically, in the entry's transaction.
type applicator struct {
	s *Server
	// parsed caches the parse of the statements entries carry, by text
	// (parsing is deterministic and a parsed statement is never
	// changed, so sharing one is safe).
	parsed parseCache
}

// parseCache maps query text to its parse, bounded: it is emptied when
// it reaches maxParsed entries. Parsing is deterministic and a parsed
// statement is never changed (its plan cache is guarded), so one parse
// serves every connection and the apply loop.
type parseCache struct {
	mu struct {
		sync.Mutex
		m map[string][]*exec.Statement // guarded by mu
	}
}

const maxParsed = 1024

// parseAll returns sql parsed.
func (c *parseCache) parseAll(sql string) ([]*exec.Statement, error) {
	c.mu.Lock()
	stmts, ok := c.mu.m[sql]
	c.mu.Unlock()
	if ok {
		return stmts, nil
	}
	stmts, err := exec.Parse(sql)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.mu.m == nil || len(c.mu.m) >= maxParsed {
		c.mu.m = map[string][]*exec.Statement{}
	}
	c.mu.m[sql] = stmts
	c.mu.Unlock()
	return stmts, nil
}

// parse returns sql parsed as one statement.
func (c *parseCache) parse(sql string) (*exec.Statement, error) {
	stmts, err := c.parseAll(sql)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, pgerror.New(pgerror.Internal, "an exec entry holds %d statements", len(stmts))
	}
	return stmts[0], nil
}

// applied is what applying an entry returns to its proposer: the
// statement's result, or its error (nothing of it was written), and the
// sequence values its nextval and setval calls gave, which the proposer's
// session records for currval and lastval (sequences are not
// transactional: they count even when the statement fails).
type applied struct {
	res   *exec.Result
	err   error
	value int64 // Nextval's value
	seqs  exec.SequenceValues
}

var errStagingOff = pgerror.New(pgerror.FeatureNotSupported, "a transaction this large needs every member to run a build with staging (Postgres personality version 2, not yet enabled)")

var errSerialization = pgerror.New(pgerror.SerializationFailure, "could not serialize access due to concurrent update")

func (a *applicator) Apply(txn platform.Txn, e *platform.Entry, at platform.Version) (platform.Result, error) {
	var ent sqlpb.Entry
	if err := proto.Unmarshal(e.Body, &ent); err != nil {
		return platform.Result{Value: &applied{err: pgerror.New(pgerror.Internal, "undecodable entry: %v", err)}}, nil
	}
	base := store.FromTxn(txn)
	var r *applied
	staging := ent.GetStage() != nil || ent.GetUnstage() != nil || len(ent.GetCommit().GetTxid()) > 0
	if staging && a.s.cfg.Version() < stagingVersion {
		// A member's build may not know these entries: every replica
		// refuses them alike until version 2 is enabled.
		return platform.Result{Value: &applied{err: errStagingOff}}, nil
	}
	switch k := ent.Kind.(type) {
	case *sqlpb.Entry_Exec:
		r = a.exec(base, k.Exec)
	case *sqlpb.Entry_Commit:
		r = a.commit(txn, base, k.Commit)
	case *sqlpb.Entry_Nextval:
		r = a.nextval(base, catalog.Oid(k.Nextval.Sequence))
	case *sqlpb.Entry_Stage:
		r = a.stage(base, k.Stage)
	case *sqlpb.Entry_Unstage:
		r = a.unstage(txn, base, k.Unstage)
	default:
		r = &applied{err: pgerror.New(pgerror.Internal, "unknown entry kind")}
	}
	if errors.Is(r.err, errFatal) {
		return platform.Result{}, r.err
	}
	return platform.Result{Value: r}, nil
}

// exec runs one statement in an overlay of the apply transaction, and
// keeps its writes only if it succeeds.
func (a *applicator) exec(base store.Store, x *sqlpb.Exec) *applied {
	o := store.NewOverlay(base, false)
	st, env, ptypes, values, err := a.decodeExec(o, x)
	if err != nil {
		return &applied{err: err}
	}
	sess := env.Session
	res, err := exec.Execute(env, st, ptypes, values)
	seqs := sess.Sequences
	if err != nil {
		var sf *store.Failure
		if errors.As(err, &sf) {
			// Not the statement's own failure: the store failed. The
			// apply loop must stop rather than diverge.
			return fatal(err)
		}
		var pe *pgerror.Error
		if !errors.As(err, &pe) {
			// Execution is deterministic, so any other failure is the
			// same on every replica: the statement's own, reported as
			// an internal error.
			err = pgerror.New(pgerror.Internal, "%v", err)
		}
		return &applied{err: err, seqs: seqs}
	}
	if err := o.Flush(); err != nil {
		return fatal(err)
	}
	return &applied{res: res, seqs: seqs}
}

// decodeExec decodes a statement an entry carries: parsed, its
// parameters, and an Env to run it at apply against s.
func (a *applicator) decodeExec(s store.Store, x *sqlpb.Exec) (*exec.Statement, *exec.Env, []types.Type, []any, error) {
	st, err := a.parsed.parse(x.Sql)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ptypes, values, err := decodeParams(x.ParamTypes, x.ParamValues)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	sess, err := sessionOf(x.Session)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	env := &exec.Env{Store: s, Catalogs: a.s.catalogs, Session: sess, Now: types.Timestamp(x.Now), Seed: x.Seed, AtApply: true}
	return st, env, ptypes, values, nil
}

// errFatal marks an apply failure of the store itself.
var errFatal = errors.New("sql: store failure at apply")

// fatal is the answer to a failure of the store at apply: the apply loop
// stops rather than let replicas diverge.
func fatal(err error) *applied { return &applied{err: fmt.Errorf("%w: %w", errFatal, err)} }

// commit validates a transaction's reads at this position and applies its
// writes, or refuses it with 40001.
func (a *applicator) commit(txn platform.Txn, base store.Store, c *sqlpb.Commit) *applied {
	if len(c.Txid) > 0 {
		return a.commitStaged(txn, base, c)
	}
	rs := readSetOf(c)
	if err := store.Validate(base, rs); err != nil {
		if errors.Is(err, store.ErrConflict) {
			if c.Replay != nil {
				return a.replay(base, c.Replay)
			}
			return &applied{err: errSerialization}
		}
		return fatal(err)
	}
	for _, w := range c.Writes {
		var err error
		if w.Delete {
			err = base.Delete(w.Key)
		} else {
			err = base.Set(w.Key, w.Value)
		}
		if err != nil {
			return fatal(err)
		}
	}
	return &applied{}
}

// readSetOf is the read set a commit carries.
func readSetOf(c *sqlpb.Commit) *store.ReadSet {
	rs := &store.ReadSet{}
	for _, p := range c.Points {
		var h []byte
		if len(p.Hash) > 0 {
			h = p.Hash
		}
		rs.Points = append(rs.Points, store.PointRead{Key: p.Key, Hash: h})
	}
	for _, r := range c.Ranges {
		hi := r.Hi
		if r.Unbounded {
			hi = nil
		}
		rs.Ranges = append(rs.Ranges, store.RangeRead{Lo: r.Lo, Hi: hi, Reverse: r.Reverse, Hash: r.Hash})
	}
	return rs
}

// nextval advances a sequence.
func (a *applicator) nextval(base store.Store, seq catalog.Oid) *applied {
	cat, err := a.s.catalogs.Load(base)
	if err != nil {
		return fatal(err)
	}
	obj := cat.Object(seq)
	if obj == nil || obj.RelKind != catalog.RelSequence {
		return &applied{err: pgerror.New(pgerror.UndefinedTable, "sequence with OID %d does not exist", seq)}
	}
	v, err := exec.NextValue(base, obj)
	if err != nil {
		return &applied{err: err}
	}
	return &applied{value: v}
}

func (a *applicator) PostApply(*platform.Entry, platform.Version) {}

// ApplyEntry records the personality's enabled version at every entry
// (not only its own), so that connections know when they may stage.
func (a *applicator) ApplyEntry(platform.Txn, *platform.Entry, platform.Version) error {
	a.s.enabled.Store(a.s.cfg.Version())
	return nil
}

func (a *applicator) PostApplyEntry(*platform.Entry, platform.Version) {}

// sessionOf rebuilds the session settings an entry carries.
func sessionOf(p *sqlpb.Session) (*exec.Session, error) {
	s := exec.NewSession(p.GetUser(), p.GetDatabase())
	if p == nil {
		return s, nil
	}
	s.SearchPath = append([]string(nil), p.SearchPath...)
	if p.TimeZone != "" {
		loc, err := time.LoadLocation(p.TimeZone)
		if err != nil {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "invalid value for parameter \"TimeZone\": \"%s\"", p.TimeZone)
		}
		s.Types.Location, s.Types.TimeZoneName = loc, p.TimeZone
	}
	if p.DateStyle != "" {
		s.Types.DateStyle = p.DateStyle
	}
	if p.IntervalStyle != "" {
		s.Types.IntervalStyle = p.IntervalStyle
	}
	s.Types.ExtraFloatDigits = int(p.ExtraFloatDigits)
	if p.ByteaOutput != "" {
		s.Types.ByteaOutput = p.ByteaOutput
	}
	if len(p.SequenceOids) != len(p.SequenceValues) {
		return nil, pgerror.New(pgerror.Internal, "an entry's session holds %d sequence oids and %d values", len(p.SequenceOids), len(p.SequenceValues))
	}
	for i, oid := range p.SequenceOids {
		if s.Sequences.Values == nil {
			s.Sequences.Values = map[catalog.Oid]int64{}
		}
		s.Sequences.Values[catalog.Oid(oid)] = p.SequenceValues[i]
	}
	s.Sequences.Last = catalog.Oid(p.LastSequence)
	return s, nil
}

// sessionProto is what an entry carries of a session.
func sessionProto(s *exec.Session) *sqlpb.Session {
	oids := make([]uint32, 0, len(s.Sequences.Values))
	for oid := range s.Sequences.Values {
		oids = append(oids, uint32(oid))
	}
	slices.Sort(oids)
	values := make([]int64, len(oids))
	for i, oid := range oids {
		values[i] = s.Sequences.Values[catalog.Oid(oid)]
	}
	return &sqlpb.Session{
		User: s.User, Database: s.Database, SearchPath: s.SearchPath,
		TimeZone: s.Types.TimeZoneName, DateStyle: s.Types.DateStyle, IntervalStyle: s.Types.IntervalStyle,
		ExtraFloatDigits: int32(s.Types.ExtraFloatDigits), ByteaOutput: s.Types.ByteaOutput,
		SequenceOids: oids, SequenceValues: values, LastSequence: uint32(s.Sequences.Last),
	}
}

// encodeParams row-encodes parameter values with their types.
func encodeParams(ts []types.Type, values []any) ([]uint32, []byte, error) {
	oids := make([]uint32, len(ts))
	var b []byte
	for i, t := range ts {
		oids[i] = uint32(t.Oid)
		var v any
		if i < len(values) {
			v = values[i]
		}
		var err error
		if b, err = types.AppendValue(b, t.Oid, v); err != nil {
			return nil, nil, err
		}
	}
	return oids, b, nil
}

func decodeParams(oids []uint32, b []byte) ([]types.Type, []any, error) {
	ts := make([]types.Type, len(oids))
	vals := make([]any, len(oids))
	for i, o := range oids {
		ts[i] = types.T(types.Oid(o))
		v, rest, err := types.DecodeValue(b, types.Oid(o))
		if err != nil {
			return nil, nil, err
		}
		vals[i], b = v, rest
	}
	return ts, vals, nil
}
