#!/bin/sh
# shellcheck shell=bash
# Push notifications on the whole local relay (README "Push notifications, METADATA and TURN"):
# the LMTP delivery time into an account without a device token and into one with
# PUSH_TOKENS tokens (default 5; the notification server answers at once), p50 and p90 of
# PUSH_DELIVERIES (default 50) each; then how many notifications per second go through the
# queue: PUSH_BURST deliveries (default 100) to the account with tokens, timed from the first
# delivery to the last POST the recording server (tests/bats/lib/pushserver.py) received.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

ROOT=$(pwd)
TOKENS=${PUSH_TOKENS:-5}
DELIVERIES=${PUSH_DELIVERIES:-50}
BURST=${PUSH_BURST:-100}
BIN=${CHATMAIL_BIN:-$ROOT/build}
[ "$(id -u)" = 0 ] || { echo "push: the relay's daemons need root"; exit 1; }
[ -x "$BIN/chatmail-notifier" ] || { echo "push: $BIN/chatmail-notifier is missing: make"; exit 1; }

# shellcheck disable=SC2034 # read by common.bash and push.bash
BATS_TEST_DIRNAME=$ROOT/tests/bats
BATS_FILE_TMPDIR=$(mktemp -d)
export CHATMAIL_BIN="$BIN"
# shellcheck source=../tests/bats/lib/common.bash
. "$ROOT/tests/bats/lib/common.bash"
# shellcheck source=../tests/bats/lib/relay.bash
. "$ROOT/tests/bats/lib/relay.bash"
# shellcheck source=../tests/bats/lib/push.bash
. "$ROOT/tests/bats/lib/push.bash"

cleanup() {
	relay_stop >/dev/null 2>&1
	push_server_stop
	rm -rf "$BATS_FILE_TMPDIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

push_server_start
export INI_EXTRA="push_notification_url = http://127.0.0.1:$PUSH_PORT/notify"
relay_start >/dev/null 2>&1 || { echo "push: the relay did not start"; exit 1; }
account_vars A && account_vars B || { echo "push: no accounts"; exit 1; }
for ((i = 0; i < TOKENS; i++)); do
	set_token "$A" "$A_PASSWORD" "openpgp:bench$i" >/dev/null
done

# quantiles FILE: "p50 p90" of the numbers in FILE
quantiles() {
	sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%s %s", v[int(NR * 0.5 + 0.5)], v[int(NR * 0.9 + 0.5)] }'
}

deliver "$B" "$B" "$DELIVERIES" >"$BATS_FILE_TMPDIR/none"
deliver "$B" "$A" "$DELIVERIES" >"$BATS_FILE_TMPDIR/push"
read -r none50 none90 <<<"$(quantiles "$BATS_FILE_TMPDIR/none")"
read -r push50 push90 <<<"$(quantiles "$BATS_FILE_TMPDIR/push")"
echo "push: LMTP delivery without a token: p50 ${none50} ms, p90 ${none90} ms ($DELIVERIES deliveries)"
echo "push: LMTP delivery with $TOKENS tokens: p50 ${push50} ms, p90 ${push90} ms (notifications queued and sent)"

sleep 2
: >"$PUSH_DIR/posts"
want=$((BURST * TOKENS))
start=${EPOCHREALTIME/./}
deliver "$B" "$A" "$BURST" >/dev/null
delivered=${EPOCHREALTIME/./}
for ((i = 0; i < 1200; i++)); do
	[ "$(wc -l <"$PUSH_DIR/posts")" -ge "$want" ] && break
	sleep 0.05
done
end=${EPOCHREALTIME/./}
got=$(wc -l <"$PUSH_DIR/posts")
awk -v n="$got" -v us=$((end - start)) -v d=$((delivered - start)) 'BEGIN {
	printf "push: %d notifications (%d deliveries) in %.2f s: %.0f notifications/s through the queue (deliveries took %.2f s)\n",
		n, n / '"$TOKENS"', us / 1e6, n / (us / 1e6), d / 1e6 }'
for p in chatmail-notifier; do
	pid=$(pgrep -n -x "$p") && echo "push: $p RSS $(awk '/VmRSS/ { print $2, $3 }' "/proc/$pid/status")"
done
