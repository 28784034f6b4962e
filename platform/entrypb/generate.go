// Package entrypb holds the protobuf form of a log entry. The .pb.go file
// is generated; run go generate.
package entrypb

//go:generate protoc --go_out=. --go_opt=paths=source_relative entry.proto
