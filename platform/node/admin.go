package node

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"hourglass/platform/node/adminpb"
)

// adminService implements the admin gRPC service on a node.
type adminService struct {
	adminpb.UnimplementedAdminServer
	n *Node
}

func (a *adminService) Reconfigure(ctx context.Context, req *adminpb.ReconfigureRequest) (*adminpb.ReconfigureResponse, error) {
	began := time.Now()
	start, err := a.n.Reconfigure(ctx, req.LogletKind)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "reconfigure: %v", err)
	}
	took := time.Since(began)
	chain, _ := a.n.vlog.Chain()
	return &adminpb.ReconfigureResponse{Chain: chain, Start: start, Micros: uint64(took.Microseconds())}, nil
}

func (a *adminService) Status(ctx context.Context, req *adminpb.StatusRequest) (*adminpb.StatusResponse, error) {
	tail, err := a.n.vlog.CheckTail(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "check tail: %v", err)
	}
	chain, _ := a.n.vlog.Chain()
	return &adminpb.StatusResponse{
		Chain:     chain,
		Applied:   a.n.base.Applied(),
		Tail:      tail,
		Listeners: a.n.Listeners(),
	}, nil
}
