package cmdtable

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"hourglass/personalities/kv/keyspace"
)

//go:embed rediscommands.json
var rawTable []byte

// Info is one command or subcommand of the table.
type Info struct {
	// Name is the full name in lower case: "get", "client|id".
	Name string
	// Arity follows Redis: n > 0 exactly n arguments (the name, and a
	// subcommand's container, included), n < 0 at least -n.
	Arity int
	// Flags are COMMAND INFO's command flags ("write", "readonly", ...).
	Flags []string
	// FirstKey, LastKey and Step are COMMAND INFO's legacy key range.
	FirstKey, LastKey, Step int
	// Categories are the ACL categories without their '@'.
	Categories []string
	// KeySpecs locate the keys and say how the command uses them.
	KeySpecs []KeySpec
	// Subcommands of a container command, in name order; nil otherwise.
	Subcommands []*Info
	// Parent is a subcommand's container; nil for a command.
	Parent *Info
	// Since is the Redis version that added the command.
	Since string
	// ID numbers commands and subcommands from 0, in full-name order,
	// for bitmaps over the table (ACL's command permissions).
	ID int

	info any // COMMAND INFO's reply for the command
	docs any // COMMAND DOCS's reply for the command
}

// HasFlag reports whether the command has the command flag f.
func (i *Info) HasFlag(f string) bool {
	for _, g := range i.Flags {
		if g == f {
			return true
		}
	}
	return false
}

// InfoReply returns COMMAND INFO's reply for the command (its
// subcommands included). The value is shared and must not be changed.
func (i *Info) InfoReply() any { return i.info }

// DocsReply returns COMMAND DOCS's reply for the command. The value is
// shared and must not be changed.
func (i *Info) DocsReply() any { return i.docs }

// Sub returns the subcommand called name (in any case), or nil.
func (i *Info) Sub(name []byte) *Info {
	full := i.Name + "|" + strings.ToLower(string(name))
	for _, s := range i.Subcommands {
		if s.Name == full {
			return s
		}
	}
	return nil
}

// table maps full names to commands.
var table = map[string]*Info{}

// byID lists the commands and subcommands by ID.
var byID []*Info

// Count is the number of commands and subcommands (IDs run from 0 to
// Count()-1).
func Count() int { return len(byID) }

// ByID returns the command or subcommand numbered id.
func ByID(id int) *Info { return byID[id] }

// Lookup returns the command or subcommand whose full name ("get",
// "client|id") is name in any case, or nil.
func Lookup(name string) *Info { return table[strings.ToLower(name)] }

// All returns every command (not subcommands) in name order. The slice
// is the caller's.
func All() []*Info {
	var out []*Info
	for _, i := range table {
		if i.Parent == nil {
			out = append(out, i)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out
}

func init() {
	var t struct {
		Info map[string]any `json:"info"`
		Docs map[string]any `json:"docs"`
	}
	if err := json.Unmarshal(rawTable, &t); err != nil {
		panic(fmt.Sprintf("cmdtable: rediscommands.json: %v", err))
	}
	for name, v := range t.Info {
		info, err := parseInfo(v, nil)
		if err != nil {
			panic(fmt.Sprintf("cmdtable: %s: %v", name, err))
		}
		info.docs = reply(t.Docs[name])
		info.Since, _ = field(t.Docs[name], "since").(string)
		for _, s := range info.Subcommands {
			s.docs = subDocs(info.docs, s.Name)
			s.Since, _ = field(field(field(t.Docs[name], "subcommands"), s.Name), "since").(string)
		}
	}
	for _, i := range table {
		byID = append(byID, i)
	}
	sort.Slice(byID, func(a, b int) bool { return byID[a].Name < byID[b].Name })
	for id, i := range byID {
		i.ID = id
	}
}

// subDocs finds a subcommand's docs in its container's.
func subDocs(docs any, name string) any {
	m, _ := docs.(keyspace.Map)
	for j := 0; j+1 < len(m); j += 2 {
		if m[j] == "subcommands" {
			subs, _ := m[j+1].(keyspace.Map)
			for k := 0; k+1 < len(subs); k += 2 {
				if subs[k] == name {
					return subs[k+1]
				}
			}
		}
	}
	return keyspace.Map{}
}

// parseInfo reads one COMMAND INFO entry and registers it, with its
// subcommands.
func parseInfo(v any, parent *Info) (*Info, error) {
	a, ok := v.([]any)
	if !ok || len(a) != 10 {
		return nil, fmt.Errorf("an entry of %d fields", len(a))
	}
	i := &Info{Parent: parent, info: reply(v)}
	i.Name, _ = a[0].(string)
	i.Arity, i.FirstKey, i.LastKey, i.Step = num(a[1]), num(a[3]), num(a[4]), num(a[5])
	i.Flags = statuses(a[2])
	for _, c := range statuses(a[6]) {
		i.Categories = append(i.Categories, strings.TrimPrefix(c, "@"))
	}
	for _, s := range elems(a[8]) {
		ks, err := parseKeySpec(s)
		if err != nil {
			return nil, err
		}
		i.KeySpecs = append(i.KeySpecs, ks)
	}
	if subs, ok := a[9].([]any); ok {
		for _, s := range subs {
			sub, err := parseInfo(s, i)
			if err != nil {
				return nil, err
			}
			i.Subcommands = append(i.Subcommands, sub)
		}
	}
	table[i.Name] = i
	return i, nil
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// elems returns the items of an array, a set or a map.
func elems(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case map[string]any:
		for _, items := range v {
			a, _ := items.([]any)
			return a
		}
	}
	return nil
}

// statuses returns the texts of a set of status replies.
func statuses(v any) []string {
	var out []string
	for _, e := range elems(v) {
		switch e := e.(type) {
		case map[string]any:
			s, _ := e["+"].(string)
			out = append(out, s)
		case string:
			out = append(out, e)
		}
	}
	return out
}

// field returns the value of key in a stored map.
func field(v any, key string) any {
	m := elems(v)
	for j := 0; j+1 < len(m); j += 2 {
		if m[j] == key {
			return m[j+1]
		}
	}
	return nil
}

// reply turns a stored reply into the server's reply values (see the
// script for the encoding).
func reply(v any) any {
	switch v := v.(type) {
	case float64:
		return int64(v)
	case string:
		return v
	case []any:
		out := make([]any, len(v))
		for j, e := range v {
			out[j] = reply(e)
		}
		return out
	case map[string]any:
		if s, ok := v["+"].(string); ok {
			return keyspace.SimpleString(s)
		}
		items := elems(v)
		out := make([]any, len(items))
		for j, e := range items {
			out[j] = reply(e)
		}
		if _, ok := v["%"]; ok {
			return keyspace.Map(out)
		}
		return keyspace.Set(out)
	}
	return nil
}
