#!/usr/bin/env bash
# Runs the zkload load generator (conformance/zkload) against Debian's Apache
# ZooKeeper, standalone and as a three-server ensemble, and against the
# gateway's ZooKeeper API, as a single node and as a three-node ensemble, all
# on this machine on free 127.0.0.1 ports, in one run, and prints Markdown
# tables of throughput, with ratios to standalone ZooKeeper, and of
# latencies. The ensembles' loads spread the sessions over their three
# servers. ZooKeeper keeps its default forceSync=yes: every write is fsynced
# to its transaction log before the reply, the durability the gateway gives.
#
# A gateway target whose ZooKeeper port never appears (the API is not served
# by this build, or the gateway does not build) is skipped: its cells say
# "not available".
#
# With BASELINE set to a git revision, that revision's gateway is built too
# and run beside this tree's (a single node and a three-node ensemble of
# each), in the same run, for a before/after comparison.
#
#   scripts/bench-zk.sh                       # 16 sessions, 10s per phase
#   BASELINE=HEAD~3 scripts/bench-zk.sh
#   SESSIONS=8 DURATION=3s scripts/bench-zk.sh
#   OPS=create,getData SIZE=1000 scripts/bench-zk.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SESSIONS=${SESSIONS:-16}
DURATION=${DURATION:-10s}
OPS=${OPS:-create,setData,getData,exists}
SIZE=${SIZE:-100}
ZK_HEAP=${ZK_HEAP:-512m}
ZK_JAR=/usr/share/java/zookeeper.jar # its manifest's Class-Path names the dependencies
SLF4J_JAR=/usr/share/java/slf4j-simple.jar # optional: server logs to stderr

for tool in java python3 go; do
  command -v "$tool" >/dev/null || { echo "bench-zk: $tool not found" >&2; exit 1; }
done
[ -f "$ZK_JAR" ] || { echo "bench-zk: $ZK_JAR not found (apt-get install zookeeper)" >&2; exit 1; }
classpath=$ZK_JAR
[ -f "$SLF4J_JAR" ] && classpath="$classpath:$SLF4J_JAR"

work=$(mktemp -d)
pids=()    # servers, killed on exit
load_pid="" # the zkload running now, if any
cleanup() {
  local p alive
  if [ -n "$load_pid" ]; then kill "$load_pid" 2>/dev/null || true; fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # The JVMs run shutdown hooks on SIGTERM; give them 5s, then SIGKILL.
  for _ in $(seq 1 100); do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.05
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# four port word: sends a ZooKeeper four-letter word, prints the reply.
four() {
  python3 - "$1" "$2" <<'PY'
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1)
    s.sendall(sys.argv[2].encode())
    s.shutdown(socket.SHUT_WR)
    reply = b""
    while chunk := s.recv(4096):
        reply += chunk
    sys.stdout.write(reply.decode(errors="replace"))
except OSError:
    pass
PY
}
zk_mode() { four "$1" srvr | sed -n 's/^Mode: //p'; }

echo "bench-zk: building" >&2
go build -o "$work/zkload" ./conformance/zkload
gateway_built=1
if ! go build -o "$work/gateway" ./cmd/gateway 2>"$work/gateway-build.log"; then
  gateway_built=0
  echo "bench-zk: the gateway does not build; its targets are skipped:" >&2
  cat "$work/gateway-build.log" >&2
fi
gw_prefixes="gw"
if [ -n "${BASELINE:-}" ]; then
  mkdir -p "$work/base-src"
  git archive "$BASELINE" | tar -x -C "$work/base-src"
  (cd "$work/base-src" && go build -o "$work/gateway-base" ./cmd/gateway)
  gw_prefixes="gb gw"
fi

# zk_start name clientPort [server.N lines...]: starts one ZooKeeper server in
# $work/name; with server lines it is ensemble member number ${name##*-}.
zk_start() {
  local name=$1 port=$2 dir=$work/$1
  shift 2
  mkdir -p "$dir/data"
  {
    echo "tickTime=2000"
    echo "initLimit=10"
    echo "syncLimit=5"
    echo "dataDir=$dir/data"
    echo "clientPort=$port"
    echo "clientPortAddress=127.0.0.1"
    echo "maxClientCnxns=0"
    echo "forceSync=yes"
    echo "4lw.commands.whitelist=*"
    echo "admin.enableServer=false"
    for line in "$@"; do echo "$line"; done
  } >"$dir/zoo.cfg"
  if [ $# -gt 0 ]; then echo "${name##*-}" >"$dir/data/myid"; fi
  java -Xms64m "-Xmx$ZK_HEAP" -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
    -cp "$classpath" org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" \
    >"$dir/server.log" 2>&1 </dev/null &
  pids+=($!)
}

# Apache ZooKeeper standalone.
zk1_port=$(free_port)
zk_start zk1 "$zk1_port"

# Apache ZooKeeper, three servers.
zk3_ports=()
servers=()
for i in 1 2 3; do
  zk3_ports+=("$(free_port)")
  servers+=("server.$i=127.0.0.1:$(free_port):$(free_port)")
done
for i in 1 2 3; do
  zk_start "zk3-$i" "${zk3_ports[$((i - 1))]}" "${servers[@]}"
done

# start_gateways binary prefix: a single node (${prefix}1) and a
# three-node ensemble (${prefix}3), on free ports.
declare -A gw_pid
start_gateways() {
  local bin=$1 prefix=$2 p1 p2 p3 peers i
  "$bin" serve --data-dir "$work/${prefix}1" --redis-addr 127.0.0.1:0 --zk-addr 127.0.0.1:0 --pg-addr 127.0.0.1:0 \
    --admin-addr 127.0.0.1:0 --log-format json 2>"$work/${prefix}1.log" &
  gw_pid[${prefix}1]=$!
  pids+=($!)
  p1=$(free_port); p2=$(free_port); p3=$(free_port)
  peers="n1=127.0.0.1:$p1,n2=127.0.0.1:$p2,n3=127.0.0.1:$p3"
  for i in 1 2 3; do
    "$bin" serve --node-id "n$i" --peers "$peers" --data-dir "$work/${prefix}3-e$i" \
      --redis-addr 127.0.0.1:0 --zk-addr 127.0.0.1:0 --pg-addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 \
      --log-format json 2>"$work/${prefix}3-$i.log" &
    gw_pid[${prefix}3-$i]=$!
    pids+=($!)
  done
}
if [ "$gateway_built" = 1 ]; then
  start_gateways "$work/gateway" gw
  [ -n "${BASELINE:-}" ] && start_gateways "$work/gateway-base" gb
fi

zk_port_of() { sed -n 's/.*"msg":"listening".*"api":"zookeeper","addr":"127.0.0.1:\([0-9]*\)".*/\1/p' "$1" | head -1; }

# gateway_state pid log: prints "ready PORT", "no" (it will never serve
# ZooKeeper: it exited, or is ready without a ZooKeeper listener) or "wait".
gateway_state() {
  local port
  port=$(zk_port_of "$2")
  if [ -n "$port" ] && grep -q '"node ready"' "$2"; then echo "ready $port"; return; fi
  if ! kill -0 "$1" 2>/dev/null; then echo no; return; fi
  if grep -q '"node ready"' "$2"; then echo no; return; fi
  echo wait
}

# Wait for every target: ZooKeeper must come up; the gateway may not.
# ready[target] becomes the target's servers (host:port,...) or "no".
declare -A ready
targets_gw=()
for prefix in $gw_prefixes; do targets_gw+=("${prefix}1" "${prefix}3"); done
if [ "$gateway_built" = 0 ]; then for t in "${targets_gw[@]}"; do ready[$t]=no; done; fi
zk1_ready=0 zk3_ready=0
for _ in $(seq 1 600); do
  if [ "$zk1_ready" = 0 ] && [ "$(zk_mode "$zk1_port")" = standalone ]; then zk1_ready=1; fi
  if [ "$zk3_ready" = 0 ]; then
    modes=$(for p in "${zk3_ports[@]}"; do zk_mode "$p"; done | sort | tr '\n' ' ')
    [ "$modes" = "follower follower leader " ] && zk3_ready=1
  fi
  all=1
  for t in "${targets_gw[@]}"; do
    [ -n "${ready[$t]:-}" ] && continue
    if [ "${t: -1}" = 1 ]; then
      s=$(gateway_state "${gw_pid[$t]}" "$work/$t.log")
      case $s in ready*) ready[$t]=127.0.0.1:${s#ready } ;; no) ready[$t]=no ;; *) all=0 ;; esac
      continue
    fi
    ports=() verdict=ready
    for i in 1 2 3; do
      s=$(gateway_state "${gw_pid[$t-$i]}" "$work/$t-$i.log")
      case $s in
        ready*) ports+=("${s#ready }") ;;
        no) verdict=no ;;
        *) [ "$verdict" = no ] || verdict=wait ;;
      esac
    done
    case $verdict in
      ready) ready[$t]=$(IFS=,; echo "${ports[*]/#/127.0.0.1:}") ;;
      no) ready[$t]=no ;;
      *) all=0 ;;
    esac
  done
  [ "$zk1_ready" = 1 ] && [ "$zk3_ready" = 1 ] && [ "$all" = 1 ] && break
  sleep 0.1
done
if [ "$zk1_ready" = 0 ]; then
  echo "bench-zk: standalone ZooKeeper did not start:" >&2; tail -n 40 "$work/zk1/server.log" >&2; exit 1
fi
if [ "$zk3_ready" = 0 ]; then
  echo "bench-zk: the ZooKeeper ensemble did not elect a leader:" >&2
  for i in 1 2 3; do tail -n 20 "$work/zk3-$i/server.log" >&2; done
  exit 1
fi
for t in "${targets_gw[@]}"; do
  if [ -z "${ready[$t]:-}" ] || [ "${ready[$t]}" = no ]; then
    ready[$t]=no
    echo "bench-zk: $t: the gateway serves no ZooKeeper API; skipped" >&2
  fi
done

zk_version=$(four "$zk1_port" srvr | sed -n 's/^Zookeeper version: \([0-9.]*\).*/\1/p')
if deb=$(dpkg-query -W -f '${Version}' zookeeper 2>/dev/null); then zk_version="$zk_version (Debian $deb)"; fi

# run target servers: runs zkload, appends "target,phase,..." lines to the
# results, or "target,failed" when zkload fails. zkload runs in the
# background so that a signal interrupts the wait and the traps run at once.
results=$work/results.csv
run() {
  local ok=1
  echo "bench-zk: $1 ($2)" >&2
  "$work/zkload" -servers "$2" -sessions "$SESSIONS" -duration "$DURATION" -ops-list "$OPS" \
    -size "$SIZE" >"$work/$1.csv" 2>"$work/$1.err" &
  load_pid=$!
  wait "$load_pid" || ok=0
  load_pid=""
  if [ "$ok" = 1 ]; then
    tail -n +2 "$work/$1.csv" | sed "s/^/$1,/" >>"$results"
  else
    echo "bench-zk: zkload failed against $1:" >&2; cat "$work/$1.err" >&2
    echo "$1,failed" >>"$results"
  fi
}
: >"$results"
run zk1 "127.0.0.1:$zk1_port"
run zk3 "$(IFS=,; echo "${zk3_ports[*]/#/127.0.0.1:}")"
for t in "${targets_gw[@]}"; do
  if [ "${ready[$t]}" = no ]; then echo "$t,unavailable" >>"$results"; else run "$t" "${ready[$t]}"; fi
done

echo "zkload -sessions $SESSIONS -duration $DURATION -size $SIZE, closed loop (one outstanding request per session), on $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "Apache ZooKeeper $zk_version, $(java -version 2>&1 | head -1), -Xmx$ZK_HEAP, forceSync=yes (every write fsynced before the reply, like the gateway)."
echo "All data directories on $(df -T "$work" | awk 'NR == 2 {print $2}') ($work)."
echo "The 3-server and 3-node loads spread the sessions over the three servers. Ratios are to ZooKeeper standalone."
[ -n "${BASELINE:-}" ] && echo "\"before\" is the gateway built from $BASELINE ($(git rev-parse --short "$BASELINE")), \"after\" this tree's."
echo
python3 - "$results" "$OPS" "${BASELINE:-}" <<'PY'
import sys
rows, state = {}, {}
for line in open(sys.argv[1]):
    f = line.strip().split(",")
    if len(f) == 2:
        state[f[0]] = "not available" if f[1] == "unavailable" else "failed"
    else:
        target, phase, ops, rate, p50, p99, errors = f
        rows[(target, phase)] = (float(rate), float(p50), float(p99), int(errors))
targets = ["zk1", "zk3", "gw1", "gw3"]
names = ["ZK standalone", "ZK 3 servers", "gateway 1 node", "gateway 3 nodes"]
if sys.argv[3]:
    targets = ["zk1", "zk3", "gb1", "gw1", "gb3", "gw3"]
    names = ["ZK standalone", "ZK 3 servers", "1 node before", "1 node after", "3 nodes before", "3 nodes after"]
phases = [p.strip() for p in sys.argv[2].split(",") if p.strip()]

def cell(target, phase, fmt):
    if target in state:
        return state[target]
    got = rows.get((target, phase))
    return fmt(got) if got else "missing"

print("| op | " + " | ".join(f"{n} ops/s" + ("" if i == 0 else " (ratio)") for i, n in enumerate(names)) + " |")
print("|---" * (len(names) + 1) + "|")
for phase in phases:
    base = rows.get(("zk1", phase))
    def thr(g, base=base):
        ratio = f" ({g[0] / base[0]:.2f})" if base and base[0] > 0 else ""
        return f"{g[0]:,.0f}{ratio}"
    cells = [cell("zk1", phase, lambda g: f"{g[0]:,.0f}")] + [cell(t, phase, thr) for t in targets[1:]]
    print(f"| {phase} | " + " | ".join(cells) + " |")
print()
print("| op | " + " | ".join(f"{n} p50 / p99 ms" for n in names) + " |")
print("|---" * (len(names) + 1) + "|")
for phase in phases:
    cells = [cell(t, phase, lambda g: f"{g[1]:.2f} / {g[2]:.2f}") for t in targets]
    print(f"| {phase} | " + " | ".join(cells) + " |")
errs = [f"{n} {p}: {rows[(t, p)][3]}" for t, n in zip(targets, names) for p in phases
        if (t, p) in rows and rows[(t, p)][3] > 0]
if errs:
    print()
    print("Failed requests (not counted in ops/s): " + "; ".join(errs))
PY
