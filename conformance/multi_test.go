package conformance

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// multiScript is a redis-cli script (one command per line) of MULTI/EXEC/DISCARD/WATCH on one connection;
// it is diffed against redis-server on one gateway and on an ensemble.
var multiScript = strings.Join([]string{
	"FLUSHALL", "MULTI", "SET only 1", "SCAN 0", "SCAN 0 MATCH o* TYPE string COUNT 5", "HSCAN nokey 0", "SSCAN only 0", "SCAN 0 FOO", "EXEC", "DEL only",
	"MULTI", "SET a 1", "INCR a", "GET a", "INCRBY a x", "APPEND a x", "PING", "ECHO hi", "EXEC", "GET a",
	"MULTI", "SET b 1", "NOSUCH cmd", "EXEC", "EXISTS b",
	"MULTI", "SET b 1", "GET", "EXEC", "EXISTS b",
	"EXEC", "DISCARD", "MULTI", "MULTI", "SET c 1", "DISCARD", "EXISTS c",
	"MULTI", "WATCH a", "DISCARD",
	"MULTI", "SELECT 2", "SET d 2", "EXEC", "GET d", "SELECT 0", "GET d",
	"MULTI", "EXEC",
	"WATCH a b", "MULTI", "INCR a", "EXEC", "UNWATCH", "WATCH a", "SET a 100", "MULTI", "INCR a", "EXEC", "GET a",
	"WATCH nokey", "MULTI", "SET nokey 1", "EXEC",
}, "\n") + "\n"

// TestRedisTransactionsMatchRedisServer diffs MULTI/EXEC/DISCARD/WATCH on
// one connection against redis-server.
func TestRedisTransactionsMatchRedisServer(t *testing.T) {
	g := startGateway(t)
	diffWithRedis(t, g, multiScript)
}

// TestRedisWatchConflict: a write by another client between WATCH and
// EXEC aborts the transaction; FLUSHDB and expiry count as writes.
func TestRedisWatchConflict(t *testing.T) { testRedisWatchConflict(t, startGateway(t)) }

func testRedisWatchConflict(t *testing.T, g redisTarget) {
	ctx := testCtx(t)
	c1, c2 := g.redisClient(2), g.redisClient(3)
	incr := func(key string) error {
		return c1.Watch(ctx, func(tx *redis.Tx) error {
			n, err := tx.Get(ctx, key).Int()
			if err != nil && err != redis.Nil {
				return err
			}
			// Another client writes between the WATCH and the EXEC.
			if err := c2.Set(ctx, key, "interloper", 0).Err(); err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, key, n+1, 0)
				return nil
			})
			return err
		}, key)
	}
	if err := incr("w"); !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("EXEC after a conflicting write: %v, want TxFailedErr", err)
	}
	if got := c1.Get(ctx, "w").Val(); got != "interloper" {
		t.Fatalf("w = %q after the aborted transaction", got)
	}
	// Without interference the same transaction commits.
	err := c1.Watch(ctx, func(tx *redis.Tx) error {
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "w", "mine", 0)
			return nil
		})
		return err
	}, "w")
	if err != nil || c2.Get(ctx, "w").Val() != "mine" {
		t.Fatalf("uncontended transaction: %v, w = %q", err, c2.Get(ctx, "w").Val())
	}
	// FLUSHDB by another client touches every watched key.
	err = c1.Watch(ctx, func(tx *redis.Tx) error {
		c2.FlushDB(ctx)
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, "w", "after-flush", 0)
			return nil
		})
		return err
	}, "w")
	if !errors.Is(err, redis.TxFailedErr) {
		t.Fatalf("EXEC after FLUSHDB: %v, want TxFailedErr", err)
	}
	_ = context.Background
}
