#!/bin/sh
# shellcheck shell=bash
# Ping-pong of encrypted messages between real Delta Chat accounts (deltachat-rpc-server from
# tests/e2e) through the whole local relay, like cmping, and then across two relays that
# federate (scripts/federation): round-trip p50/p90/p99, messages per second, the relays' CPU
# time and peak memory, and PNGs of the round-trip distributions.
# PING_ACCOUNTS accounts (default 4, in pairs), PING_ROUNDS round trips per pair (default 40), each
# round PING_INTERVAL_MS (default 1500) after the last one started: Delta Chat core itself sends
# at most one message a second after a burst of three, and back-to-back rounds measure that.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

ROOT=$(pwd)
ACCOUNTS=${PING_ACCOUNTS:-4}
ROUNDS=${PING_ROUNDS:-40}
BIN=${CHATMAIL_BIN:-$ROOT/build}
PLOT=$BIN/ping-latency.png
[ -d "$ROOT/tests/e2e/node_modules/@deltachat/stdio-rpc-server" ] ||
	{ echo "ping: tests/e2e/node_modules is missing (run scripts/deps)"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "ping: the relay's daemons need root"; exit 1; }

# The test helpers start the relay exactly as the bats suites do.
# shellcheck disable=SC2034 # read by common.bash
BATS_TEST_DIRNAME=$ROOT/tests/bats
export CHATMAIL_BIN="$BIN"
# shellcheck source=../tests/bats/lib/common.bash
. "$ROOT/tests/bats/lib/common.bash"
# shellcheck source=../tests/bats/lib/relay.bash
. "$ROOT/tests/bats/lib/relay.bash"
OUT=$(mktemp -d)
chmod 755 "$OUT" # the relays' daemons reach their state below it
FED_DIR=$OUT/testbed FED_NAME=cmping$$
export FED_DIR FED_NAME
trap 'relay_stop >/dev/null 2>&1; "$ROOT/scripts/federation" down >/dev/null 2>&1; rm -rf "$OUT"' EXIT

# The relays as deployed, but no send-rate or load limit: this measures the path of a message.
export INI_EXTRA="max_user_send_per_minute = 1000000
max_user_send_burst_size = 1000000
max_load_1m = 100000"

# relay_pids RUN_DIR: the relay's daemons, whose process trees ping.mjs measures.
relay_pids() {
	for pidfile in run/dovecot/master.pid postfix/spool/pid/master.pid run/opendkim.pid \
		run/newemail.pid run/nginx.pid; do
		[ -s "$1/$pidfile" ] && printf ' %s' "$(head -1 "$1/$pidfile" | tr -d ' ')"
	done
}

figure() { sed -n "s/^$1 //p" "$OUT/$2/figures"; }

# report RUN TITLE PNG: the figures of one run, and its round trips drawn into PNG.
report() {
	local f=$1
	echo "$2: $(figure pairs "$f") pairs of Delta Chat accounts," \
		"$(figure rounds "$f") round trips each, $(figure messages "$f") encrypted messages in" \
		"$(figure seconds "$f") s"
	printf '  %-22s %8s ms   (min %s, max %s)\n' "round trip p50" "$(figure p50 "$f")" \
		"$(figure min "$f")" "$(figure max "$f")"
	printf '  %-22s %8s ms\n' "round trip p90" "$(figure p90 "$f")" "round trip p99" "$(figure p99 "$f")"
	printf '  %-22s %8s\n' "messages per second" "$(figure per_second "$f")"
	printf '  %-22s %8s s    (%s ms per message: %s)\n' "relay CPU (user+sys)" "$(figure cpu "$f")" \
		"$(figure cpu_per_message_ms "$f")" "$(figure cpu_by_daemon "$f")"
	printf '  %-22s %8s MiB  (sum over its processes, sampled every 100 ms; PSS %s MiB)\n' \
		"relay peak RSS" "$(figure peak_rss_mib "$f")" "$(figure peak_pss_mib "$f")"
	printf '  %-22s %8s MiB  (%s)\n' "largest relay process" "$(figure largest "$f" | cut -d' ' -f2)" \
		"$(figure largest "$f" | cut -d' ' -f1)"
	[ "$(figure unencrypted "$f")" = 0 ] ||
		echo "  warning: $(figure unencrypted "$f") message(s) arrived unencrypted"
	plot "$OUT/$f/rtt.txt" "$3" "$2"
}

plot() { # plot RTT_FILE PNG TITLE
	command -v gnuplot >/dev/null || { echo "  no plot: gnuplot is missing (run scripts/deps)"; return; }
	sort -n "$1" | awk '{ print $1, NR }' >"$1.cdf"
	local n
	n=$(wc -l <"$1")
	gnuplot <<EOF && echo "  plot: $2"
set terminal pngcairo size 900,500
set output "$2"
set title "Delta Chat $3: $n round trips"
set xlabel "round trip (ms)"
set ylabel "round trips per 10 ms"
set y2label "fraction of round trips at or below"
set y2range [0:1]
set ytics nomirror
set y2tics 0.1
set grid x y2
set key top left
set style fill solid 0.5
binwidth = 10
bin(x) = binwidth * floor(x / binwidth) + binwidth / 2.0
plot "$1" using (bin(\$1)):(1.0) smooth frequency with boxes title "round trips", \
	"$1.cdf" using 1:(\$2 / $n.0) axes x1y2 with lines lw 2 title "cumulative"
EOF
}

# Through one relay on loopback ports.
mkdir -p "$OUT/same"
relay_start 127.0.0.1 >/dev/null || { echo "ping: the relay did not start"; exit 1; }
# shellcheck disable=SC2046
E2E_DIR=$OUT/same/devices CLK_TCK=$(getconf CLK_TCK) \
	node "$ROOT/bench/ping.mjs" "$ACCOUNTS" "$ROUNDS" "$OUT/same" $(relay_pids "$RUN_DIR") \
	>"$OUT/same/figures" || { echo "ping: the ping-pong did not complete"; exit 1; }
relay_stop >/dev/null 2>&1
report same "ping-pong through the local relay" "$PLOT"

# Across two relays (scripts/federation): pingers on a.test, partners on b.test, every message
# from relay to relay by MX, verified TLS and DKIM, as between two relays on the Internet.
mkdir -p "$OUT/federation"
"$ROOT/scripts/federation" up >"$OUT/federation.log" 2>&1 ||
	{ echo "ping: the federation did not come up: $(tail -1 "$OUT/federation.log")"; exit 1; }
# shellcheck disable=SC2046
ip netns exec "$FED_NAME-c" env E2E_DIR="$OUT/federation/devices" E2E_CA="$FED_DIR/ca/ca.pem" \
	PING_HOSTS="a.test b.test" HTTPS_PORT=443 IMAPS_PORT=993 SMTPS_PORT=465 \
	CLK_TCK="$(getconf CLK_TCK)" node "$ROOT/bench/ping.mjs" "$ACCOUNTS" "$ROUNDS" \
	"$OUT/federation" $(relay_pids "$FED_DIR/a") $(relay_pids "$FED_DIR/b") \
	>"$OUT/federation/figures" || { echo "ping: the ping-pong across relays did not complete"; exit 1; }
report federation "ping-pong from a.test to b.test and back (two relays)" "${PLOT%.png}-federation.png"
