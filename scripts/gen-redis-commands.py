#!/usr/bin/python3
"""Writes personalities/kv/cmdtable/rediscommands.json: COMMAND INFO and COMMAND
DOCS of every command of the redis-server on PORT (default 6399, a Debian
redis-server 7.0 started for the purpose, e.g. `redis-server --port 6399
--save "" --appendonly no`), read over RESP3 so that the replies keep
their types, as {"info": {name: reply}, "docs": {name: reply}}.

A reply is stored as JSON: a bulk string as a string, an integer as a
number, a null as null, an array as a list, and the other RESP3 types as
one-key objects: {"+": status}, {"%": [key, value, ...]} for a map,
{"~": [...]} for a set. Redis lists a container's subcommands in its
hash table's order, which changes from run to run; they are stored in
name order. Needs only the Python standard library.

The gateway also serves a few things redis-server 7.0 lacks, from Redis
7.2: WAITAOF, and ZRANK/ZREVRANK's WITHSCORE. amend() adds them as Redis
7.2's command table (src/commands/waitaof.json, zrank.json, zrevrank.json)
describes them, in 7.0's format.
"""
import json, os, socket, sys


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.read()

    def read(self):
        line = self.f.readline()[:-2]
        t, rest = chr(line[0]), line[1:].decode()
        if t == "$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode()
        if t == "+":
            return {"+": rest}
        if t == "-":
            raise RuntimeError(rest)
        if t == ":":
            return int(rest)
        if t == "_":
            return None
        if t in "*~":
            items = [self.read() for _ in range(int(rest))]
            return items if t == "*" else {"~": items}
        if t == "%":
            items = []
            for _ in range(int(rest)):
                items.append(self.read())
                items.append(self.read())
            return {"%": items}
        raise RuntimeError("unexpected reply type " + t)


def sort_info(info):
    # info[9] is the subcommands' list of COMMAND INFO entries.
    if len(info) > 9 and isinstance(info[9], list):
        info[9] = sorted((sort_info(s) for s in info[9]), key=lambda s: s[0])
    return info


def sort_docs(doc):
    items = doc["%"]
    for i in range(0, len(items), 2):
        if items[i] == "subcommands":
            subs = items[i + 1]["%"]
            pairs = sorted(zip(subs[0::2], subs[1::2]), key=lambda p: p[0])
            items[i + 1]["%"] = [x for k, v in pairs for x in (k, sort_docs(v))]
    return doc


def st(*names):
    return {"~": [{"+": n} for n in names]}


def arg(name, typ, *extra):
    return {"%": ["name", name, "type", typ] + list(extra)}


def amend(info, docs):
    info["waitaof"] = ["waitaof", 4, st("blocking"), 0, 0, 0,
                       st("@slow", "@blocking", "@connection"),
                       {"~": ["request_policy:all_shards", "response_policy:agg_min"]}, {"~": []}, {"~": []}]
    docs["waitaof"] = {"%": ["summary", "Blocks until all of the preceding write commands sent by the connection "
                             "are written to the append-only file of the master and/or replicas.",
                             "since", "7.2.0", "group", "generic", "complexity", "O(1)", "arguments",
                             [arg("numlocal", "integer"), arg("numreplicas", "integer"), arg("timeout", "integer")]]}
    for name in ("zrank", "zrevrank"):
        info[name][1] = -3
        d = docs[name]["%"]
        d[d.index("arguments") + 1].append(arg("withscore", "pure-token", "token", "WITHSCORE", "since", "7.2.0", "flags", st("optional")))
        at = d.index("arguments")
        d[at:at] = ["history", [["7.2.0", "Added the optional `WITHSCORE` argument."]]]


def main():
    c = Conn(int(os.environ.get("PORT", "6399")))
    c.call("HELLO", "3")
    info = {i[0]: sort_info(i) for i in c.call("COMMAND", "INFO")}
    docs = c.call("COMMAND", "DOCS")["%"]
    docs = {docs[i]: sort_docs(docs[i + 1]) for i in range(0, len(docs), 2)}
    amend(info, docs)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "personalities", "kv", "cmdtable", "rediscommands.json")
    with open(out, "w") as f:
        json.dump({"info": info, "docs": docs}, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")
    print(f"{len(info)} commands written to {out}", file=sys.stderr)


main()
