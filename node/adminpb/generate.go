// Package adminpb holds the node's admin gRPC service. The .pb.go files are
// generated; run go generate.
package adminpb

//go:generate protoc -I ../.. --go_out=../.. --go_opt=paths=source_relative --go-grpc_out=../.. --go-grpc_opt=paths=source_relative node/adminpb/admin.proto
