#!/bin/sh
# Ping-pong of encrypted messages between real Delta Chat accounts (deltachat-rpc-server from
# tests/e2e) through the whole local relay, like cmping: round-trip p50/p90/p99, messages per
# second, the relay's CPU time and peak memory, and a PNG of the round-trip distribution.
# PING_ACCOUNTS accounts (default 4, in pairs), PING_ROUNDS round trips per pair (default 40).
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
trap 'relay_stop >/dev/null 2>&1; rm -rf "$OUT"' EXIT

# The relay as deployed, but no send-rate or load limit: this measures the path of a message.
export INI_EXTRA="max_user_send_per_minute = 1000000
max_user_send_burst_size = 1000000
max_load_1m = 100000"
relay_start 127.0.0.1 >/dev/null || { echo "ping: the relay did not start"; exit 1; }
roots=""
for pidfile in run/dovecot/master.pid postfix/spool/pid/master.pid run/opendkim.pid \
	run/newemail.pid run/nginx.pid; do
	[ -s "$RUN_DIR/$pidfile" ] && roots="$roots $(head -1 "$RUN_DIR/$pidfile" | tr -d ' ')"
done

# shellcheck disable=SC2086
E2E_DIR=$OUT/devices CLK_TCK=$(getconf CLK_TCK) \
	node "$ROOT/bench/ping.mjs" "$ACCOUNTS" "$ROUNDS" "$OUT" $roots >"$OUT/figures" ||
	{ echo "ping: the ping-pong did not complete"; exit 1; }
figure() { sed -n "s/^$1 //p" "$OUT/figures"; }

echo "ping-pong through the local relay: $(figure pairs) pairs of Delta Chat accounts," \
	"$(figure rounds) round trips each, $(figure messages) encrypted messages in $(figure seconds) s"
printf '  %-22s %8s ms   (min %s, max %s)\n' "round trip p50" "$(figure p50)" "$(figure min)" \
	"$(figure max)"
printf '  %-22s %8s ms\n' "round trip p90" "$(figure p90)" "round trip p99" "$(figure p99)"
printf '  %-22s %8s\n' "messages per second" "$(figure per_second)"
printf '  %-22s %8s s    (%s ms per message: %s)\n' "relay CPU (user+sys)" "$(figure cpu)" \
	"$(figure cpu_per_message_ms)" "$(figure cpu_by_daemon)"
printf '  %-22s %8s MiB  (sum over its processes, sampled every 100 ms; PSS %s MiB)\n' \
	"relay peak RSS" "$(figure peak_rss_mib)" "$(figure peak_pss_mib)"
printf '  %-22s %8s MiB  (%s)\n' "largest relay process" "$(figure largest | cut -d' ' -f2)" \
	"$(figure largest | cut -d' ' -f1)"
[ "$(figure unencrypted)" = 0 ] ||
	echo "  warning: $(figure unencrypted) message(s) arrived unencrypted"

if command -v gnuplot >/dev/null; then
	sort -n "$OUT/rtt.txt" | awk '{ print $1, NR }' >"$OUT/cdf.txt"
	n=$(wc -l <"$OUT/rtt.txt")
	gnuplot <<EOF && echo "  plot: $PLOT"
set terminal pngcairo size 900,500
set output "$PLOT"
set title "Delta Chat ping-pong through the relay: $n round trips"
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
plot "$OUT/rtt.txt" using (bin(\$1)):(1.0) smooth frequency with boxes title "round trips", \
	"$OUT/cdf.txt" using 1:(\$2 / $n.0) axes x1y2 with lines lw 2 title "cumulative"
EOF
else
	echo "  no plot: gnuplot is missing (run scripts/deps)"
fi
