package node

import (
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"hourglass/personalities/zk"
)

// zkNodeInfo describes the node to the ZooKeeper API's conf, dirs and
// AdminServer commands: its ZooKeeper ports, its directories (the
// applied state as dataDir, the LogServer's log as dataLogDir) and
// their sizes, and its id as ZooKeeper's serverId.
func (n *Node) zkNodeInfo() zk.NodeInfo {
	info := zk.NodeInfo{
		ClientPort:       n.boundPort("zookeeper"),
		SecureClientPort: n.boundPort("zookeeper-secure"),
		DataDir:          filepath.Join(n.cfg.DataDir, "store"),
		DataLogDir:       filepath.Join(n.cfg.DataDir, "log"),
		InitialConfig:    n.cfg.ZooCfgText,
	}
	info.DataDirSize = dirSize(info.DataDir)
	info.DataLogSize = dirSize(info.DataLogDir)
	if n.cfg.Ensemble() {
		// zoo.cfg's server.N is node nN.
		if id, err := strconv.ParseInt(strings.TrimPrefix(n.cfg.NodeID, "n"), 10, 64); err == nil {
			info.ServerID = id
		}
	}
	return info
}

// boundPort is the port the named listener bound, or -1.
func (n *Node) boundPort(api string) int {
	if p, ok := n.boundPorts.Load(api); ok {
		return p.(int)
	}
	return -1
}

// dirSize is the bytes of the files under dir.
func dirSize(dir string) int64 {
	var size int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
			}
		}
		return nil
	})
	return size
}
