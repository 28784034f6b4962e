package zk

import (
	"hourglass/personalities/zk/jute"
)

// Opcodes of ZooKeeper 3.8 requests.
const (
	opNotification      = 0
	opCreate            = 1
	opDelete            = 2
	opExists            = 3
	opGetData           = 4
	opSetData           = 5
	opGetACL            = 6
	opSetACL            = 7
	opGetChildren       = 8
	opSync              = 9
	opPing              = 11
	opGetChildren2      = 12
	opCheck             = 13
	opMulti             = 14
	opCreate2           = 15
	opReconfig          = 16
	opCheckWatches      = 17
	opRemoveWatches     = 18
	opCreateContainer   = 19
	opDeleteContainer   = 20
	opCreateTTL         = 21
	opMultiRead         = 22
	opAuth              = 100
	opSetWatches        = 101
	opSASL              = 102
	opGetEphemerals     = 103
	opGetAllChildrenNum = 104
	opSetWatches2       = 105
	opAddWatch          = 106
	opWhoAmI            = 107
	opCreateSession     = -10
	opCloseSession      = -11
	opError             = -1
)

// opNames are the operations' names in ZooKeeper's OpCode class, used
// as the metrics' command label.
var opNames = map[int32]string{
	opCreate: "create", opDelete: "delete", opExists: "exists", opGetData: "getData",
	opSetData: "setData", opGetACL: "getACL", opSetACL: "setACL", opGetChildren: "getChildren",
	opSync: "sync", opPing: "ping", opGetChildren2: "getChildren2", opCheck: "check",
	opMulti: "multi", opCreate2: "create2", opReconfig: "reconfig", opCheckWatches: "checkWatches",
	opRemoveWatches: "removeWatches", opCreateContainer: "createContainer", opDeleteContainer: "deleteContainer",
	opCreateTTL: "createTTL", opMultiRead: "multiRead", opAuth: "auth", opSetWatches: "setWatches",
	opSASL: "sasl", opGetEphemerals: "getEphemerals", opGetAllChildrenNum: "getAllChildrenNumber",
	opSetWatches2: "setWatches2", opAddWatch: "addWatch", opWhoAmI: "whoAmI",
	opCreateSession: "createSession", opCloseSession: "closeSession",
}

// opName is op's name, or "unknown".
func opName(op int32) string {
	if n, ok := opNames[op]; ok {
		return n
	}
	return "unknown"
}

// xidWatchEvent is the xid of a watch notification. Other replies echo
// their request's xid (Java clients use -2 for pings, -4 for auth and -8
// for setWatches; go-zookeeper numbers them like any request).
const xidWatchEvent = -1

// Error codes (KeeperException.Code).
const (
	errOK                      = 0
	errSystemError             = -1
	errRuntimeInconsistency    = -2
	errMarshallingError        = -5
	errUnimplemented           = -6
	errOperationTimeout        = -7
	errBadArguments            = -8
	errUnknownSession          = -12
	errAPIError                = -100
	errNoNode                  = -101
	errNoAuth                  = -102
	errBadVersion              = -103
	errNoChildrenForEphemerals = -108
	errNodeExists              = -110
	errNotEmpty                = -111
	errSessionExpired          = -112
	errInvalidACL              = -114
	errAuthFailed              = -115
	errSessionMoved            = -118
	errNoWatcher               = -121
	errReconfigDisabled        = -123
	// errSessionClosedRequireSASLAuth closes a session that sent a
	// request before authenticating with an enforced scheme.
	errSessionClosedRequireSASLAuth = -124
	// errQuotaExceeded: a create or setData would pass a hard quota.
	errQuotaExceeded = -125
	errThrottled     = -127
)

// Watch event types and states.
const (
	eventNone                   = -1
	eventNodeCreated            = 1
	eventNodeDeleted            = 2
	eventNodeDataChanged        = 3
	eventNodeChildrenChanged    = 4
	eventDataWatchRemoved       = 5
	eventChildWatchRemoved      = 6
	eventPersistentWatchRemoved = 7

	stateSyncConnected = 3
	stateExpired       = -112
)

// Permissions.
const (
	permRead   = 1
	permWrite  = 2
	permCreate = 4
	permDelete = 8
	permAdmin  = 16
	permAll    = 31
)

// Create modes (CreateMode.toFlag).
const (
	modePersistent           = 0
	modeEphemeral            = 1
	modePersistentSequential = 2
	modeEphemeralSequential  = 3
	modeContainer            = 4
	modePersistentTTL        = 5
	modePersistentSeqTTL     = 6
)

// Stat is a znode's metadata as the wire carries it.
type Stat struct {
	Czxid, Mzxid, Ctime, Mtime  int64
	Version, Cversion, Aversion int32
	EphemeralOwner              int64
	DataLength, NumChildren     int32
	Pzxid                       int64
}

func appendStat(b []byte, s Stat) []byte {
	b = jute.AppendLong(b, s.Czxid)
	b = jute.AppendLong(b, s.Mzxid)
	b = jute.AppendLong(b, s.Ctime)
	b = jute.AppendLong(b, s.Mtime)
	b = jute.AppendInt(b, s.Version)
	b = jute.AppendInt(b, s.Cversion)
	b = jute.AppendInt(b, s.Aversion)
	b = jute.AppendLong(b, s.EphemeralOwner)
	b = jute.AppendInt(b, s.DataLength)
	b = jute.AppendInt(b, s.NumChildren)
	return jute.AppendLong(b, s.Pzxid)
}

// ID is an authenticated identity or an ACL's subject: a scheme and an id
// within it.
type ID struct{ Scheme, ID string }

// ACL grants Perms to an ID.
type ACL struct {
	Perms int32
	ID
}

func appendACLs(b []byte, acl []ACL) []byte {
	b = jute.AppendInt(b, int32(len(acl)))
	for _, a := range acl {
		b = jute.AppendInt(b, a.Perms)
		b = jute.AppendString(b, a.Scheme)
		b = jute.AppendString(b, a.ID.ID)
	}
	return b
}

// decodeACLs reads a vector of ACLs; null is nil.
func decodeACLs(d *jute.Decoder) []ACL {
	n := d.Count(12)
	if n < 0 {
		return nil
	}
	out := make([]ACL, 0, n)
	for range n {
		out = append(out, ACL{Perms: d.Int(), ID: ID{Scheme: d.String(), ID: d.String()}})
	}
	return out
}

func appendIDs(b []byte, ids []ID) []byte {
	b = jute.AppendInt(b, int32(len(ids)))
	for _, id := range ids {
		b = jute.AppendString(b, id.Scheme)
		b = jute.AppendString(b, id.ID)
	}
	return b
}

func decodeIDs(d *jute.Decoder) []ID {
	n := d.Count(8)
	if n < 0 {
		return nil
	}
	out := make([]ID, 0, n)
	for range n {
		out = append(out, ID{Scheme: d.String(), ID: d.String()})
	}
	return out
}

// connectRequest opens or resumes a session.
type connectRequest struct {
	protocolVersion int32
	lastZxidSeen    int64
	timeout         int32
	sessionID       int64
	passwd          []byte
	readOnly        bool
	hasReadOnly     bool // the client sent the readOnly flag (newer clients do)
}

func decodeConnectRequest(b []byte) (connectRequest, error) {
	d := jute.NewDecoder(b)
	r := connectRequest{
		protocolVersion: d.Int(),
		lastZxidSeen:    d.Long(),
		timeout:         d.Int(),
		sessionID:       d.Long(),
		passwd:          d.Buffer(),
	}
	if d.Err() == nil && d.Remaining() > 0 {
		r.readOnly, r.hasReadOnly = d.Bool(), true
	}
	return r, d.Err()
}

func appendConnectResponse(b []byte, timeout int32, sessionID int64, passwd []byte, readOnly bool) []byte {
	b = jute.AppendInt(b, 0) // protocol version
	b = jute.AppendInt(b, timeout)
	b = jute.AppendLong(b, sessionID)
	b = jute.AppendBuffer(b, passwd)
	return jute.AppendBool(b, readOnly)
}

func appendReplyHeader(b []byte, xid int32, zxid int64, err int32) []byte {
	b = jute.AppendInt(b, xid)
	b = jute.AppendLong(b, zxid)
	return jute.AppendInt(b, err)
}

func appendWatcherEvent(b []byte, typ, state int32, path string) []byte {
	b = jute.AppendInt(b, typ)
	b = jute.AppendInt(b, state)
	return jute.AppendString(b, path)
}

// createRequest is create, create2, createContainer and createTTL.
type createRequest struct {
	path  string
	data  []byte
	acl   []ACL
	flags int32
	ttl   int64
}

func decodeCreate(d *jute.Decoder, withTTL bool) createRequest {
	r := createRequest{path: d.String(), data: d.Buffer(), acl: decodeACLs(d), flags: d.Int()}
	if withTTL {
		r.ttl = d.Long()
	}
	return r
}

// pathVersion is delete's and check's request.
type pathVersion struct {
	path    string
	version int32
}

func decodePathVersion(d *jute.Decoder) pathVersion {
	return pathVersion{path: d.String(), version: d.Int()}
}

type setDataRequest struct {
	path    string
	data    []byte
	version int32
}

func decodeSetData(d *jute.Decoder) setDataRequest {
	return setDataRequest{path: d.String(), data: d.Buffer(), version: d.Int()}
}

type setACLRequest struct {
	path    string
	acl     []ACL
	version int32
}

func decodeSetACL(d *jute.Decoder) setACLRequest {
	return setACLRequest{path: d.String(), acl: decodeACLs(d), version: d.Int()}
}

// multiOp is one operation of a multi or multiRead.
type multiOp struct {
	op  int32
	req any // createRequest, pathVersion, setDataRequest, or string (a read's path)
}

// decodeMulti reads a multi's operations up to the done header. Reads
// (multiRead) carry a path each.
func decodeMulti(d *jute.Decoder, maxOps int) ([]multiOp, int32) {
	var ops []multiOp
	for d.Err() == nil {
		typ, done, _ := d.Int(), d.Bool(), d.Int()
		if done {
			return ops, errOK
		}
		if len(ops) == maxOps {
			return nil, errMarshallingError
		}
		switch typ {
		case opCreate, opCreate2, opCreateContainer:
			ops = append(ops, multiOp{typ, decodeCreate(d, false)})
		case opCreateTTL:
			ops = append(ops, multiOp{typ, decodeCreate(d, true)})
		case opDelete, opCheck:
			ops = append(ops, multiOp{typ, decodePathVersion(d)})
		case opSetData:
			ops = append(ops, multiOp{typ, decodeSetData(d)})
		case opGetData, opGetChildren:
			ops = append(ops, multiOp{typ, d.String()})
		default:
			return nil, errUnimplemented
		}
	}
	return nil, errMarshallingError
}

func appendMultiHeader(b []byte, typ int32, done bool, err int32) []byte {
	b = jute.AppendInt(b, typ)
	b = jute.AppendBool(b, done)
	return jute.AppendInt(b, err)
}
