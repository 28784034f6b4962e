// Package luasandbox is the Lua 5.1 environment Redis gives scripts,
// built on github.com/yuin/gopher-lua, made deterministic and bounded so
// that a script can run at apply on every replica of the log.
//
// New returns a state with the libraries Redis loads: base (without
// loadfile, dofile and print; collectgarbage counts nothing), table,
// string, math (math.random and math.randomseed are Redis's lrand48,
// reseeded to 0 for every script, so a script draws the same numbers on
// every node), cjson (encode, decode, null), cmsgpack (pack, unpack,
// unpack_one, unpack_limit), struct (pack, unpack, size) and bit
// (LuaBitOp: tobit, tohex, bnot, band, bor, bxor, lshift, rshift,
// arshift, rol, ror, bswap). The global table is read-only once the
// caller has added its own globals (Protect): a script that assigns a
// global fails with "Attempt to modify a readonly table", one that reads
// an unknown global with "Script attempted to access nonexistent global
// variable 'name'", as in Redis 7.
//
// Not served: the coroutine library (a coroutine would run outside the
// instruction budget); a script that names it fails as with any unknown
// global.
//
// # Bounds
//
// A state counts the virtual machine's instructions (Limits.Instructions)
// and the bytes of the strings the script makes (Limits.Memory): every
// string of 64 bytes or more that appears in the running function's
// registers is charged once, when first seen, and kept until the state
// is closed, so its charge is never reused; string.rep, table.concat and
// string.format check the size of their result against what is left
// before they build it. Both counts depend only on the script and its
// inputs, so a script that overruns stops at the same instruction, with
// the same error, on every replica. cmsgpack.pack and struct.pack check
// their result against what is left as they build it; their unpacks make
// no more than their input's bytes. Tables grow by at most a few
// elements per instruction and are bounded by the instruction count.
// One concatenation expression a..b..c of n operands is checked after
// it is built, so it may briefly hold up to n times the largest string
// the budget allowed.
//
// Interrupted, polled every 1024 instructions, stops a script for SCRIPT
// KILL; it is for read-only scripts, which run on one node only.
//
// Numbers convert to strings as gopher-lua converts them in
// concatenations (Go's shortest representation); tostring uses Lua's
// %.14g.
//
// # Usage
//
//	s := luasandbox.New(luasandbox.Limits{Instructions: 1e7, Memory: 64 << 20}, nil)
//	defer s.Close()
//	s.L.SetGlobal("KEYS", keys)
//	s.Protect()
//	fn, err := s.Compile("user_script", src)
//	...
//	err = s.Call(fn, 1)
//	if s.Exceeded() != nil { ... }
package luasandbox
