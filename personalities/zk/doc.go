// Package zk is reserved for the ZooKeeper personality (jute codec, sessions,
// watches, the Zelos applicator). Nothing is built here yet: the gateway
// accepts --zk-addr but does not listen on it.
package zk
