#!/usr/bin/python3
"""Writes personalities/kv/redisconf.json: every CONFIG parameter of the
redis-server on PORT (default 6399, a Debian redis-server 7.0 started for
the purpose, e.g. `redis-server --port 6399 --save "" --appendonly no`),
with its default, its kind as CONFIG SET's errors reveal it (bool, int,
memory, enum, string, immutable, protected, special), the error it gives
for a value it cannot parse, its integer bounds and its aliases (the
parameters that change with it). It changes the server's settings and
puts them back. Uses Debian's python3-redis (run with /usr/bin/python3).
"""
import json, os, re, sys

import redis

r = redis.Redis(port=int(os.environ.get("PORT", "6399")), decode_responses=True)
cfg = r.config_get("*")


def tryset(name, value):
    try:
        r.execute_command("CONFIG", "SET", name, value)
        return None
    except redis.ResponseError as e:
        return str(e)


def reason(err):
    m = re.search(r"\) - (.*)$", err)
    return m.group(1) if m else err


KINDS = {
    "argument must be 'yes' or 'no'": "bool",
    "argument couldn't be parsed into an integer": "int",
    "argument must be a memory value": "memory",
}

params = []
for name in sorted(cfg):
    p = {"name": name, "default": cfg[name]}
    params.append(p)
    err = tryset(name, cfg[name])
    if err and "immutable" in err:
        p["kind"] = "immutable"
        continue
    if err and "protected" in err:
        p["kind"] = "protected"
        continue
    err = tryset(name, "notavalue!")
    if err is None:
        p["kind"] = "string"
        tryset(name, cfg[name])
        continue
    p["invalid"] = reason(err)
    p["kind"] = KINDS.get(p["invalid"], "special")
    if p["invalid"].startswith("argument(s) must be one of the following:"):
        p["kind"] = "enum"
        p["values"] = [v.strip() for v in p["invalid"].split(":", 1)[1].split(",")]
    if p["kind"] in ("int", "memory"):
        for v in ["-9223372036854775808", "9223372036854775807", "-1", "0"]:
            m = re.search(r"between (-?\d+) and (-?\d+) inclusive", tryset(name, v) or "")
            if m:
                p["min"], p["max"] = int(m.group(1)), int(m.group(2))
        tryset(name, cfg[name])


def another(p):
    k, d = p["kind"], p["default"]
    if k == "bool":
        return "no" if d == "yes" else "yes"
    if k in ("int", "memory"):
        v = int(d) + 1
        return str(v - 2 if v > p.get("max", v) else v)
    if k == "enum":
        return next((v for v in p["values"] if v != d), None)
    if k == "string":
        return "probe-x"
    return None


base = r.config_get("*")
for p in params:
    v = another(p)
    if v is None or tryset(p["name"], v) is not None:
        continue
    now = r.config_get("*")
    aliases = sorted(n for n in now if n != p["name"] and now[n] != base[n])
    if aliases:
        p["aliases"] = aliases
    tryset(p["name"], p["default"])

json.dump(params, sys.stdout, indent=0, sort_keys=True)
print()
