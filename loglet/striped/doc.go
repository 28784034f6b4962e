// Package striped is the StripedLoglet: one loglet made of N inner loglets
// (stripes) of any kind, as in Delos. Global position p lives in stripe
// p mod N at the stripe's own position p div N, so consecutive positions
// go to different stripes and appends spread over all of them: N native
// stripes with their sequencers and LogServers in different places give up
// to N times the append throughput of one.
//
// # Writing: one writer, positions decided before the stripes are written
//
// A batch must occupy consecutive global positions, which lie in different
// stripes, so the positions are chosen before anything is written: the
// handle that created the loglet (Config.Fresh) is its one writer. Append
// reserves the next positions, puts each entry on its stripe's queue, and
// one goroutine per stripe writes that stripe's queue in position order,
// as many queued entries per inner Append as there are (group commit).
// Every inner append must land at the stripe position the writer expects
// (it is the stripe's only writer); a stripe that reports another position
// breaks the handle. An Append returns once its entries and every entry
// below them are written, so an acknowledged append lies below every later
// CheckTail. Other handles (other processes) do not write: they hand their
// appends to Config.Forward (the writer's process) or fail with
// loglet.ErrUnavailable. A reopened handle does not resume writing (it
// cannot know which of its predecessor's writes were under way), as a
// restarted native sequencer does not: the loglet is sealed and replaced.
//
// # No gaps: the tail is the lowest hole
//
// Stripes commit at their own pace, so stripe k may hold position p while
// stripe j holds nothing at a lower position q < p (a hole). A position is
// committed only when it and every lower position are committed in their
// stripes. With t_k the tail of stripe k, the raw tail is
//
//	min over k of t_k*N + k
//
// which is the lowest global position missing from its stripe. Entries at
// or above it are never shown, even when their own stripe has them.
// Besides, every inner entry carries its place in its batch (index and
// count, a 2-varint header), and the tail never splits a batch: if the
// entry just below the raw tail is not the last of its batch, the tail is
// lowered to the batch's first position. A reader therefore never sees part
// of an append that a seal could cut off.
//
// Holes are skipped, never filled: a hole exists only while the writer's
// write to the lagging stripe is under way (it retries with the same inner
// AppendID for Config.RetryFor) or because the writer failed. A writer
// whose stripe write fails for good stops taking appends (they fail with
// loglet.ErrUnavailable; those in flight with an OutcomeUnknownError), and
// the VirtualLog replaces the loglet by sealing it.
//
// # Seal and trim
//
// Seal seals every stripe (any process may, and may finish a seal another
// began; each inner seal is sticky) and computes the final tail from the
// stripes' sealed tails by the rule above, reading the entry below the raw
// tail to keep batches whole. It is a deterministic function of the sealed
// stripes, so every caller gets the same tail. Entries a stripe holds at
// or above that tail are dropped for good: a writer whose inner append
// meets a sealed stripe finishes the seal and so learns whether each
// pending append lies below the final tail (acknowledged) or not
// (loglet.ErrSealed: a batch is never split, so a batch with one entry
// beyond the tail lies wholly beyond it).
//
// PrefixTrim(pos) clamps pos to the tail and trims stripe k below the
// number of positions under pos that stripe k holds.
//
// Usage:
//
//	l, err := striped.Open(striped.Config{Stripes: []loglet.Loglet{a, b}, Fresh: true})
//	first, err := l.Append(ctx, id, [][]byte{x, y}) // x at first (stripe first%2), y at first+1
package striped
