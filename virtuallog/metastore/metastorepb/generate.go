// Package metastorepb holds the protobuf messages and the gRPC service of
// the replicated MetaStore's Paxos acceptors (see package metastore). The
// .pb.go files are generated; run go generate.
package metastorepb

//go:generate protoc -I ../../.. --go_out=../../.. --go_opt=paths=source_relative --go-grpc_out=../../.. --go-grpc_opt=paths=source_relative virtuallog/metastore/metastorepb/paxos.proto
