package kv

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"hourglass/personalities/kv/keyspace"
)

// MEMORY answers from the replicated used memory (keyspace.UsedMemory)
// and the keys' estimates (keyspace.MemoryUsage), which is what
// maxmemory bounds, and from the Go runtime for the allocator figures.

func init() {
	local("memory", -2, localMemory)
}

var memoryHelp = keyspace.HelpReply(
	"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DOCTOR",
	"    Return memory problems reports.",
	"MALLOC-STATS",
	"    Return internal statistics report from the memory allocator.",
	"PURGE",
	"    Attempt to purge dirty pages for reclamation by the allocator.",
	"STATS",
	"    Return information about the memory usage of the server.",
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
	"HELP",
	"    Prints this help.",
)

// MEMORY DOCTOR's reports: under 5 MB Redis declines to judge.
const (
	memoryDoctorSmall = 5 << 20
	memoryDoctorEmpty = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
	memoryDoctorFine  = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
)

func localMemory(c *conn, args [][]byte) any {
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "help" && len(args) == 2:
		return memoryHelp
	case sub == "usage" && len(args) >= 3:
		return c.memoryUsage(args)
	case sub == "stats" && len(args) == 2:
		return c.memoryStats()
	case sub == "doctor" && len(args) == 2:
		st, err := c.memoryFigures()
		if err != nil {
			return platformError(err)
		}
		if st.used < memoryDoctorSmall {
			return verbatim(memoryDoctorEmpty)
		}
		return verbatim(memoryDoctorFine)
	case sub == "malloc-stats" && len(args) == 2:
		return []byte("Stats not supported for the current allocator")
	case sub == "purge" && len(args) == 2:
		debug.FreeOSMemory()
		return keyspace.OK
	}
	return errSubcommand("MEMORY", args, "usage", "stats", "doctor", "malloc-stats", "purge", "help")
}

// memoryUsage answers MEMORY USAGE key [SAMPLES count].
func (c *conn) memoryUsage(args [][]byte) any {
	samples := int64(5)
	for j := 3; j < len(args); j += 2 {
		if !keyspace.EqFold(args[j], "samples") || j+1 == len(args) {
			return keyspace.ErrSyntax
		}
		n, ok := keyspace.ParseInt(args[j+1])
		if !ok {
			return keyspace.ErrNotInteger
		}
		if n < 0 {
			return keyspace.ErrSyntax
		}
		samples = n
	}
	ks, err := c.readKeyspace()
	if err != nil {
		return platformError(err)
	}
	n, ok, err := ks.MemoryUsage(args[2], samples)
	if err != nil || !ok {
		return replyOf(nil, err)
	}
	return n
}

// memoryFigures are the used memory and the keys of the synced view.
type memoryFigures struct {
	used  int64
	stats [keyspace.Databases]keyspace.DBStat
}

func (c *conn) memoryFigures() (memoryFigures, error) {
	v, err := c.readView()
	if err != nil {
		return memoryFigures{}, err
	}
	used, err := keyspace.UsedMemory(v)
	if err != nil {
		return memoryFigures{}, err
	}
	stats, err := keyspace.Stats(v)
	return memoryFigures{used, stats}, err
}

// memoryStats answers MEMORY STATS in Redis 7.0's shape: the used
// memory as total (and peak: no peak is kept), the keys' fixed overhead
// as overhead, the Go heap as the allocator.
func (c *conn) memoryStats() any {
	st, err := c.memoryFigures()
	if err != nil {
		return platformError(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	out := keyspace.Map{
		"peak.allocated", st.used, "total.allocated", st.used, "startup.allocated", int64(0),
		"replication.backlog", int64(0), "clients.slaves", int64(0), "clients.normal", int64(0),
		"cluster.links", int64(0), "aof.buffer", int64(0), "lua.caches", int64(0), "functions.caches", int64(0),
	}
	var keys, overhead int64
	for db, s := range st.stats {
		if s.Keys == 0 {
			continue
		}
		main, expires := s.Keys*keyspace.KeyOverhead, s.Expires*keyspace.KeyOverhead
		out = append(out, fmt.Sprintf("db.%d", db), keyspace.Map{
			"overhead.hashtable.main", main, "overhead.hashtable.expires", expires, "overhead.hashtable.slot-to-keys", int64(0),
		})
		keys += s.Keys
		overhead += main + expires
	}
	perKey, dataPct := int64(0), float64(0)
	if keys > 0 {
		perKey = st.used / keys
	}
	if st.used > 0 {
		dataPct = float64(st.used-overhead) * 100 / float64(st.used)
	}
	alloc, active, resident := int64(ms.HeapAlloc), int64(ms.HeapInuse), int64(ms.Sys-ms.HeapReleased)
	return append(out,
		"overhead.total", overhead, "keys.count", keys, "keys.bytes-per-key", perKey,
		"dataset.bytes", st.used-overhead, "dataset.percentage", dataPct, "peak.percentage", float64(100),
		"allocator.allocated", alloc, "allocator.active", active, "allocator.resident", resident,
		"allocator-fragmentation.ratio", ratio(active, alloc), "allocator-fragmentation.bytes", active-alloc,
		"allocator-rss.ratio", ratio(resident, active), "allocator-rss.bytes", resident-active,
		"rss-overhead.ratio", float64(1), "rss-overhead.bytes", int64(0),
		"fragmentation", ratio(resident, alloc), "fragmentation.bytes", resident-alloc,
	)
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
