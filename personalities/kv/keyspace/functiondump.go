package keyspace

import (
	"errors"
	"strings"

	"hourglass/personalities/kv/rdb"
	"hourglass/platform"
)

// FUNCTION DUMP and FUNCTION RESTORE: Redis's payload (see package rdb),
// so that libraries move between the gateway and redis-server. RESTORE
// is a log entry; its policy and payload are checked by the proposer
// (CheckFunctionRestore) and again at apply.

// FunctionDump answers FUNCTION DUMP on the applied state r.
func FunctionDump(r platform.Reader) ([]byte, error) {
	libs, err := Libraries(r)
	if err != nil {
		return nil, err
	}
	codes := make([][]byte, len(libs))
	for i, lib := range libs {
		codes[i] = lib.Code
	}
	return rdb.DumpFunctions(codes), nil
}

// CheckFunctionRestore checks FUNCTION RESTORE's line (args, at least 3)
// as Redis does before it reads the payload.
func CheckFunctionRestore(args [][]byte) error {
	if len(args) > 4 {
		return errSubcommandSyntax(args)
	}
	if len(args) == 4 && !EqFold(args[3], "append") && !EqFold(args[3], "replace") && !EqFold(args[3], "flush") {
		return Error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
	}
	if rdb.Verify(args[2]) != nil {
		return errDumpVersion
	}
	return nil
}

// FunctionRestoreBody returns the log body of FUNCTION RESTORE (args,
// checked).
func FunctionRestoreBody(args [][]byte) []byte {
	policy := []byte("append")
	if len(args) == 4 {
		policy = []byte(strings.ToLower(string(args[3])))
	}
	return EncodeCommand(0, 0, [][]byte{[]byte(cmdFunctionRestore), policy, args[2]})
}

// applyFunctionRestore runs FUNCTION RESTORE at apply: args are the
// internal command, the policy (flush, append, replace) and the payload.
func applyFunctionRestore(ks *Keyspace, args [][]byte) (any, error) {
	if len(args) != 3 {
		return nil, Error("ERR malformed function entry")
	}
	if err := CheckFunctionRestore([][]byte{nil, nil, args[2], args[1]}); err != nil {
		return nil, err
	}
	codes, err := rdb.LoadFunctions(args[2])
	if err != nil {
		if errors.Is(err, rdb.ErrBadFormat) {
			err = rdb.ErrFunctionPayload
		}
		return nil, Error("ERR " + err.Error())
	}
	libs, err := compileLibraries(ks, codes)
	if err != nil {
		return nil, err
	}
	switch string(args[1]) {
	case "flush":
		if err := ks.flushFunctions(); err != nil {
			return nil, err
		}
	default:
		if err := ks.checkJoin(libs, string(args[1]) == "replace"); err != nil {
			return nil, err
		}
	}
	if err := ks.storeLibraries(libs); err != nil {
		return nil, err
	}
	return OK, nil
}

// compileLibraries loads a payload's libraries as Redis does into an
// empty set of libraries: no two may share a name or a function's name.
func compileLibraries(ks *Keyspace, codes [][]byte) ([]*Library, error) {
	var libs []*Library
	funcs := map[string]bool{}
	for _, code := range codes {
		md, err := parseLibrary(code)
		if err != nil {
			return nil, err
		}
		for _, l := range libs {
			if l.Name == md.name {
				return nil, Errorf("ERR Library '%s' already exists", md.name)
			}
		}
		lib, err := compileLibrary(ks, md, code)
		if err != nil {
			return nil, err
		}
		for _, f := range lib.Functions {
			if funcs[strings.ToLower(f.Name)] {
				return nil, Errorf("ERR Function %s already exists", f.Name)
			}
		}
		for _, f := range lib.Functions {
			funcs[strings.ToLower(f.Name)] = true
		}
		libs = append(libs, lib)
	}
	return libs, nil
}

// checkJoin checks that libs can join the stored libraries: a library of
// a stored one's name only with replace (which drops the stored one),
// and no function of a name another library keeps.
func (ks *Keyspace) checkJoin(libs []*Library, replace bool) error {
	names := map[string]bool{}
	for _, lib := range libs {
		names[lib.Name] = true
		_, ok, err := ks.r.Get(libraryKey([]byte(lib.Name)))
		if err != nil {
			return err
		}
		if ok && !replace {
			return Errorf("ERR Library %s already exists", lib.Name)
		}
	}
	for _, lib := range libs {
		for _, f := range lib.Functions {
			owner, ok, err := ks.r.Get(functionKey([]byte(f.Name)))
			if err != nil {
				return err
			}
			if ok && !names[string(owner)] {
				return Errorf("ERR Function %s already exists", f.Name)
			}
		}
	}
	return nil
}
