package kv

import (
	"sort"
	"strconv"
	"strings"
)

// Version is the Redis version the personality reports to clients that
// gate features on it.
const Version = "7.2.0"

func init() {
	register(&command{name: "ping", arity: -1, kind: kindLocal, local: localPing, flags: []string{"fast"}})
	register(&command{name: "echo", arity: 2, kind: kindLocal, local: localEcho, flags: []string{"fast"}})
	register(&command{name: "quit", arity: -1, kind: kindLocal, local: localQuit, flags: []string{"fast"}})
	register(&command{name: "select", arity: 2, kind: kindLocal, local: localSelect, flags: []string{"fast"}})
	register(&command{name: "hello", arity: -1, kind: kindLocal, local: localHello, flags: []string{"fast"}})
	register(&command{name: "client", arity: -2, kind: kindLocal, local: localClient})
	register(&command{name: "command", arity: -1, kind: kindLocal, local: localCommand})
	register(&command{name: "config", arity: -2, kind: kindLocal, local: localConfig})
}

func localPing(c *conn, args [][]byte) any {
	if len(args) > 2 {
		return errArity("ping")
	}
	if c.proto == 2 && c.subscriptions() > 0 {
		// In subscribed mode a RESP2 PING answers like a message.
		msg := []byte{}
		if len(args) == 2 {
			msg = args[1]
		}
		return []any{"pong", msg}
	}
	switch len(args) {
	case 1:
		return simpleString("PONG")
	case 2:
		return args[1]
	}
	return errArity("ping")
}

func localEcho(c *conn, args [][]byte) any { return args[1] }

func localQuit(c *conn, args [][]byte) any {
	c.quit = true
	return replyOK
}

// Databases is the number of logical databases (SELECT 0..Databases-1).
const Databases = 16

func localSelect(c *conn, args [][]byte) any {
	n, ok := parseInt(args[1])
	if !ok {
		return errNotInteger
	}
	if n < 0 || n >= Databases {
		return errDBIndex
	}
	c.db = int(n)
	return replyOK
}

// localHello implements HELLO [protover [AUTH user pass] [SETNAME name]].
func localHello(c *conn, args [][]byte) any {
	proto := c.proto
	if len(args) >= 2 {
		v, ok := parseInt(args[1])
		if !ok {
			return redisError("ERR Protocol version is not an integer or out of range")
		}
		if v < 2 || v > 3 {
			return errNoProto
		}
		proto = int(v)
		for j := 2; j < len(args); j++ {
			more := len(args) - j - 1
			switch {
			case eqFold(args[j], "auth") && more >= 2:
				// No password is configured: any credentials pass, as
				// with Redis's default user without requirepass.
				j += 2
			case eqFold(args[j], "setname") && more >= 1:
				if err := checkClientName(args[j+1]); err != nil {
					return err
				}
				c.name = string(args[j+1])
				j++
			default:
				return redisError("ERR Syntax error in HELLO option '" + sanitize(string(args[j])) + "'")
			}
		}
	}
	c.proto = proto
	c.pushProto.Store(int32(proto))
	return respMap{
		"server", "redis",
		"version", Version,
		"proto", int64(proto),
		"id", c.id,
		"mode", "standalone",
		"role", "master",
		"modules", []any{},
	}
}

func checkClientName(name []byte) any {
	for _, ch := range name {
		if ch < '!' || ch > '~' {
			return redisError("ERR Client names cannot contain spaces, newlines or special characters.")
		}
	}
	return nil
}

func localClient(c *conn, args [][]byte) any {
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "id" && len(args) == 2:
		return c.id
	case sub == "getname" && len(args) == 2:
		if c.name == "" {
			return nil
		}
		return c.name
	case sub == "setname" && len(args) == 3:
		if err := checkClientName(args[2]); err != nil {
			return err
		}
		c.name = string(args[2])
		return replyOK
	case sub == "setinfo" && len(args) == 4:
		attr := strings.ToLower(string(args[2]))
		if attr != "lib-name" && attr != "lib-ver" {
			return redisError("ERR Unrecognized option '" + sanitize(string(args[2])) + "'")
		}
		return replyOK
	}
	return redisError("ERR unknown subcommand or wrong number of arguments for '" + sanitize(string(args[1])) + "'. Try CLIENT HELP.")
}

// commandInfo renders one command as COMMAND INFO does.
func commandInfo(cmd *command) any {
	flags := make([]any, len(cmd.flags))
	for i, f := range cmd.flags {
		flags[i] = simpleString(f)
	}
	return []any{cmd.name, int64(cmd.arity), flags, int64(cmd.firstKey), int64(cmd.lastKey), int64(cmd.step), []any{}, []any{}, []any{}}
}

func sortedCommands() []*command {
	out := make([]*command, 0, len(commands))
	for _, c := range commands {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func localCommand(c *conn, args [][]byte) any {
	if len(args) == 1 {
		var out []any
		for _, cmd := range sortedCommands() {
			out = append(out, commandInfo(cmd))
		}
		return out
	}
	switch strings.ToLower(string(args[1])) {
	case "count":
		if len(args) == 2 {
			return int64(len(commands))
		}
	case "info":
		var out []any
		if len(args) == 2 {
			for _, cmd := range sortedCommands() {
				out = append(out, commandInfo(cmd))
			}
			return out
		}
		for _, name := range args[2:] {
			if cmd := lookupCommand(name); cmd != nil {
				out = append(out, commandInfo(cmd))
			} else {
				out = append(out, nil)
			}
		}
		return out
	case "docs":
		// No documentation is served; clients fall back to their own.
		return respMap{}
	}
	return redisError("ERR unknown subcommand or wrong number of arguments for '" + sanitize(string(args[1])) + "'. Try COMMAND HELP.")
}

// configParams are the parameters CONFIG GET reports: what clients and
// tools read to learn how the server behaves.
var configParams = map[string]func(c *conn) string{
	"databases":          func(*conn) string { return strconv.Itoa(Databases) },
	"appendonly":         func(*conn) string { return "yes" },    // every write is in the durable log
	"appendfsync":        func(*conn) string { return "always" }, // acknowledged after fsync
	"save":               func(*conn) string { return "" },
	"maxclients":         func(c *conn) string { return strconv.Itoa(c.s.cfg.MaxClients) },
	"proto-max-bulk-len": func(c *conn) string { return strconv.FormatInt(c.s.limits().MaxBulkLen, 10) },
	"client-query-buffer-limit": func(c *conn) string {
		return strconv.FormatInt(c.s.limits().MaxQueryBuffer, 10)
	},
}

func localConfig(c *conn, args [][]byte) any {
	if strings.ToLower(string(args[1])) != "get" || len(args) < 3 {
		return redisError("ERR unknown subcommand or wrong number of arguments for '" + sanitize(string(args[1])) + "'. Try CONFIG HELP.")
	}
	names := make([]string, 0, len(configParams))
	for n := range configParams {
		names = append(names, n)
	}
	sort.Strings(names)
	var out respMap
	for _, n := range names {
		for _, pat := range args[2:] {
			if globMatch(strings.ToLower(string(pat)), n) {
				out = append(out, n, configParams[n](c))
				break
			}
		}
	}
	if out == nil {
		out = respMap{}
	}
	return out
}
