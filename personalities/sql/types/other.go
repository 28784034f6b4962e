package types

import (
	"hourglass/personalities/sql/pgerror"
)

// formatOther prints the types io.go leaves to the type-specific files.
func formatOther(t Type, d any, s *Settings) string {
	return "?"
}

// parseOther reads the types io.go leaves to the type-specific files.
func parseOther(t Type, text string, s *Settings) (any, error) {
	return nil, pgerror.New(pgerror.FeatureNotSupported, "type %s is not supported", FormatType(t.Oid, t.Mod))
}

// coerceOther applies modifiers of the types Coerce leaves to the
// type-specific files.
func coerceOther(t Type, d any, explicit bool) (any, error) {
	return d, nil
}

// compareOther orders the types Compare leaves to the type-specific files.
func compareOther(t Oid, a, b any) int { return 0 }

// appendKeyOther key-encodes the types appendKeyValue leaves to the
// type-specific files.
func appendKeyOther(b []byte, t Oid, d any) ([]byte, error) { return b, errKeyType(t) }

// appendValueOther row-encodes the types AppendValue leaves to the
// type-specific files.
func appendValueOther(b []byte, t Oid, d any) ([]byte, error) { return b, errKeyType(t) }

// decodeValueOther decodes the types DecodeValue leaves to the
// type-specific files.
func decodeValueOther(b []byte, t Oid) (any, []byte, error) { return nil, nil, errCorrupt }

// castOther converts between the types Cast leaves to the type-specific
// files.
func castOther(d any, from, to Type, explicit bool, s *Settings) (any, error) {
	return nil, errNoCast(from, to)
}

// encodeBinaryOther sends the types EncodeBinary leaves to the
// type-specific files.
func encodeBinaryOther(t Type, d any) ([]byte, error) {
	return nil, pgerror.New(pgerror.FeatureNotSupported, "binary output of type %s is not supported", FormatType(t.Oid, t.Mod))
}

// decodeBinaryOther receives the types DecodeBinary leaves to the
// type-specific files.
func decodeBinaryOther(t Type, b []byte) (any, error) {
	return nil, pgerror.New(pgerror.FeatureNotSupported, "binary input of type %s is not supported", FormatType(t.Oid, t.Mod))
}
