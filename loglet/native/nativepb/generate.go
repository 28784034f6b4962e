// Package nativepb holds the native loglet's gRPC services: LogServer
// (store, seal, read, trim) and Sequencer (appends forwarded from other
// processes). The .pb.go files are generated; run go generate.
package nativepb

//go:generate protoc -I ../../.. --go_out=../../.. --go_opt=paths=source_relative --go-grpc_out=../../.. --go-grpc_opt=paths=source_relative loglet/native/nativepb/native.proto
