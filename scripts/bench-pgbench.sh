# The pgbench workload of scripts/bench-pg.sh (WORKLOAD=pgbench), sourced
# by it once PostgreSQL and the gateways run: $work, $PGBIN and the
# servers map (pg, gw1, gw3: comma-separated host:port lists) come from
# there.

SCALE=${SCALE:-1}
MODES=${MODES:-simple extended prepared}
SCRIPTS=${SCRIPTS:-tpcb select-only simple-update}
PGB_DURATION=${DURATION%s}
PGB_CLIENTS=${CLIENTS:-8}

script_flag() {
  case "$1" in
    tpcb) echo "-b tpcb-like" ;;
    select-only) echo "-b select-only" ;;
    simple-update) echo "-b simple-update" ;;
    *) echo "bench-pg: unknown script $1" >&2; exit 1 ;;
  esac
}

# pgbench_on runs pgbench against one host:port.
pgbench_on() {
  local addr=$1; shift
  pgbench -h "${addr%:*}" -p "${addr##*:}" -U postgres "$@" postgres
}

pgb_results=$work/pgbench.csv
: >"$pgb_results"
for t in pg gw1 gw3; do
  first=${servers[$t]%%,*}
  echo "bench-pg: pgbench -i -I dtGvp -s $SCALE on $t" >&2
  pgbench_on "$first" -i -I dtGvp -s "$SCALE" -q >"$work/init-$t.log" 2>&1 || { cat "$work/init-$t.log" >&2; exit 1; }
done

for c in $PGB_CLIENTS; do
  for script in $SCRIPTS; do
    for mode in $MODES; do
      for t in pg gw1 gw3; do
        IFS=, read -r -a addrs <<<"${servers[$t]}"
        n=${#addrs[@]}
        dir=$work/run-$t-$script-$mode-$c
        mkdir -p "$dir"
        echo "bench-pg: pgbench $script -M $mode, $c clients, ${PGB_DURATION}s on $t" >&2
        pids_run=()
        for i in "${!addrs[@]}"; do
          share=$(( c / n + (i < c % n ? 1 : 0) ))
          [ "$share" -gt 0 ] || continue
          # shellcheck disable=SC2046
          (cd "$dir" && pgbench_on "${addrs[$i]}" $(script_flag "$script") -M "$mode" -c "$share" -j 1 \
            -T "$PGB_DURATION" -n --max-tries=10 --log --log-prefix="node$i" >"out$i.txt" 2>&1) &
          pids_run+=($!)
        done
        for p in "${pids_run[@]}"; do wait "$p" || true; done
        echo "$t,$script,$mode,$c,$dir" >>"$pgb_results"
      done
    done
  done
done

echo "pgbench (Debian's, unmodified), scale $SCALE, ${PGB_DURATION}s per run, --max-tries=10, on $(nproc) cores, $(date -u +%Y-%m-%d)"
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') with fsync=on, synchronous_commit=on. On the 3-node ensemble one pgbench per node runs at once, the clients split over them. Ratios are to PostgreSQL."
echo
python3 - "$pgb_results" <<'PY'
import glob, os, re, sys
runs = {}
for line in open(sys.argv[1]):
    t, script, mode, c, d = line.strip().split(",")
    tps, done, retried, failed, lat = 0.0, 0, 0, 0, []
    ok = True
    for out in sorted(glob.glob(os.path.join(d, "out*.txt"))):
        text = open(out).read()
        m = re.search(r"^tps = ([0-9.]+)", text, re.M)
        if not m:
            ok = False
            continue
        tps += float(m.group(1))
        done += int(re.search(r"actually processed: (\d+)", text).group(1))
        m = re.search(r"^number of transactions retried: (\d+)", text, re.M)
        retried += int(m.group(1)) if m else 0
        m = re.search(r"^number of failed transactions: (\d+)", text, re.M)
        failed += int(m.group(1)) if m else 0
    for log in glob.glob(os.path.join(d, "node*")):
        for l in open(log):
            f = l.split()
            if len(f) > 2 and f[2].isdigit():
                lat.append(int(f[2]) / 1000.0)
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
    runs[(t, script, mode, c)] = (ok, tps, pct(0.5), pct(0.99), retried, failed, done)
keys = sorted({k[1:] for k in runs}, key=lambda k: (k[0], ["simple", "extended", "prepared"].index(k[1]) if k[1] in ("simple", "extended", "prepared") else 9, int(k[2])))
print("| script | mode | clients | PostgreSQL 15 TPS | gateway 1 node TPS (ratio) | gateway 3 nodes TPS (ratio) |")
print("|---|---|---|---|---|---|")
for k in keys:
    base = runs.get(("pg",) + k)
    cells = []
    for t in ("pg", "gw1", "gw3"):
        r = runs.get((t,) + k)
        if not r or not r[0]:
            cells.append("failed")
        elif t == "pg" or not base or base[1] == 0:
            cells.append(f"{r[1]:,.0f}")
        else:
            cells.append(f"{r[1]:,.0f} ({r[1] / base[1]:.2f})")
    print(f"| {k[0]} | {k[1]} | {k[2]} | " + " | ".join(cells) + " |")
print()
print("| script | mode | clients | PostgreSQL 15 p50 / p99 ms, retried | gateway 1 node | gateway 3 nodes |")
print("|---|---|---|---|---|---|")
for k in keys:
    cells = []
    for t in ("pg", "gw1", "gw3"):
        r = runs.get((t,) + k)
        if not r or not r[0]:
            cells.append("failed")
            continue
        share = 100.0 * r[4] / r[6] if r[6] else 0
        fail = f", {r[5]} failed" if r[5] else ""
        cells.append(f"{r[2]:.2f} / {r[3]:.2f}, {share:.1f}%{fail}")
    print(f"| {k[0]} | {k[1]} | {k[2]} | " + " | ".join(cells) + " |")
PY
