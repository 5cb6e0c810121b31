#!/bin/sh
# Debian's Dovecot against the instant-IDLE build (make instant-idle; admin/chatmail-instant-idle.sh)
# on the same relay, side by side: the one-way delivery time an IDLE client sees
# (bench/lib/idle-latency.sh) and the Delta Chat ping-pong round trip (bench/ping.sh).
# Without the build it says so and measures nothing.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
ROOT=$(pwd)
CACHE=$ROOT/build/dovecot-instant
RUN="$ROOT/admin/chatmail-instant-idle.sh run --cache $CACHE"
ls "$CACHE"/*/built >/dev/null 2>&1 ||
	{ echo "instant-idle: no instant-IDLE build in $CACHE (make instant-idle builds it)"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "instant-idle: the relay's daemons need root"; exit 1; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
bash bench/lib/idle-latency.sh >"$out/stock.idle" || echo "(failed)" >"$out/stock.idle"
# shellcheck disable=SC2086 # RUN is a command line
$RUN bash bench/lib/idle-latency.sh >"$out/instant.idle" || echo "(failed)" >"$out/instant.idle"
sh bench/ping.sh >"$out/stock.ping" 2>&1
# shellcheck disable=SC2086
$RUN sh bench/ping.sh >"$out/instant.ping" 2>&1

# ping.sh's "round trip pNN   X ms" lines
ping_figure() { sed -n "s/^  round trip $2 *\([0-9.]*\) ms.*/\1/p" "$out/$1.ping"; }
idle_figure() { awk -v n="$2" '{ print $n }' "$out/$1.idle"; }

echo "Debian's Dovecot (IDLE delay 500 ms) against the instant-IDLE build (0 ms), same relay:"
printf '  %-42s %10s %10s\n' "" "Debian's" "instant"
column=1
for p in p50 p90 p99; do
	printf '  %-42s %7s ms %7s ms\n' "one-way, SMTP submission to IDLE EXISTS $p" \
		"$(idle_figure stock $column)" "$(idle_figure instant $column)"
	column=$((column + 1))
done
for p in p50 p90 p99; do
	printf '  %-42s %7s ms %7s ms\n' "Delta Chat ping-pong round trip $p" \
		"$(ping_figure stock "$p")" "$(ping_figure instant "$p")"
done
echo "  (one-way: ${IDLE_DELIVERIES:-15} deliveries to a quiet mailbox; ping-pong: bench/ping.sh)"
grep -q 'round trip p50' "$out/instant.ping" || { echo "  instant ping-pong:"; sed 's/^/    /' "$out/instant.ping"; }
