// Package vlogpb holds the protobuf messages of the VirtualLog's metadata
// (the chain of segments). The .pb.go file is generated; run go generate.
package vlogpb

//go:generate protoc -I ../.. --go_out=../.. --go_opt=paths=source_relative ../../virtuallog/vlogpb/chain.proto
