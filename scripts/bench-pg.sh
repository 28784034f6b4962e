#!/usr/bin/env bash
# Runs pgload (conformance/pgload, a pgx client) against a single gateway
# node, a three-node gateway ensemble (connections spread over the three
# nodes) and Debian's PostgreSQL 15 with synchronous_commit on (every
# commit fsynced before the reply, the durability the gateway gives), on
# this machine, in one run, and prints Markdown tables of throughput with
# ratios to PostgreSQL, and of latencies.
#
#   scripts/bench-pg.sh                       # defaults: 10s phases, 1 and 16 clients
#   DURATION=5s CLIENTS="1 16 32" PHASES=insert,select scripts/bench-pg.sh
#
# WORKLOAD=pgbench runs Debian's pgbench instead (tables made by
# pgbench -i -I dtGvp at SCALE, then each script in each query mode with
# --max-tries=10, DURATION seconds each); on the ensemble one pgbench per
# node runs at once, the clients split over them. It prints TPS with
# ratios to PostgreSQL, p50/p99 latency (from pgbench --log) and the
# share of transactions retried.
#
#   WORKLOAD=pgbench DURATION=5 CLIENTS=8 MODES=prepared SCRIPTS=tpcb scripts/bench-pg.sh
#   WORKLOAD=pgbench SCRIPTS="select-only simple-update" scripts/bench-pg.sh
#
# WORKLOAD=copy loads ROWS rows (10 million by default) with psql's \copy
# as one transaction on each server and prints the time and the
# gateways' peak memory (scripts/bench-copy.sh).
#
#   WORKLOAD=copy ROWS=1000000 scripts/bench-pg.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
CLIENTS=${CLIENTS:-1 16}
PHASES=${PHASES:-insert,select,update}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

for tool in "$PGBIN/initdb" "$PGBIN/postgres" python3; do
  [ -x "$tool" ] || command -v "$tool" >/dev/null || { echo "bench-pg: $tool not found (apt-get install postgresql-15)" >&2; exit 1; }
done

work=$(mktemp -d)
chmod 755 "$work"
pids=()
load_pid=""
cleanup() {
  if [ -n "$load_pid" ]; then kill "$load_pid" 2>/dev/null || true; fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# as_postgres runs a server binary as the postgres user when run as root
# (initdb and postgres refuse root).
as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

echo "bench-pg: building" >&2
go build -o "$work/pgload" ./conformance/pgload
go build -o "$work/gateway" ./cmd/gateway

# PostgreSQL 15, fsync and synchronous_commit on (the defaults, said aloud).
pg_port=$(free_port)
mkdir -p "$work/pg"
[ "$(id -u)" = 0 ] && chown postgres "$work/pg"
as_postgres "$PGBIN/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 --locale C.UTF-8 >"$work/pg/initdb.log" 2>&1
as_postgres "$PGBIN/postgres" -D "$work/pg/data" -p "$pg_port" -c listen_addresses=127.0.0.1 \
  -c unix_socket_directories="$work/pg" -c fsync=on -c synchronous_commit=on -c max_connections=200 \
  >"$work/pg/server.log" 2>&1 &
pids+=($!)

# The gateway: one node, and a three-node ensemble.
"$work/gateway" serve --data-dir "$work/gw1" --redis-addr 127.0.0.1:0 --zk-addr 127.0.0.1:0 --pg-addr 127.0.0.1:0 \
  --admin-addr 127.0.0.1:0 --log-format json 2>"$work/gw1.log" &
pids+=($!)
p1=$(free_port); p2=$(free_port); p3=$(free_port)
peers="n1=127.0.0.1:$p1,n2=127.0.0.1:$p2,n3=127.0.0.1:$p3"
for i in 1 2 3; do
  "$work/gateway" serve --node-id "n$i" --peers "$peers" --data-dir "$work/gw3-e$i" \
    --redis-addr 127.0.0.1:0 --zk-addr 127.0.0.1:0 --pg-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 \
    --log-format json 2>"$work/gw3-$i.log" &
  pids+=($!)
done

pg_port_of() {
  grep -q '"node ready"' "$1" 2>/dev/null || return 0
  sed -n 's/.*"msg":"listening".*"api":"postgres","addr":"127.0.0.1:\([0-9]*\)".*/\1/p' "$1" | head -1
}
declare -A servers
for _ in $(seq 1 600); do
  [ -z "${servers[pg]:-}" ] && grep -q "ready to accept connections" "$work/pg/server.log" && servers[pg]=127.0.0.1:$pg_port
  [ -z "${servers[gw1]:-}" ] && [ -n "$(pg_port_of "$work/gw1.log")" ] && servers[gw1]=127.0.0.1:$(pg_port_of "$work/gw1.log")
  if [ -z "${servers[gw3]:-}" ]; then
    ports=()
    for i in 1 2 3; do port=$(pg_port_of "$work/gw3-$i.log"); [ -n "$port" ] && ports+=("127.0.0.1:$port"); done
    [ "${#ports[@]}" = 3 ] && servers[gw3]=$(IFS=,; echo "${ports[*]}")
  fi
  [ -n "${servers[pg]:-}" ] && [ -n "${servers[gw1]:-}" ] && [ -n "${servers[gw3]:-}" ] && break
  sleep 0.1
done
for t in pg gw1 gw3; do
  if [ -z "${servers[$t]:-}" ]; then
    echo "bench-pg: $t did not start" >&2
    tail -n 30 "$work/pg/server.log" "$work"/gw*.log >&2
    exit 1
  fi
done

if [ "${WORKLOAD:-pgload}" = pgbench ]; then
  source scripts/bench-pgbench.sh
  exit 0
fi
if [ "${WORKLOAD:-pgload}" = copy ]; then
  source scripts/bench-copy.sh
  exit 0
fi

results=$work/results.csv
: >"$results"
run() {
  local ok=1
  echo "bench-pg: $1, $3 clients ($2)" >&2
  "$work/pgload" -servers "$2" -clients "$3" -duration "$DURATION" -phases "$PHASES" >"$work/$1-$3.csv" 2>"$work/$1-$3.err" &
  load_pid=$!
  wait "$load_pid" || ok=0
  load_pid=""
  if [ "$ok" = 1 ]; then
    tail -n +2 "$work/$1-$3.csv" | sed "s/^/$1,/" >>"$results"
  else
    echo "bench-pg: pgload failed against $1:" >&2; cat "$work/$1-$3.err" >&2
    echo "$1,failed" >>"$results"
  fi
  cat "$work/$1-$3.err" >&2
}
for c in $CLIENTS; do
  for t in pg gw1 gw3; do run "$t" "${servers[$t]}" "$c"; done
done

echo "pgload (pgx, extended protocol, one statement outstanding per connection, 100-byte pad), $DURATION per phase, on $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') with fsync=on, synchronous_commit=on. The 3-node load spreads connections over the three nodes. Ratios are to PostgreSQL."
echo "All data directories on $(df -T "$work" | awk 'NR == 2 {print $2}')."
echo
python3 - "$results" "$PHASES" "$CLIENTS" <<'PY'
import sys
rows, failed = {}, set()
for line in open(sys.argv[1]):
    f = line.strip().split(",")
    if len(f) == 2:
        failed.add(f[0])
        continue
    target, phase, clients, ops, rate, p50, p99, errors = f
    rows[(target, phase, clients)] = (float(rate), float(p50), float(p99), int(errors))
phases = sys.argv[2].split(",")
clients = sys.argv[3].split()
def cell(t, p, c, fmt):
    g = rows.get((t, p, c))
    return fmt(g) if g else ("failed" if t in failed else "missing")
print("| workload | clients | PostgreSQL 15 ops/s | gateway 1 node ops/s (ratio) | gateway 3 nodes ops/s (ratio) |")
print("|---|---|---|---|---|")
for p in phases:
    for c in clients:
        base = rows.get(("pg", p, c))
        def thr(g, base=base):
            r = f" ({g[0] / base[0]:.2f})" if base and base[0] > 0 else ""
            return f"{g[0]:,.0f}{r}"
        print(f"| {p} | {c} | " + " | ".join([cell("pg", p, c, lambda g: f"{g[0]:,.0f}"), cell("gw1", p, c, thr), cell("gw3", p, c, thr)]) + " |")
print()
print("| workload | clients | PostgreSQL 15 p50 / p99 ms | gateway 1 node | gateway 3 nodes |")
print("|---|---|---|---|---|")
for p in phases:
    for c in clients:
        print(f"| {p} | {c} | " + " | ".join(cell(t, p, c, lambda g: f"{g[1]:.2f} / {g[2]:.2f}") for t in ("pg", "gw1", "gw3")) + " |")
errs = [f"{t} {p} x{c}: {v[3]}" for (t, p, c), v in rows.items() if v[3] > 0]
if errs:
    print()
    print("Failed statements (not counted in ops/s): " + "; ".join(errs))
PY
