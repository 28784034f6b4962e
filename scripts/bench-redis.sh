#!/usr/bin/env bash
# Runs redis-benchmark against a single gateway node, a three-node gateway
# ensemble (clients on one node), and two of Debian's redis-servers: one
# with appendonly yes and appendfsync always (every write fsynced before
# the reply, the durability the gateway gives) and one with persistence
# off, on this machine, in one run, and prints a Markdown table of
# throughput with ratios to the durable redis-server, and of latencies.
#
# With BASELINE set to a git revision, that revision's gateway is built too
# and run beside this tree's (a single node and a three-node ensemble of
# each), in the same run, for a before/after comparison.
#
#   scripts/bench-redis.sh              # defaults: 100000 requests, 50 clients
#   N=200000 CLIENTS=50 TESTS=set,get EVAL=no scripts/bench-redis.sh
#   BASELINE=HEAD~3 scripts/bench-redis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
CLIENTS=${CLIENTS:-50}
TESTS=${TESTS:-set,get,incr,lpush,lpop,sadd,hset,zadd,mset}
EVAL=${EVAL:-yes} # also EVAL, EVALSHA and FCALL of a script (a function) that runs INCR
FAMILIES=${FAMILIES:-yes} # also XADD, SETBIT, PFADD and GEOADD

for tool in redis-server redis-benchmark python3; do
  command -v "$tool" >/dev/null || { echo "bench-redis: $tool not found (apt-get install redis-server redis-tools)" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

go build -o "$work/gateway" ./cmd/gateway
if [ -n "${BASELINE:-}" ]; then
  mkdir -p "$work/base-src"
  git archive "$BASELINE" | tar -x -C "$work/base-src"
  (cd "$work/base-src" && go build -o "$work/gateway-base" ./cmd/gateway)
fi

# redis-server: durable like the gateway.
rport=$(free_port)
mkdir -p "$work/redis"
redis-server --port "$rport" --bind 127.0.0.1 --dir "$work/redis" --save "" \
  --appendonly yes --appendfsync always --daemonize no --loglevel warning \
  >"$work/redis.log" 2>&1 &
pids+=($!)
# redis-server: in memory only.
mport=$(free_port)
redis-server --port "$mport" --bind 127.0.0.1 --dir "$work" --save "" --appendonly no \
  --daemonize no --loglevel warning >"$work/redis-mem.log" 2>&1 &
pids+=($!)

# start_gateways binary prefix: an embedded single node ($prefix.log) and a
# three-node ensemble ($prefix-e1.log ...) on free ports.
start_gateways() {
  local bin=$1 prefix=$2 p1 p2 p3 peers i
  "$bin" serve --data-dir "$work/$prefix-gw" --redis-addr 127.0.0.1:0 --zk-addr 127.0.0.1:0 --pg-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 \
    --log-format json 2>"$work/$prefix.log" &
  pids+=($!)
  p1=$(free_port); p2=$(free_port); p3=$(free_port)
  peers="n1=127.0.0.1:$p1,n2=127.0.0.1:$p2,n3=127.0.0.1:$p3"
  for i in 1 2 3; do
    "$bin" serve --node-id "n$i" --peers "$peers" --data-dir "$work/$prefix-e$i" \
      --redis-addr 127.0.0.1:0 --zk-addr 127.0.0.1:0 --pg-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --log-format json 2>"$work/$prefix-e$i.log" &
    pids+=($!)
  done
}
start_gateways "$work/gateway" new
[ -n "${BASELINE:-}" ] && start_gateways "$work/gateway-base" base

redis_port() { sed -n 's/.*"msg":"listening".*"api":"redis","addr":"127.0.0.1:\([0-9]*\)".*/\1/p' "$1" | head -1; }
# wait_gateways prefix: waits for the single node and the ensemble's first
# node, and sets ${prefix}_port and ${prefix}_eport.
wait_gateways() {
  local prefix=$1 g e
  for _ in $(seq 1 400); do
    g=$(redis_port "$work/$prefix.log")
    e=$(redis_port "$work/$prefix-e1.log")
    [ -n "$g" ] && [ -n "$e" ] && grep -q '"node ready"' "$work/$prefix-e1.log" && break
    sleep 0.05
  done
  [ -n "$g" ] || { echo "gateway did not start:" >&2; cat "$work/$prefix.log" >&2; exit 1; }
  [ -n "$e" ] || { echo "ensemble did not start:" >&2; cat "$work/$prefix-e1.log" >&2; exit 1; }
  printf -v "${prefix}_port" %s "$g"
  printf -v "${prefix}_eport" %s "$e"
}
for _ in $(seq 1 400); do
  redis-cli -p "$rport" ping >/dev/null 2>&1 && redis-cli -p "$mport" ping >/dev/null 2>&1 && break
  sleep 0.05
done
wait_gateways new
[ -n "${BASELINE:-}" ] && wait_gateways base

# custom runs one custom command line as redis-benchmark test "label"
# (a server without the command, an older BASELINE say, has no row).
custom() { # name port pipeline label command...
  local name=$1 port=$2 pipeline=$3 label=$4
  shift 4
  redis-benchmark -h 127.0.0.1 -p "$port" -n "$N" -c "$CLIENTS" -P "$pipeline" -r 100000 --csv "$@" 2>/dev/null \
    | tail -n +2 | tr -d '"' | while IFS=, read -r test rps avg min p50 p95 p99 max; do
        echo "$name,$pipeline,$label,$rps,$p50,$p99"
      done || true
}

run() { # name port pipeline
  redis-benchmark -h 127.0.0.1 -p "$2" -t "$TESTS" -n "$N" -c "$CLIENTS" -P "$3" -r 100000 -d 100 --csv 2>/dev/null \
    | tail -n +2 | tr -d '"' | while IFS=, read -r test rps avg min p50 p95 p99 max; do
        echo "$1,$3,$test,$rps,$p50,$p99"
      done
  if [ "$EVAL" = yes ]; then
    # redis-benchmark has no -t eval: a script that runs INCR on a random
    # key, as a custom command (no commas, for the CSV).
    custom "$1" "$2" "$3" "EVAL incr" EVAL "return redis.call(unpack(ARGV))" 0 incr counter:__rand_int__
    local sha
    sha=$(redis-cli -p "$2" SCRIPT LOAD "return redis.call(unpack(ARGV))" 2>/dev/null)
    custom "$1" "$2" "$3" "EVALSHA incr" EVALSHA "$sha" 0 incr counter:__rand_int__
    redis-cli -p "$2" FUNCTION LOAD REPLACE "$(printf '#!lua name=bench\nredis.register_function("incr", function(keys) return redis.call("incr", keys[1]) end)')" >/dev/null 2>&1
    custom "$1" "$2" "$3" "FCALL incr" FCALL incr 1 counter:__rand_int__
  fi
  if [ "$FAMILIES" = yes ]; then
    custom "$1" "$2" "$3" "XADD" XADD stream:__rand_int__ '*' field value
    custom "$1" "$2" "$3" "SETBIT" SETBIT flags:__rand_int__ 123 1 # (__rand_int__ is zero padded: no offset)
    custom "$1" "$2" "$3" "PFADD" PFADD hll element:__rand_int__
    custom "$1" "$2" "$3" "GEOADD" GEOADD geo 13.361389 38.115556 member:__rand_int__
  fi
}

# Each single node runs beside its "before" twin, and each ensemble beside
# its twin, with a pause before every run: an ensemble's followers are
# still catching up for a moment after a run, and whatever runs next must
# not pay for it.
settle() { sleep "${SETTLE:-2}"; }
results="$work/results.csv"
for pipeline in 1 16; do
  run redis "$rport" "$pipeline" >>"$results"
  run memory "$mport" "$pipeline" >>"$results"
  if [ -n "${BASELINE:-}" ]; then
    settle; run base "$base_port" "$pipeline" >>"$results"
  fi
  settle; run gateway "$new_port" "$pipeline" >>"$results"
  if [ -n "${BASELINE:-}" ]; then
    settle; run base-ensemble "$base_eport" "$pipeline" >>"$results"
  fi
  settle; run ensemble "$new_eport" "$pipeline" >>"$results"
done

echo "redis-benchmark -t $TESTS -n $N -c $CLIENTS -r 100000 -d 100, on $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "redis-server: $(redis-server --version | sed 's/ sha=.*//'); \"fsync\" is appendonly yes, appendfsync always; \"memory\" is no persistence"
[ -n "${BASELINE:-}" ] && echo "\"before\" is the gateway built from $BASELINE ($(git rev-parse --short "$BASELINE")), \"after\" this tree's."
echo "Ratios are to the fsync redis-server."
echo
python3 - "$results" "${BASELINE:-}" <<'PY'
import csv, sys
rows = {}
for name, pipe, test, rps, p50, p99 in csv.reader(open(sys.argv[1])):
    rows[(name, pipe, test)] = (float(rps), p50, p99)
names = ["redis", "memory", "gateway", "ensemble"]
labels = ["redis fsync", "redis memory", "1 node", "3 nodes"]
if sys.argv[2]:
    names = ["redis", "memory", "base", "gateway", "base-ensemble", "ensemble"]
    labels = ["redis fsync", "redis memory", "1 node before", "1 node after", "3 nodes before", "3 nodes after"]
keys = sorted({(p, t) for (_, p, t) in rows}, key=lambda k: (int(k[0]), k[1]))
print("| test | pipeline | " + labels[0] + " req/s | " + " | ".join(l + " req/s (ratio)" for l in labels[1:]) + " |")
print("|---|---|" + "---|" * len(labels))
for pipe, test in keys:
    got = [rows.get((n, pipe, test)) for n in names]
    if None in got:
        continue
    base = got[0][0]
    cells = [f"{got[0][0]:,.0f}"] + [f"{g[0]:,.0f} ({g[0]/base:.2f})" for g in got[1:]]
    print(f"| {test} | {pipe} | " + " | ".join(cells) + " |")
print()
print("| test | pipeline | " + " | ".join(l + " p50 / p99 ms" for l in labels) + " |")
print("|---|---|" + "---|" * len(labels))
for pipe, test in keys:
    got = [rows.get((n, pipe, test)) for n in names]
    if None in got:
        continue
    print(f"| {test} | {pipe} | " + " | ".join(f"{g[1]} / {g[2]}" for g in got) + " |")
PY
