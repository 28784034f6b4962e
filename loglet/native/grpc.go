package native

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"hourglass/loglet"
	"hourglass/loglet/native/nativepb"
)

// Loglet-level outcomes travel in the replies as nativepb.Error values;
// gRPC errors mean the call itself failed (and its outcome is unknown).

func errorToPB(err error) (nativepb.Error, string) {
	switch {
	case err == nil:
		return nativepb.Error_OK, ""
	case errors.Is(err, loglet.ErrStorageFailed) && !errors.Is(err, loglet.ErrOutcomeUnknown):
		if errors.Is(err, syscall.ENOSPC) {
			return nativepb.Error_DISK_FULL, err.Error()
		}
		return nativepb.Error_STORAGE_FAILED, err.Error()
	case errors.Is(err, loglet.ErrSealed):
		return nativepb.Error_SEALED, err.Error()
	case errors.Is(err, loglet.ErrTrimmed):
		return nativepb.Error_TRIMMED, err.Error()
	case errors.Is(err, ErrGap):
		return nativepb.Error_GAP, err.Error()
	case errors.Is(err, ErrNotHeld):
		return nativepb.Error_NOT_HELD, err.Error()
	case errors.Is(err, loglet.ErrOutcomeUnknown):
		return nativepb.Error_OUTCOME_UNKNOWN, err.Error()
	case errors.Is(err, ErrAppendExpired):
		// The wire has no "failed, never sent"; unknown is never wrong,
		// and is what the caller, whose own deadline passed, reports.
		return nativepb.Error_OUTCOME_UNKNOWN, err.Error()
	case errors.Is(err, loglet.ErrUnavailable):
		return nativepb.Error_UNAVAILABLE, err.Error()
	case errors.Is(err, loglet.ErrClosed):
		return nativepb.Error_CLOSED, err.Error()
	}
	return nativepb.Error_INVALID, err.Error()
}

func errorFromPB(e nativepb.Error, detail string) error {
	var base error
	switch e {
	case nativepb.Error_OK:
		return nil
	case nativepb.Error_SEALED:
		base = loglet.ErrSealed
	case nativepb.Error_TRIMMED:
		base = loglet.ErrTrimmed
	case nativepb.Error_GAP:
		base = ErrGap
	case nativepb.Error_NOT_HELD:
		base = ErrNotHeld
	case nativepb.Error_OUTCOME_UNKNOWN:
		base = loglet.ErrOutcomeUnknown
	case nativepb.Error_UNAVAILABLE:
		base = loglet.ErrUnavailable
	case nativepb.Error_STORAGE_FAILED:
		base = loglet.ErrStorageFailed
	case nativepb.Error_DISK_FULL:
		base = fmt.Errorf("%w: %w", loglet.ErrStorageFailed, syscall.ENOSPC)
	case nativepb.Error_CLOSED:
		// The far end is shutting down: to us it is unavailable.
		base = loglet.ErrUnavailable
	default:
		return fmt.Errorf("native: remote error: %s", detail)
	}
	return fmt.Errorf("%w (remote: %s)", base, detail)
}

func ballotToPB(b Ballot) *nativepb.Ballot { return &nativepb.Ballot{Round: b.Round, Node: b.Node} }

func ballotFromPB(b *nativepb.Ballot) Ballot { return Ballot{Round: b.GetRound(), Node: b.GetNode()} }

func statusToPB(st Status) *nativepb.Status {
	return &nativepb.Status{
		LocalTail: st.LocalTail, Committed: st.Committed, Sealed: st.Sealed,
		Final: st.Final, FinalTail: st.FinalTail, Trim: st.Trim,
		Promised: ballotToPB(st.Promised), Accepted: st.Accepted,
		AcceptedBallot: ballotToPB(st.AcceptedBallot), AcceptedTail: st.AcceptedTail,
	}
}

func statusFromPB(p *nativepb.Status) Status {
	return Status{
		LocalTail: p.GetLocalTail(), Committed: p.GetCommitted(), Sealed: p.GetSealed(),
		Final: p.GetFinal(), FinalTail: p.GetFinalTail(), Trim: p.GetTrim(),
		Promised: ballotFromPB(p.GetPromised()), Accepted: p.GetAccepted(),
		AcceptedBallot: ballotFromPB(p.GetAcceptedBallot()), AcceptedTail: p.GetAcceptedTail(),
	}
}

func statusReply(st Status, err error) (*nativepb.StatusReply, error) {
	e, detail := errorToPB(err)
	return &nativepb.StatusReply{Status: statusToPB(st), Error: e, Detail: detail}, nil
}

// grpcLogServer serves a *LogServer over gRPC.
type grpcLogServer struct {
	nativepb.UnimplementedLogServerServer
	s *LogServer
}

// RegisterLogServer serves s on g.
func RegisterLogServer(g *grpc.Server, s *LogServer) {
	nativepb.RegisterLogServerServer(g, &grpcLogServer{s: s})
}

// maxReadEntries bounds one Read reply.
const maxReadEntries = 4096

func (g *grpcLogServer) Store(ctx context.Context, r *nativepb.StoreRequest) (*nativepb.StatusReply, error) {
	return statusReply(g.s.Store(ctx, LogletID(r.Loglet), r.First, r.Entries, StoreOptions{Committed: r.Committed, Repair: r.Repair}))
}

func (g *grpcLogServer) Commit(ctx context.Context, r *nativepb.CommitRequest) (*nativepb.StatusReply, error) {
	return statusReply(g.s.Commit(ctx, LogletID(r.Loglet), r.Committed))
}

func (g *grpcLogServer) Seal(ctx context.Context, r *nativepb.SealRequest) (*nativepb.StatusReply, error) {
	return statusReply(g.s.Seal(ctx, LogletID(r.Loglet), ballotFromPB(r.Ballot)))
}

func (g *grpcLogServer) Accept(ctx context.Context, r *nativepb.AcceptRequest) (*nativepb.StatusReply, error) {
	return statusReply(g.s.Accept(ctx, LogletID(r.Loglet), ballotFromPB(r.Ballot), r.Tail))
}

func (g *grpcLogServer) SetFinal(ctx context.Context, r *nativepb.SetFinalRequest) (*nativepb.StatusReply, error) {
	return statusReply(g.s.SetFinal(ctx, LogletID(r.Loglet), r.Tail))
}

func (g *grpcLogServer) GetStatus(ctx context.Context, r *nativepb.LogletRequest) (*nativepb.StatusReply, error) {
	return statusReply(g.s.GetStatus(ctx, LogletID(r.Loglet)))
}

func (g *grpcLogServer) Read(ctx context.Context, r *nativepb.ReadRequest) (*nativepb.ReadReply, error) {
	entries, st, err := g.s.Read(ctx, LogletID(r.Loglet), r.From, int(min(r.Max, maxReadEntries)), ReadOptions{Committed: r.Committed, Wait: r.Wait, Raw: r.Raw})
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err() // the caller gave up; a gRPC error says so
	}
	e, detail := errorToPB(err)
	return &nativepb.ReadReply{Entries: entries, Status: statusToPB(st), Error: e, Detail: detail}, nil
}

func (g *grpcLogServer) Trim(ctx context.Context, r *nativepb.TrimRequest) (*nativepb.StatusReply, error) {
	err := g.s.Trim(ctx, LogletID(r.Loglet), r.Pos)
	return statusReply(Status{}, err)
}

// Client is a Server reached over gRPC. Transport failures are reported as
// loglet.ErrUnavailable (for calls that change nothing) or left as gRPC
// errors (whose outcome the caller treats as unknown).
type Client struct {
	c nativepb.LogServerClient
}

var _ Server = (*Client)(nil)

// NewClient returns a Client over conn. The caller keeps ownership of conn.
func NewClient(conn grpc.ClientConnInterface) *Client {
	return &Client{c: nativepb.NewLogServerClient(conn)}
}

func fromReply(r *nativepb.StatusReply, err error) (Status, error) {
	if err != nil {
		return Status{}, transportError(err)
	}
	return statusFromPB(r.Status), errorFromPB(r.Error, r.Detail)
}

// transportError marks a failed call as unavailable, keeping the cause.
func transportError(err error) error {
	return fmt.Errorf("%w: %w", loglet.ErrUnavailable, err)
}

// Store implements Server.
func (c *Client) Store(ctx context.Context, id LogletID, first loglet.Position, entries [][]byte, o StoreOptions) (Status, error) {
	return fromReply(c.c.Store(ctx, &nativepb.StoreRequest{Loglet: uint64(id), First: first, Entries: entries, Committed: o.Committed, Repair: o.Repair}))
}

// Commit implements Server.
func (c *Client) Commit(ctx context.Context, id LogletID, committed loglet.Position) (Status, error) {
	return fromReply(c.c.Commit(ctx, &nativepb.CommitRequest{Loglet: uint64(id), Committed: committed}))
}

// Seal implements Server.
func (c *Client) Seal(ctx context.Context, id LogletID, b Ballot) (Status, error) {
	return fromReply(c.c.Seal(ctx, &nativepb.SealRequest{Loglet: uint64(id), Ballot: ballotToPB(b)}))
}

// Accept implements Server.
func (c *Client) Accept(ctx context.Context, id LogletID, b Ballot, tail loglet.Position) (Status, error) {
	return fromReply(c.c.Accept(ctx, &nativepb.AcceptRequest{Loglet: uint64(id), Ballot: ballotToPB(b), Tail: tail}))
}

// SetFinal implements Server.
func (c *Client) SetFinal(ctx context.Context, id LogletID, tail loglet.Position) (Status, error) {
	return fromReply(c.c.SetFinal(ctx, &nativepb.SetFinalRequest{Loglet: uint64(id), Tail: tail}))
}

// GetStatus implements Server.
func (c *Client) GetStatus(ctx context.Context, id LogletID) (Status, error) {
	return fromReply(c.c.GetStatus(ctx, &nativepb.LogletRequest{Loglet: uint64(id)}))
}

// Read implements Server.
func (c *Client) Read(ctx context.Context, id LogletID, from loglet.Position, max int, o ReadOptions) ([][]byte, Status, error) {
	r, err := c.c.Read(ctx, &nativepb.ReadRequest{Loglet: uint64(id), From: from, Max: uint32(min(max, maxReadEntries)), Committed: o.Committed, Wait: o.Wait, Raw: o.Raw})
	if err != nil {
		if ctx.Err() != nil {
			return nil, Status{}, ctx.Err()
		}
		return nil, Status{}, transportError(err)
	}
	return r.Entries, statusFromPB(r.Status), errorFromPB(r.Error, r.Detail)
}

// Trim implements Server.
func (c *Client) Trim(ctx context.Context, id LogletID, pos loglet.Position) error {
	_, err := fromReply(c.c.Trim(ctx, &nativepb.TrimRequest{Loglet: uint64(id), Pos: pos}))
	return err
}

// grpcSequencer serves appends for the loglets whose sequencer runs here.
type grpcSequencer struct {
	nativepb.UnimplementedSequencerServer
	lookup func(LogletID) loglet.Writer
}

// RegisterSequencer serves appends on g; lookup returns the local handle
// of a loglet whose sequencer (or, for a loglet of another kind built on
// native ones, whose writer) runs in this process, or nil. Appends go to
// any such writer; Committed is answered for native loglets only.
func RegisterSequencer(g *grpc.Server, lookup func(LogletID) loglet.Writer) {
	nativepb.RegisterSequencerServer(g, &grpcSequencer{lookup: lookup})
}

func (g *grpcSequencer) Committed(ctx context.Context, r *nativepb.LogletRequest) (*nativepb.CommittedReply, error) {
	l, _ := g.lookup(LogletID(r.Loglet)).(*Loglet)
	if l == nil || l.seq == nil {
		return &nativepb.CommittedReply{Error: nativepb.Error_UNAVAILABLE, Detail: fmt.Sprintf("no sequencer for loglet %d here", r.Loglet)}, nil
	}
	return &nativepb.CommittedReply{Committed: l.seq.committedTail()}, nil
}

func (g *grpcSequencer) Append(ctx context.Context, r *nativepb.AppendRequest) (*nativepb.AppendReply, error) {
	w := g.lookup(LogletID(r.Loglet))
	if w == nil {
		return &nativepb.AppendReply{Error: nativepb.Error_UNAVAILABLE, Detail: fmt.Sprintf("no sequencer for loglet %d here", r.Loglet)}, nil
	}
	first, err := w.Append(ctx, loglet.AppendID{Client: r.Client, Seq: r.Seq}, r.Entries)
	e, detail := errorToPB(err)
	reply := &nativepb.AppendReply{First: first, Error: e, Detail: detail}
	var ue *loglet.OutcomeUnknownError
	if errors.As(err, &ue) {
		reply.First, reply.Positioned = ue.First, true
	}
	return reply, nil
}

// SequencerClient forwards appends to a sequencer over gRPC.
type SequencerClient struct {
	c nativepb.SequencerClient
}

var _ Appender = (*SequencerClient)(nil)

// NewSequencerClient returns a SequencerClient over conn. The caller keeps
// ownership of conn.
func NewSequencerClient(conn grpc.ClientConnInterface) *SequencerClient {
	return &SequencerClient{c: nativepb.NewSequencerClient(conn)}
}

// Append implements Appender. A call that could not reach the sequencer
// (no connection) fails with loglet.ErrUnavailable: nothing was appended.
// A call that failed once under way has an unknown outcome.
func (c *SequencerClient) Append(ctx context.Context, id LogletID, aid loglet.AppendID, entries [][]byte) (loglet.Position, error) {
	r, err := c.c.Append(ctx, &nativepb.AppendRequest{Loglet: uint64(id), Client: aid.Client, Seq: aid.Seq, Entries: entries})
	if err != nil {
		if neverSent(err) {
			return 0, fmt.Errorf("%w: sequencer unreachable: %w", loglet.ErrUnavailable, err)
		}
		return 0, fmt.Errorf("%w: %w", loglet.ErrOutcomeUnknown, err)
	}
	if r.Error == nativepb.Error_OUTCOME_UNKNOWN && r.Positioned {
		return 0, &loglet.OutcomeUnknownError{First: r.First, N: len(entries), Cause: errors.New(r.Detail)}
	}
	return r.First, errorFromPB(r.Error, r.Detail)
}

// Committed implements Appender.
func (c *SequencerClient) Committed(ctx context.Context, id LogletID) (loglet.Position, error) {
	r, err := c.c.Committed(ctx, &nativepb.LogletRequest{Loglet: uint64(id)})
	if err != nil {
		return 0, fmt.Errorf("%w: sequencer unreachable: %w", loglet.ErrUnavailable, err)
	}
	return r.Committed, errorFromPB(r.Error, r.Detail)
}

// neverSent reports whether a failed call never reached the server: gRPC
// fails a call with Unavailable and a "connection error" when it has no
// connection to send it on.
func neverSent(err error) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.Unavailable && strings.Contains(st.Message(), "connection error")
}
