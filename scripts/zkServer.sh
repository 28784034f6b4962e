#!/usr/bin/env bash
# zkServer.sh for the gateway: Apache ZooKeeper's bin/zkServer.sh
# commands and environment, running `gateway serve --zoo-cfg` where that
# script runs ZooKeeper's Java server. Scripts and test harnesses written
# for zkServer.sh (go-zookeeper's test cluster runs
# "$ZOOKEEPER_BIN_PATH/zkServer.sh start-foreground <zoo.cfg>") start a
# gateway, or a gateway ensemble from zoo.cfg files with server.N lines,
# unchanged.
#
#   zkServer.sh [--config <conf-dir>] {start|start-foreground|stop|restart|status|print-cmd} [<zoo.cfg>]
#
# The config file is $ZOOCFGDIR/$ZOOCFG (ZOOCFGDIR defaults to ../conf
# beside this script, ZOOCFG to zoo.cfg); a file argument names it
# instead, a bare name inside ZOOCFGDIR, as zkServer.sh reads it.
# start runs the node in the background, its pid in
# $ZOOPIDFILE (default: dataDir/zookeeper_server.pid) and its output in
# $ZOO_LOG_DIR (default: dataDir)/zookeeper-$USER-server-$HOSTNAME.out;
# stop sends it SIGTERM and waits for it to go; status asks the client
# port's srvr for the node's mode. start-foreground execs the node.
#
# The gateway is $GATEWAY, else a `gateway` beside this script, else the
# one on PATH. $GATEWAY_OPTS are more serve flags (say the Redis and
# Postgres addresses, when several nodes share a host); a ZooKeeper super
# digest in $SERVER_JVMFLAGS
# (-Dzookeeper.DigestAuthenticationProvider.superDigest=super:...) is
# passed on as --zk-super-digest.
set -uo pipefail

ZOOBINDIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ "${1:-}" = "--config" ]; then
	ZOOCFGDIR="$2"
	shift 2
fi
ZOOCFGDIR="${ZOOCFGDIR:-$ZOOBINDIR/../conf}"
ZOOCFG="${ZOOCFG:-zoo.cfg}"
ZOOCFG="$ZOOCFGDIR/$ZOOCFG"
if [ -n "${2:-}" ]; then
	# A bare name is in ZOOCFGDIR; a path is taken as it is.
	if [ "$(dirname "$2")" = "." ] && [ "${2#./}" = "$2" ]; then
		ZOOCFG="$ZOOCFGDIR/$2"
	else
		ZOOCFG="$2"
	fi
fi

if [ -n "${GATEWAY:-}" ]; then
	:
elif [ -x "$ZOOBINDIR/gateway" ]; then
	GATEWAY="$ZOOBINDIR/gateway"
else
	GATEWAY=gateway
fi

# cfg KEY prints KEY's value in the config file (the last line wins).
cfg() {
	sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$ZOOCFG" | tail -n 1 | sed 's/[[:space:]]*$//'
}

serve_args() {
	args=(serve --zoo-cfg "$ZOOCFG")
	local jvm="${SERVER_JVMFLAGS:-}" digest
	digest=$(printf '%s\n' $jvm | sed -n 's/^-Dzookeeper\.DigestAuthenticationProvider\.superDigest=//p' | tail -n 1)
	if [ -n "$digest" ]; then
		args+=(--zk-super-digest "$digest")
	fi
	# GATEWAY_OPTS is split on spaces, as JVMFLAGS are.
	# shellcheck disable=SC2206
	args+=(${GATEWAY_OPTS:-})
}

cmd="${1:-}"
case "$cmd" in
start | start-foreground | stop | restart | status | print-cmd) ;;
*)
	echo "Usage: $0 [--config <conf-dir>] {start|start-foreground|stop|restart|status|print-cmd} [<zoo.cfg>]" >&2
	exit 1
	;;
esac

if [ ! -f "$ZOOCFG" ]; then
	echo "Config file $ZOOCFG does not exist" >&2
	exit 1
fi
echo "Using config: $ZOOCFG" >&2

dataDir=$(cfg dataDir)
ZOOPIDFILE="${ZOOPIDFILE:-${dataDir:-.}/zookeeper_server.pid}"
ZOO_LOG_DIR="${ZOO_LOG_DIR:-${dataDir:-.}}"
out="$ZOO_LOG_DIR/zookeeper-${USER:-$(id -un)}-server-$(hostname).out"
serve_args

running() {
	[ -f "$ZOOPIDFILE" ] && kill -0 "$(cat "$ZOOPIDFILE")" 2>/dev/null
}

start() {
	echo -n "Starting zookeeper ... "
	if running; then
		echo "already running as process $(cat "$ZOOPIDFILE")."
		return 1
	fi
	mkdir -p "$(dirname "$ZOOPIDFILE")" "$ZOO_LOG_DIR"
	nohup "$GATEWAY" "${args[@]}" >"$out" 2>&1 </dev/null &
	echo -n $! >"$ZOOPIDFILE"
	# As zkServer.sh: the process is still there a second later.
	sleep 1
	if running; then
		echo STARTED
	else
		echo FAILED TO START
		tail -n 20 "$out" >&2
		return 1
	fi
}

stop() {
	echo -n "Stopping zookeeper ... "
	if [ ! -f "$ZOOPIDFILE" ]; then
		echo "no zookeeper to stop (could not find file $ZOOPIDFILE)"
		return 0
	fi
	pid=$(cat "$ZOOPIDFILE")
	kill "$pid" 2>/dev/null
	# The node closes its listeners and its data; wait for it (30s).
	for _ in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "FAILED TO STOP (process $pid)"
		return 1
	fi
	rm -f "$ZOOPIDFILE"
	echo STOPPED
}

status() {
	local host port mode
	port=$(cfg clientPort)
	host=$(cfg clientPortAddress)
	host="${host:-localhost}"
	if [ -z "$port" ]; then
		# The port may be on this server's server.N line (;[addr:]port).
		local myid line
		myid=$(tr -d '[:space:]' <"${dataDir:-.}/myid" 2>/dev/null)
		line=$(cfg "server\\.$myid")
		port="${line##*;}"
		port="${port##*:}"
		[ "$line" = "$port" ] && port=""
	fi
	if [ -z "$port" ]; then
		echo "Unable to find either secure or insecure client port in any configs. Terminating."
		return 1
	fi
	echo "Client port found: $port. Client address: $host. Client SSL: false."
	mode=$( (exec 3<>"/dev/tcp/$host/$port" && printf srvr >&3 && cat <&3) 2>/dev/null | sed -n 's/^Mode: //p')
	if [ -z "$mode" ]; then
		echo "Error contacting service. It is probably not running."
		return 1
	fi
	echo "Mode: $mode"
}

case "$cmd" in
start) start ;;
start-foreground) exec "$GATEWAY" "${args[@]}" ;;
stop) stop ;;
restart)
	stop
	sleep 1
	start
	;;
status) status ;;
print-cmd) echo "\"$GATEWAY\" ${args[*]} > \"$out\" 2>&1 < /dev/null" ;;
esac
