// Package sqlpb holds the protobuf form of the Postgres personality's log
// entries. The .pb.go file is generated; run go generate.
package sqlpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative sql.proto
