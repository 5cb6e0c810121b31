#!/bin/bash
# One-way delivery time as a Delta Chat device waiting in IMAP IDLE sees it: from the start of an
# SMTP submission to the EXISTS at the recipient's IDLE client, N deliveries to a quiet mailbox
# (IDLE_DELIVERIES, default 15) through a fresh local relay. Prints "p50 p90 p99 min max" in ms.
# Run by bench/instant-idle.sh, once on Debian's Dovecot and once on the instant-IDLE build.
set -u
ROOT=$(pwd)
# shellcheck disable=SC2034 # read by common.bash
BATS_TEST_DIRNAME=$ROOT/tests/bats
export CHATMAIL_BIN=${CHATMAIL_BIN:-$ROOT/build}
# shellcheck source=tests/bats/lib/common.bash
. "$ROOT/tests/bats/lib/common.bash"
# shellcheck source=tests/bats/lib/relay.bash
. "$ROOT/tests/bats/lib/relay.bash"
# shellcheck source=tests/bats/lib/idle.bash
. "$ROOT/tests/bats/lib/idle.bash"
trap 'idle_stop; relay_stop >/dev/null 2>&1' EXIT

export INI_EXTRA="max_user_send_per_minute = 1000000
max_user_send_burst_size = 1000000"
relay_start 127.0.0.1 >/dev/null || { echo "idle-latency: the relay did not start" >&2; exit 1; }
read -r from password <<<"$(new_account)"
read -r to to_password <<<"$(new_account)"
idle_start "$to" "$to_password" || exit 1
idle_latencies "$from" "$password" "$to" "${IDLE_DELIVERIES:-15}" >"$RUN_DIR/latencies" || exit 1
sort -n "$RUN_DIR/latencies" | awk '{ v[NR] = $1 }
	function rank(p) { i = int(p * NR + 0.999999); return v[i < 1 ? 1 : i] }
	END { print rank(0.5), rank(0.9), rank(0.99), v[1], v[NR] }'
