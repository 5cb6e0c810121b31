#!/bin/sh
# shellcheck shell=bash
# Push notifications on the whole local relay (README "Push notifications, METADATA and TURN"):
# the LMTP delivery time into an account without a device token and into one with
# PUSH_TOKENS tokens (default 5; the notification server answers at once), p50 and p90 of
# PUSH_DELIVERIES (default 50) each; then how many notifications per second chatmail-notifier
# sends: with the notifier stopped, PUSH_BURST deliveries (default 200) to the account with
# tokens fill the queue; the notifier is started again and timed until the recording server
# (tests/bats/lib/pushserver.py, one thread per POST) has every one.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

ROOT=$(pwd)
TOKENS=${PUSH_TOKENS:-5}
DELIVERIES=${PUSH_DELIVERIES:-50}
BURST=${PUSH_BURST:-200}
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

deliver "$B" "$B" "$DELIVERIES" >"$BATS_FILE_TMPDIR/lmtp-none"
deliver "$B" "$A" "$DELIVERIES" >"$BATS_FILE_TMPDIR/lmtp-push"
read -r none50 none90 <<<"$(quantiles "$BATS_FILE_TMPDIR/lmtp-none")"
read -r push50 push90 <<<"$(quantiles "$BATS_FILE_TMPDIR/lmtp-push")"
echo "push: LMTP delivery without a token: p50 ${none50} ms, p90 ${none90} ms ($DELIVERIES deliveries)"
echo "push: LMTP delivery with $TOKENS tokens: p50 ${push50} ms, p90 ${push90} ms (notifications queued and sent)"

sleep 2
: >"$PUSH_DIR/posts"
want=$((BURST * TOKENS))
kill "$(cat "$RUN_DIR/run/notifier.pid")"
sleep 0.5
deliver "$B" "$A" "$BURST" >/dev/null
queued=$(find "$RUN_DIR/vmail/state/push-queue" -type f ! -name '.*' | wc -l)
start=${EPOCHREALTIME/./}
# as scripts/relay starts it
setsid setpriv --reuid nobody --regid nogroup --clear-groups env CHATMAIL_INI="$RUN_DIR/chatmail.ini" \
	CHATMAIL_LOG="$RUN_DIR/log/push.log" "$BIN/chatmail-notifier" </dev/null >/dev/null 2>&1 &
echo $! >"$RUN_DIR/run/notifier.pid"
for ((i = 0; i < 1200; i++)); do
	[ "$(wc -l <"$PUSH_DIR/posts")" -ge "$want" ] && break
	sleep 0.02
done
end=${EPOCHREALTIME/./}
got=$(wc -l <"$PUSH_DIR/posts")
awk -v n="$got" -v q="$queued" -v us=$((end - start)) 'BEGIN {
	printf "push: %d notifications of %d deliveries sent in %.2f s: %.0f notifications/s\n",
		n, q, us / 1e6, n / (us / 1e6) }'
echo "push: chatmail-notifier RSS $(awk '/VmRSS/ { print $2, $3 }' "/proc/$(cat "$RUN_DIR/run/notifier.pid")/status")"
