// Package platform is the engine stack every personality stands on, and
// the narrow waist between it and the shared log.
//
// An Entry is a map of headers (one per engine that cares) plus an opaque
// body. Proposals travel down the stack through Engine.Propose, each engine
// adding its header; the BaseEngine at the bottom appends the entry to the
// log. Entries travel up at apply through Applicator.Apply: the BaseEngine
// reads the log in order on one goroutine, opens one LocalStore transaction
// per entry with the applied cursor inside it, and calls the stack; each
// engine reads its header, may change its own state, and passes the entry
// up. The top layer's return value is routed back to the Propose call that
// produced the entry, if it was made on this node.
//
// Reads call Engine.Sync: it learns the log's tail, waits until the node has
// applied everything below it, and hands out a View (a LocalStore snapshot)
// that reflects every write acknowledged before Sync began.
//
//	base, _ := platform.NewBase(platform.BaseConfig{Log: vlog, Store: db})
//	time := timekeeper.New(base, nil)
//	router := platform.NewRouter(time)
//	kvEngine := router.Mount("kv")
//	kvEngine.RegisterUpcall(kvApplicator)
//	base.Start()
//	result, err := kvEngine.Propose(ctx, &platform.Entry{Body: cmd})
//	view, err := kvEngine.Sync(ctx)
//
// Apply must be deterministic: no wall clock, no randomness, no map
// iteration order. Whatever varies is decided by the proposer and carried
// in the entry.
package platform
