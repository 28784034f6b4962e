package conformance

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// receive waits for the next pub/sub message.
func receive(t *testing.T, ps *redis.PubSub) *redis.Message {
	t.Helper()
	select {
	case m := <-ps.Channel():
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10s")
		return nil
	}
}

// testPubSub publishes through pub and checks what the subscribers of
// sub see, over RESP2 and RESP3.
func testPubSub(t *testing.T, sub, pub *gateway) {
	for _, proto := range []int{2, 3} {
		ctx := testCtx(t)
		s := sub.redisClient(proto)
		p := pub.redisClient(proto)
		ps := s.Subscribe(ctx, "news", "sports")
		if _, err := ps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		pps := s.PSubscribe(ctx, "ne*")
		if _, err := pps.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the subscriptions to register", 10*time.Second, func() bool {
			n := r(sub.redisClient(proto).PubSubNumSub(ctx, "news").Result()).must(t, "NUMSUB")
			return n["news"] == 1
		})
		n, err := p.Publish(ctx, "news", "hello").Result()
		if err != nil {
			t.Fatal(err)
		}
		if pub == sub && n != 2 {
			t.Fatalf("PUBLISH reached %d subscribers on the same node, want 2", n)
		}
		m := receive(t, ps)
		if m.Channel != "news" || m.Payload != "hello" {
			t.Fatalf("RESP%d message %+v", proto, m)
		}
		pm := receive(t, pps)
		if pm.Pattern != "ne*" || pm.Channel != "news" || pm.Payload != "hello" {
			t.Fatalf("RESP%d pattern message %+v", proto, pm)
		}
		p.Publish(ctx, "sports", "goal")
		if m := receive(t, ps); m.Channel != "sports" || m.Payload != "goal" {
			t.Fatalf("RESP%d message %+v", proto, m)
		}
		chans := r(s.PubSubChannels(ctx, "*").Result()).must(t, "PUBSUB CHANNELS")
		if strings.Join(chans, ",") != "news,sports" {
			t.Fatalf("PUBSUB CHANNELS = %v", chans)
		}
		if n := r(s.PubSubNumPat(ctx).Result()).must(t, "NUMPAT"); n != 1 {
			t.Fatalf("NUMPAT = %d", n)
		}
		ps.Close()
		pps.Close()
	}
}

// TestRedisPubSub: messages published on a node reach its subscribers,
// channels and patterns, over RESP2 and RESP3.
func TestRedisPubSub(t *testing.T) {
	g := startGateway(t)
	testPubSub(t, g, g)

	// A RESP2 connection in subscribed mode takes only pub/sub commands.
	conn, err := net.Dial("tcp", g.addr("redis"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	conn.Write([]byte("SUBSCRIBE x\r\nGET k\r\nPING\r\nUNSUBSCRIBE\r\nGET k\r\n"))
	br := bufio.NewReader(conn)
	var lines []string
	for len(lines) < 20 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.TrimRight(line, "\r\n"))
		if line == "$-1\r\n" {
			break
		}
	}
	want := "*3|$9|subscribe|$1|x|:1|-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context|*2|$4|pong|$0||*3|$11|unsubscribe|$1|x|:0|$-1"
	if got := strings.Join(lines, "|"); got != want {
		t.Fatalf("subscribed-mode exchange:\n%s\nwant\n%s", got, want)
	}
}
