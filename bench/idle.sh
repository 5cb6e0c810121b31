#!/bin/sh
# shellcheck shell=bash
# Idle Delta Chat clients on the whole local relay, with IMAP hibernation on and off: IDLE_CLIENTS
# IMAPS connections (default 2000), each its own account created at its first login, SELECT
# INBOX, IDLE; after IDLE_WAIT seconds (default 40, past the 30 s imap_hibernate_timeout) the
# relay's PSS and RSS by daemon and per idle client; then a message to 100 random clients
# (IDLE_DELIVERIES) and the time from the SMTP 250 to the client's EXISTS, p50 and p99.
# IDLE_HIBERNATION=on or off runs one of the two modes (default: both).
# The kernel's fs.inotify.max_user_instances (one per client of the mail user) is raised by
# what the clients need for the run and restored afterwards; the clients' open-file limit is
# raised for them alone (the relay's: scripts/relay).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

ROOT=$(pwd)
N=${IDLE_CLIENTS:-2000}
WAIT=${IDLE_WAIT:-40}
DELIVERIES=${IDLE_DELIVERIES:-100}
HIBERNATE=${IDLE_HIBERNATE_TIMEOUT:-30s}
BIN=${CHATMAIL_BIN:-$ROOT/build}
TOOL=$BIN/tools/imapidle
[ -x "$TOOL" ] || { echo "idle: $TOOL is missing (make bench builds it)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "idle: the relay's daemons need root"; exit 1; }

# shellcheck disable=SC2034 # read by common.bash
BATS_TEST_DIRNAME=$ROOT/tests/bats
export CHATMAIL_BIN="$BIN"
# shellcheck source=../tests/bats/lib/common.bash
. "$ROOT/tests/bats/lib/common.bash"
# shellcheck source=../tests/bats/lib/relay.bash
. "$ROOT/tests/bats/lib/relay.bash"

INSTANCES=/proc/sys/fs/inotify/max_user_instances
instances_before=$(cat $INSTANCES)
cleanup() {
	relay_stop >/dev/null 2>&1
	echo "$instances_before" >$INSTANCES
}
trap cleanup EXIT
trap 'exit 1' INT TERM
echo "$((instances_before + N + 64))" >$INSTANCES ||
	{ echo "idle: cannot raise $INSTANCES"; exit 1; }
echo "idle: fs.inotify.max_user_instances $instances_before -> $(cat $INSTANCES) for this run"
[ "$(ulimit -Hn)" -gt $((N + 64)) ] || { echo "idle: open files $(ulimit -Hn) < $N clients"; exit 1; }

# "name count pss_kib rss_kib" for each daemon (process name) of the relay: the process trees
# of its daemons' pid files.
relay_memory() {
	local roots=() pidfile
	for pidfile in run/dovecot/master.pid postfix/spool/pid/master.pid run/opendkim.pid \
		run/newemail.pid run/nginx.pid; do
		[ -s "$RUN_DIR/$pidfile" ] && roots+=("$(head -1 "$RUN_DIR/$pidfile" | tr -d ' ')")
	done
	ps -e -o pid=,ppid=,comm= | awk -v roots="${roots[*]}" '
		BEGIN { split(roots, r, " "); for (i in r) keep[r[i]] = 1 }
		{ parent[$1] = $2; name[$1] = $3 }
		END {
			do { grew = 0
				for (p in parent) if (!(p in keep) && (parent[p] in keep)) { keep[p] = 1; grew = 1 }
			} while (grew)
			for (p in keep) if (p in name) print p, name[p]
		}' | while read -r pid comm; do
		awk -v comm="$comm" '/^Pss:/ { pss = $2 } /^Rss:/ { rss = $2 }
			END { if (rss != "") print comm, pss, rss }' "/proc/$pid/smaps_rollup" 2>/dev/null
	done | awk '{ n[$1]++; pss[$1] += $2; rss[$1] += $3 }
		END { for (c in n) print c, n[c], pss[c], rss[c] }' | sort -k3 -n -r
}

mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# run TIMEOUT: one relay with imap_hibernate_timeout = TIMEOUT (0: off), N idle clients.
run() {
	export IMAP_HIBERNATE_TIMEOUT=$1
	export INI_EXTRA="max_user_send_per_minute = 1000000
max_user_send_burst_size = 1000000
max_imap_connections = $((N + 100))"
	relay_start chat.test >/dev/null 2>&1 || { echo "idle: the relay did not start"; return 1; }
	local base base_pss=0 base_rss=0 line
	base=$(relay_memory)
	read -r base_pss base_rss < <(awk '{ p += $3; r += $4 } END { print p, r }' <<<"$base")

	# the clients' own open files; the relay's are scripts/relay's (dovecot_fd_limit)
	coproc CLIENTS { ulimit -S -n $((N + 64)) && exec "$TOOL" 127.0.0.1 "$IMAPS_PORT" "$SMTPS_PORT" chat.test "$N" i \
		"$ROOT/tests/data/eml/encrypted.eml" 2>"$RUN_DIR/imapidle.err"; }
	local idle failed seconds
	read -r line idle failed seconds <&"${CLIENTS[0]}" || { echo "idle: the clients did not start"; return 1; }
	echo "hibernation ${1/#0/off}: $idle of $N clients in IDLE after $seconds s ($failed failed), waiting $WAIT s"
	sleep "$WAIT"
	local now total_pss total_rss
	now=$(relay_memory)
	read -r total_pss total_rss < <(awk '{ p += $3; r += $4 } END { print p, r }' <<<"$now")
	printf '  %-16s %6s %10s %10s\n' daemon processes "PSS MiB" "RSS MiB"
	while read -r comm count pss rss; do
		printf '  %-16s %6s %10s %10s\n' "$comm" "$count" "$(mib "$pss")" "$(mib "$rss")"
	done <<<"$now"
	printf '  %-16s %6s %10s %10s\n' total "" "$(mib "$total_pss")" "$(mib "$total_rss")"
	local master left
	master=$(cat "$RUN_DIR/run/dovecot/master.pid")
	left=$(pgrep -c -x -P "$master" imap)
	echo "  hibernated: $((idle - left)) clients, $left in imap processes; Dovecot's hibernation" \
		"errors: $(grep -c "Couldn't hibernate" "$RUN_DIR/log/dovecot.log")"
	echo "  per idle client: PSS $(((total_pss - base_pss) / N)) KiB, RSS $(((total_rss - base_rss) / N)) KiB" \
		"(over the relay before the clients: PSS $(mib "$base_pss") MiB, RSS $(mib "$base_rss") MiB)"
	echo "  10,000 idle clients at this rate: PSS $(mib $((base_pss + (total_pss - base_pss) * 10000 / N))) MiB"

	echo "deliver-random $DELIVERIES" >&"${CLIENTS[1]}"
	local missing=0 p50 p99 seen latencies=$BIN/idle-latency-${1/#0/off}.txt
	: >"$latencies"
	while read -r line <&"${CLIENTS[0]}"; do
		case $line in
		missing*) missing=$((missing + 1)) ;;
		exists*) echo "${line#exists }" >>"$latencies" ;; # "client ms"
		latency*)
			read -r _ p50 p99 seen <<<"$line"
			break
			;;
		esac
	done
	echo "alive" >&"${CLIENTS[1]}"
	read -r _ idle <&"${CLIENTS[0]}"
	echo "  SMTP 250 to EXISTS over $seen deliveries: p50 ${p50:-?} ms, p99 ${p99:-?} ms; $missing missing;" \
		"$idle of $N still connected; $(awk '$2 > 100' "$latencies" | wc -l) over 100 ms ($latencies)"
	echo "  Dovecot's inotify warnings: $(grep -c 'Inotify instance limit' "$RUN_DIR/log/dovecot.log")"
	echo quit >&"${CLIENTS[1]}"
	wait "$CLIENTS_PID" 2>/dev/null
	relay_stop >/dev/null 2>&1
	RUN_DIR=
}

echo "idle clients: N = $N, load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
case ${IDLE_HIBERNATION:-both} in
on) run "$HIBERNATE" ;;
off) run 0 ;;
*) run "$HIBERNATE"; run 0 ;;
esac
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
