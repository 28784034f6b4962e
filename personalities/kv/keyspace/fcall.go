package keyspace

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// FCALL is a write, one log entry (like EVAL, with the proposer's
// budget), run at apply on every replica; FCALL_RO is a read, run on a
// view, and only for functions registered with the no-writes flag.

// execFcall runs FCALL or FCALL_RO outside the log (FCALL_RO on a view,
// or either queued in a transaction) under the keyspace's bounds.
func execFcall(ks *Keyspace, args [][]byte) (any, error) {
	return runFcall(ks, args, ks.scriptLimits())
}

// runFcall runs FCALL or FCALL_RO (args, of the arity) under lim.
func runFcall(ks *Keyspace, args [][]byte, lim ScriptLimits) (any, error) {
	name := args[1]
	owner, ok, err := ks.r.Get(functionKey(name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, Error("ERR Function not found")
	}
	n, ok := ParseInt(args[2])
	switch {
	case !ok:
		return nil, Error("ERR Bad number of keys provided")
	case n > int64(len(args)-3):
		return nil, Error("ERR Number of keys can't be greater than number of args")
	case n < 0:
		return nil, Error("ERR Number of keys can't be negative")
	}
	rec, ok, err := ks.r.Get(libraryKey(owner))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, Error("ERR Function not found")
	}
	lib, err := decodeLibrary(string(owner), rec)
	if err != nil {
		return nil, err
	}
	var info FunctionInfo
	for _, f := range lib.Functions {
		if strings.EqualFold(f.Name, string(name)) {
			info = f
		}
	}
	ro := strings.HasSuffix(strings.ToLower(string(args[0])), "_ro")
	noWrites := info.Flags&flagNoWrites != 0
	if ro && !noWrites {
		return nil, Error("ERR Can not execute a script with write flag using *_ro command.")
	}
	md, err := parseLibrary(lib.Code)
	if err != nil {
		return nil, err
	}
	sc, done := newScriptCall(ks, ro || noWrites || ks.w == nil, lim)
	defer done()
	L := sc.st.L
	L.SetGlobal("redis", sc.redisTable())
	sc.st.Protect()
	funcs, err := loadLibrary(sc, md)
	if err != nil {
		return nil, err
	}
	for _, f := range funcs {
		if f.Name == info.Name {
			sc.st.Reset(lim.sandbox())
			keys, argv := args[3:3+n], args[3+n:]
			return sc.pcall(f.fn, []lua.LValue{stringsTable(L, keys), stringsTable(L, argv)}, lim, scriptSite{f.Name, "user_function"})
		}
	}
	return nil, Error("ERR Function not found")
}

// applyFunctionLoad runs FUNCTION LOAD at apply: args are the internal
// command, "replace" or "", and the library's code.
func applyFunctionLoad(ks *Keyspace, args [][]byte) (any, error) {
	if len(args) != 3 {
		return nil, Error("ERR malformed function entry")
	}
	md, err := parseLibrary(args[2])
	if err != nil {
		return nil, err
	}
	if _, ok, err := ks.r.Get(libraryKey([]byte(md.name))); err != nil {
		return nil, err
	} else if ok && len(args[1]) == 0 {
		return nil, Errorf("ERR Library '%s' already exists", md.name)
	}
	lib, err := compileLibrary(ks, md, args[2])
	if err != nil {
		return nil, err
	}
	for _, f := range lib.Functions {
		owner, ok, err := ks.r.Get(functionKey([]byte(f.Name)))
		if err != nil {
			return nil, err
		}
		if ok && string(owner) != md.name {
			return nil, Errorf("ERR Function %s already exists", f.Name)
		}
	}
	if err := ks.storeLibraries([]*Library{lib}); err != nil {
		return nil, err
	}
	return []byte(md.name), nil
}

// compileLibrary loads code (md, parsed) and returns the library to
// store, or why it cannot be.
func compileLibrary(ks *Keyspace, md libraryMeta, code []byte) (*Library, error) {
	sc, done := newScriptCall(ks, true, loadLimits)
	defer done()
	funcs, err := loadLibrary(sc, md)
	if err != nil {
		return nil, err
	}
	if len(funcs) == 0 {
		return nil, Error("ERR No functions registered")
	}
	lib := &Library{Name: md.name, Code: code}
	for _, f := range funcs {
		lib.Functions = append(lib.Functions, f.FunctionInfo)
	}
	return lib, nil
}

// storeLibraries writes libs, each replacing the library of its name if
// there is one. The caller has checked that their functions' names are
// free.
func (ks *Keyspace) storeLibraries(libs []*Library) error {
	for _, lib := range libs {
		if _, err := ks.deleteLibrary([]byte(lib.Name)); err != nil {
			return err
		}
	}
	for _, lib := range libs {
		if err := ks.w.Set(libraryKey([]byte(lib.Name)), encodeLibrary(lib)); err != nil {
			return err
		}
		for _, f := range lib.Functions {
			if err := ks.w.Set(functionKey([]byte(f.Name)), []byte(lib.Name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// deleteLibrary removes the library name and its functions; it reports
// whether there was one.
func (ks *Keyspace) deleteLibrary(name []byte) (bool, error) {
	rec, ok, err := ks.r.Get(libraryKey(name))
	if err != nil || !ok {
		return false, err
	}
	lib, err := decodeLibrary(string(name), rec)
	if err != nil {
		return false, err
	}
	for _, f := range lib.Functions {
		if err := ks.w.Delete(functionKey([]byte(f.Name))); err != nil {
			return false, err
		}
	}
	return true, ks.w.Delete(libraryKey(name))
}

// applyFunctionDelete runs FUNCTION DELETE at apply.
func applyFunctionDelete(ks *Keyspace, args [][]byte) (any, error) {
	if len(args) != 2 {
		return nil, Error("ERR malformed function entry")
	}
	ok, err := ks.deleteLibrary(args[1])
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, Error("ERR Library not found")
	}
	return OK, nil
}

// applyFunctionFlush runs FUNCTION FLUSH at apply.
func applyFunctionFlush(ks *Keyspace) (any, error) {
	return OK, ks.flushFunctions()
}

func (ks *Keyspace) flushFunctions() error {
	if err := ks.w.DeleteRange([]byte{prefixLibrary}, []byte{prefixLibrary + 1}); err != nil {
		return err
	}
	return ks.w.DeleteRange([]byte{prefixFunction}, []byte{prefixFunction + 1})
}
