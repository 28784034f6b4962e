package kv

import (
	"strconv"

	"hourglass/personalities/kv/keyspace"
)

// nodeConfig returns the CONFIG parameters OBJECT and LCS answer by, as
// this node has them set.
func (s *Server) nodeConfig() *keyspace.NodeConfig {
	env := keyspace.DefaultNodeConfig
	for _, p := range []struct {
		name string
		v    *int64
	}{
		{"hash-max-listpack-entries", &env.HashMaxListpackEntries},
		{"hash-max-listpack-value", &env.HashMaxListpackValue},
		{"set-max-intset-entries", &env.SetMaxIntsetEntries},
		{"zset-max-listpack-entries", &env.ZSetMaxListpackEntries},
		{"zset-max-listpack-value", &env.ZSetMaxListpackValue},
	} {
		if n, err := strconv.ParseInt(s.configGet(p.name), 10, 64); err == nil {
			*p.v = n
		}
	}
	env.ProtoMaxBulkLen = s.settings().limits.MaxBulkLen
	return &env
}
