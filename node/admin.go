package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"hourglass/node/adminpb"
	"hourglass/virtuallog"
	"hourglass/virtuallog/vlogpb"
)

// adminService implements the admin gRPC service on a node.
type adminService struct {
	adminpb.UnimplementedAdminServer
	n *Node
}

func (a *adminService) Reconfigure(ctx context.Context, req *adminpb.ReconfigureRequest) (*adminpb.ReconfigureResponse, error) {
	if len(req.LogServers) > 0 && req.Converged {
		return nil, status.Error(codes.InvalidArgument, "log servers and converged are exclusive")
	}
	if (len(req.LogServers) > 0 || req.Converged) && !a.n.cfg.Ensemble() {
		return nil, status.Error(codes.FailedPrecondition, "a single node keeps its log on its own LogServer")
	}
	for _, m := range req.LogServers {
		if m.Id == "" || m.PeerAddr == "" {
			return nil, status.Errorf(codes.InvalidArgument, "log server %v: id and peer address required", m)
		}
	}
	if req.Stripes > maxStripes {
		return nil, status.Errorf(codes.InvalidArgument, "%d stripes; at most %d", req.Stripes, maxStripes)
	}
	change := virtuallog.Change{Kind: req.LogletKind}
	for _, s := range req.ZkLogServers {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "zk log server %q: %v", s, err)
		}
	}
	if len(req.LogServers) > 0 || req.Converged || req.Stripes > 0 || len(req.ZkLogServers) > 0 {
		change.Edit = func(c *vlogpb.Chain) error {
			if req.Stripes > 0 {
				c.Stripes = req.Stripes
			}
			if len(req.ZkLogServers) > 0 {
				c.ZkLogServers = slices.Clone(req.ZkLogServers)
			}
			if len(req.LogServers) == 0 && !req.Converged {
				return nil
			}
			c.LogServers = nil
			for _, m := range req.LogServers {
				c.LogServers = append(c.LogServers, proto.Clone(m).(*vlogpb.Member))
			}
			return nil
		}
	}
	began := time.Now()
	start, err := a.n.vlog.Change(ctx, change)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "reconfigure: %v", err)
	}
	took := time.Since(began)
	chain, _ := a.n.vlog.Chain()
	return &adminpb.ReconfigureResponse{Chain: chain, Start: start, Micros: uint64(took.Microseconds())}, nil
}

func (a *adminService) Status(ctx context.Context, req *adminpb.StatusRequest) (*adminpb.StatusResponse, error) {
	if err := a.n.diskFailure(); err != nil {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	tail, err := a.n.vlog.CheckTail(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "check tail: %v", err)
	}
	chain, _, err := a.n.vlog.ReadChain(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "read the chain: %v", err)
	}
	acceptors, version := a.n.acceptors()
	return &adminpb.StatusResponse{
		Chain:            chain,
		Applied:          a.n.base.Applied(),
		Tail:             tail,
		Listeners:        a.n.Listeners(),
		NodeId:           a.n.cfg.NodeID,
		Nodes:            a.n.nodeStates(ctx, chain),
		Trim:             a.n.trimStatus(),
		Acceptors:        acceptors,
		MetastoreVersion: version,
	}, nil
}

func (a *adminService) Members(ctx context.Context, req *adminpb.MembersRequest) (*adminpb.MembersResponse, error) {
	if !a.n.cfg.Ensemble() {
		return nil, status.Error(codes.FailedPrecondition, "a single node has no ensemble to change")
	}
	edit, err := membersEdit(req)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if _, err := a.n.vlog.Change(ctx, virtuallog.Change{Edit: edit}); err != nil {
		if errors.Is(err, errMembers) {
			return nil, status.Error(codes.FailedPrecondition, err.Error())
		}
		return nil, status.Errorf(codes.Unavailable, "members: %v", err)
	}
	chain, _ := a.n.vlog.Chain()
	acceptors, _ := a.n.acceptors()
	return &adminpb.MembersResponse{Chain: chain, Acceptors: acceptors}, nil
}

var errMembers = errors.New("members")

// membersEdit turns a members request into a chain edit.
func membersEdit(req *adminpb.MembersRequest) (func(*vlogpb.Chain) error, error) {
	add := func(c *vlogpb.Chain) error {
		m := req.Member
		for _, x := range c.Members {
			if x.Id == m.Id {
				return fmt.Errorf("%w: %s is already a member", errMembers, m.Id)
			}
		}
		c.Members = append(c.Members, proto.Clone(m).(*vlogpb.Member))
		return nil
	}
	remove := func(c *vlogpb.Chain) error {
		for i, x := range c.Members {
			if x.Id == req.Id {
				if len(c.Members) == 1 {
					return fmt.Errorf("%w: cannot remove the last member", errMembers)
				}
				c.Members = append(c.Members[:i], c.Members[i+1:]...)
				return nil
			}
		}
		return fmt.Errorf("%w: %s is not a member", errMembers, req.Id)
	}
	needMember := func() error {
		if req.Member == nil || req.Member.Id == "" || req.Member.PeerAddr == "" {
			return errors.New("the new member needs an id and a peer address")
		}
		return nil
	}
	switch req.Op {
	case "add":
		if err := needMember(); err != nil {
			return nil, err
		}
		return add, nil
	case "remove":
		if req.Id == "" {
			return nil, errors.New("remove needs the id of the member")
		}
		return remove, nil
	case "replace":
		if err := needMember(); err != nil {
			return nil, err
		}
		if req.Id == "" {
			return nil, errors.New("replace needs the id of the member replaced")
		}
		return func(c *vlogpb.Chain) error {
			if err := remove(c); err != nil {
				return err
			}
			return add(c)
		}, nil
	}
	return nil, fmt.Errorf("op %q: want add, remove or replace", req.Op)
}

func (a *adminService) Checksum(ctx context.Context, req *adminpb.ChecksumRequest) (*adminpb.ChecksumResponse, error) {
	applied, sum, err := a.n.base.Checksum(ctx, req.AtLeast)
	if err != nil {
		return nil, status.Errorf(codes.Unavailable, "checksum: %v", err)
	}
	return &adminpb.ChecksumResponse{Applied: applied, Checksum: sum}, nil
}
