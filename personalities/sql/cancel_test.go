package sql

import (
	"context"
	"log/slog"
	"testing"
)

func TestPID(t *testing.T) {
	for _, tc := range []struct {
		node int
		n    uint32
		want int32
	}{
		{0, 1000, 1000},
		{1, 1000, 1<<24 | 1000},
		{3, 1<<24 + 5, 3<<24 | 5},
		{MaxNode, pidConnMask, 1<<31 - 1},
	} {
		pid := makePID(tc.node, tc.n)
		if pid != tc.want || pid <= 0 || pidNode(uint32(pid)) != tc.node {
			t.Errorf("makePID(%d, %d) = %d (node %d), want %d", tc.node, tc.n, pid, pidNode(uint32(pid)), tc.want)
		}
	}
}

func TestCancelRequestForwards(t *testing.T) {
	type fwd struct {
		node     int
		pid, key uint32
	}
	var got []fwd
	s := &Server{ctx: context.Background(), log: slog.New(slog.DiscardHandler)}
	s.cfg.Node = 2
	s.cfg.ForwardCancel = func(ctx context.Context, node int, pid, key uint32) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("ForwardCancel without a deadline")
		}
		got = append(got, fwd{node, pid, key})
		return nil
	}
	s.mu.conns = map[*conn]struct{}{}
	s.cancelRequest(uint32(makePID(2, 7)), 1) // this node's: not forwarded
	s.cancelRequest(uint32(makePID(0, 7)), 1) // no owner: not forwarded
	s.cancelRequest(uint32(makePID(3, 7)), 9)
	if want := []fwd{{3, uint32(makePID(3, 7)), 9}}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("forwarded %v, want %v", got, want)
	}
}
