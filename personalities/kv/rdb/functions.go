package rdb

import (
	"encoding/binary"
	"errors"
)

// RDB opcodes of function libraries.
const (
	opFunctionPreGA = 246 // Redis 7.0's release candidates' format
	opFunction2     = 245 // a library's code
)

// Errors of LoadFunctions, as FUNCTION RESTORE words them.
var (
	ErrNotFunction     = errors.New("given type is not a function")
	ErrFunctionPayload = errors.New("Failed loading library payload")
)

// Errors of the release candidates' format, field by field.
var (
	errPreGAName    = errors.New("Failed loading library name")
	errPreGAEngine  = errors.New("Failed loading engine name")
	errPreGAHasDesc = errors.New("Failed loading library description indicator")
	errPreGADesc    = errors.New("Failed loading library description")
	errPreGABody    = errors.New("Failed loading library blob")
)

// maxFunctionsInflated bounds the bytes a payload's LZF strings inflate
// to, all together: proto-max-bulk-len.
const maxFunctionsInflated = 512 << 20

// DumpFunctions returns FUNCTION DUMP's payload of the libraries whose
// codes are given: each as the function opcode and the code as an RDB
// string, then the RDB version and the CRC64. It does not alias codes.
func DumpFunctions(codes [][]byte) []byte {
	var b []byte
	for _, c := range codes {
		b = appendString(append(b, opFunction2), c)
	}
	b = binary.LittleEndian.AppendUint16(b, Version)
	return binary.LittleEndian.AppendUint64(b, CRC64(0, b))
}

// LoadFunctions returns the libraries' codes of a FUNCTION DUMP payload
// that passed Verify, in payload order. Strings are bounded by the
// payload's size (LZF ones by lzfMaxExpansion times it, 512 MiB in all). The codes may
// alias p.
func LoadFunctions(p []byte) ([][]byte, error) {
	if len(p) < 10 {
		return nil, ErrBadFormat
	}
	// As in redis-server, fields are read from the whole payload, so
	// they may run into the footer, and reading ends 10 bytes before
	// the end.
	r := &reader{b: p}
	var codes [][]byte
	for len(r.b) > 10 {
		op, _ := r.byte()
		var code []byte
		var err error
		switch op {
		case opFunction2:
			var ok bool
			if code, ok = r.string(); !ok {
				err = ErrFunctionPayload
			}
		case opFunctionPreGA:
			code, err = r.preGALibrary()
		default:
			return nil, ErrNotFunction
		}
		if err == nil && r.inflated > maxFunctionsInflated {
			err = ErrFunctionPayload
		}
		if err != nil {
			return nil, err
		}
		codes = append(codes, code)
	}
	return codes, nil
}

// preGALibrary reads a library in the release candidates' format (its
// name, engine, optional description and code) and returns the code
// with the shebang Redis 7.0 gives it; the description is dropped, as
// Redis drops it.
func (r *reader) preGALibrary() ([]byte, error) {
	name, ok := r.string()
	if !ok {
		return nil, errPreGAName
	}
	engine, ok := r.string()
	if !ok {
		return nil, errPreGAEngine
	}
	hasDesc, enc, ok := r.length()
	if !ok || enc {
		return nil, errPreGAHasDesc
	}
	if hasDesc != 0 {
		if _, ok := r.string(); !ok {
			return nil, errPreGADesc
		}
	}
	body, ok := r.string()
	if !ok {
		return nil, errPreGABody
	}
	code := append([]byte("#!"), engine...)
	code = append(append(append(code, " name="...), name...), '\n')
	return append(code, body...), nil
}
