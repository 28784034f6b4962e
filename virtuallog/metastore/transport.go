package metastore

import (
	"context"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"

	pb "hourglass/virtuallog/metastore/metastorepb"
)

// AcceptorClient is how a Replicated talks to one acceptor: the transport
// seam. *Acceptor implements it in-process; NewAcceptorClient and
// DialAcceptor implement it over gRPC; tests wrap it to inject faults.
// Implementations are safe for concurrent use, honour ctx, and must not
// modify a request; the caller does not modify a request or a response
// after passing or receiving it.
type AcceptorClient interface {
	// Prepare is Paxos phase 1 for one slot.
	Prepare(ctx context.Context, req *pb.PrepareRequest) (*pb.PrepareResponse, error)
	// Accept is Paxos phase 2 for one slot.
	Accept(ctx context.Context, req *pb.AcceptRequest) (*pb.AcceptResponse, error)
	// Learn tells the acceptor a slot's chosen proposal.
	Learn(ctx context.Context, req *pb.LearnRequest) (*pb.LearnResponse, error)
	// Status reports the acceptor's highest slots.
	Status(ctx context.Context, req *pb.StatusRequest) (*pb.StatusResponse, error)
}

// NewAcceptorClient returns an AcceptorClient that calls the Acceptor
// service over cc. The caller keeps ownership of cc.
func NewAcceptorClient(cc grpc.ClientConnInterface) AcceptorClient {
	return grpcAcceptor{pb.NewAcceptorClient(cc)}
}

// DialAcceptor returns an AcceptorClient for the Acceptor service at addr
// and the io.Closer that closes its connection. The connection is made
// lazily and remade after failures, with a reconnection backoff capped at
// one second so that a restarted acceptor is back in use quickly. By
// default the connection is insecure (plaintext); opts are applied after
// the defaults and may replace them.
func DialAcceptor(addr string, opts ...grpc.DialOption) (AcceptorClient, io.Closer, error) {
	defaults := []grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  50 * time.Millisecond,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   time.Second,
			},
			MinConnectTimeout: time.Second,
		}),
	}
	cc, err := grpc.NewClient(addr, append(defaults, opts...)...)
	if err != nil {
		return nil, nil, err
	}
	return NewAcceptorClient(cc), cc, nil
}

// grpcAcceptor adapts the generated client to AcceptorClient.
type grpcAcceptor struct{ c pb.AcceptorClient }

func (g grpcAcceptor) Prepare(ctx context.Context, req *pb.PrepareRequest) (*pb.PrepareResponse, error) {
	return g.c.Prepare(ctx, req)
}

func (g grpcAcceptor) Accept(ctx context.Context, req *pb.AcceptRequest) (*pb.AcceptResponse, error) {
	return g.c.Accept(ctx, req)
}

func (g grpcAcceptor) Learn(ctx context.Context, req *pb.LearnRequest) (*pb.LearnResponse, error) {
	return g.c.Learn(ctx, req)
}

func (g grpcAcceptor) Status(ctx context.Context, req *pb.StatusRequest) (*pb.StatusResponse, error) {
	return g.c.Status(ctx, req)
}
