# The large-COPY workload of scripts/bench-pg.sh (WORKLOAD=copy), sourced
# by it once PostgreSQL and the gateways run: $work, $pids (the gateways'
# process ids: one node, then the ensemble's three) and the servers map
# come from there. It loads ROWS rows (default 10 million, about 800 MB of
# text) with psql's \copy, as one transaction, into a table with a
# primary key and a secondary index, on each server in turn (the
# ensemble through its first node), and prints the time, the rate and
# each gateway process's peak resident memory while its COPY ran.
#
#   WORKLOAD=copy scripts/bench-pg.sh
#   WORKLOAD=copy ROWS=2000000 scripts/bench-pg.sh

ROWS=${ROWS:-10000000}
rows_file=$work/rows.tsv
echo "bench-pg: writing $ROWS rows" >&2
python3 -c "
import sys
w = sys.stdout.write
for i in range($ROWS):
    w(f'{i}\t{(i*7919)%1000003}\tpadding-{i:08d}-abcdefghijklmnopqrstuvwxyz0123456789abcdefghij\n')
" >"$rows_file"

# peak_rss prints the largest VmRSS (KiB) of the processes $@ until
# the file $stop_file exists, sampling every 200 ms.
peak_rss() {
  local peak=0 p r
  while [ ! -e "$stop_file" ]; do
    for p in "$@"; do
      r=$(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
      [ "${r:-0}" -gt "$peak" ] && peak=$r
    done
    sleep 0.2
  done
  echo "$peak"
}

declare -A copy_secs copy_rss
for t in pg gw1 gw3; do
  addr=${servers[$t]%%,*}
  psql_on=(psql -X -q -h "${addr%:*}" -p "${addr##*:}" -U postgres -d postgres)
  "${psql_on[@]}" -c "CREATE TABLE big (id int PRIMARY KEY, k int, pad text); CREATE INDEX big_k ON big (k)"
  case $t in
    gw1) watch=("${pids[1]}") ;;
    gw3) watch=("${pids[2]}" "${pids[3]}" "${pids[4]}") ;;
    *) watch=() ;;
  esac
  stop_file=$work/stop-$t
  if [ "${#watch[@]}" -gt 0 ]; then
    peak_rss "${watch[@]}" >"$work/rss-$t" &
    sampler=$!
  fi
  echo "bench-pg: COPY of $ROWS rows on $t" >&2
  start=$(date +%s.%N)
  "${psql_on[@]}" -c "\\copy big from '$rows_file'" >"$work/copy-$t.log" 2>&1 || { cat "$work/copy-$t.log" >&2; exit 1; }
  end=$(date +%s.%N)
  touch "$stop_file"
  if [ "${#watch[@]}" -gt 0 ]; then wait "$sampler"; copy_rss[$t]=$(( $(cat "$work/rss-$t") / 1024 )); else copy_rss[$t]=-; fi
  copy_secs[$t]=$(python3 -c "print(f'{$end - $start:.1f}')")
  got=$("${psql_on[@]}" -Atc "SELECT count(*) FROM big WHERE id = $((ROWS - 1))")
  [ "$got" = 1 ] || { echo "bench-pg: $t lacks the COPY's last row" >&2; exit 1; }
done

echo "psql \\copy of $ROWS rows (id int primary key, k int indexed, 80-byte pad; $(du -m "$rows_file" | cut -f1) MB of text) as one transaction, on $(nproc) cores, $(date +%F)"
echo "$($PGBIN/postgres --version) with fsync=on, synchronous_commit=on. The 3-node ensemble takes the COPY on its first node. Peak RSS is each gateway process's largest resident set while its COPY ran (the ensemble's largest of its three)."
echo
echo "| server | seconds | rows/s | ratio to PostgreSQL | peak RSS MiB |"
echo "|---|---|---|---|---|"
for t in pg gw1 gw3; do
  name=$t; [ $t = pg ] && name="PostgreSQL 15"; [ $t = gw1 ] && name="gateway, 1 node"; [ $t = gw3 ] && name="gateway, 3 nodes"
  python3 -c "
s = $(echo ${copy_secs[$t]}); pg = ${copy_secs[pg]}
print(f'| $name | {s:.1f} | {$ROWS/s:,.0f} | {pg/s:.2f} | ${copy_rss[$t]} |')"
done
