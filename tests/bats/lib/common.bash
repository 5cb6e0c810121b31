# Shared by every bats suite: where the programs are, and a private relay directory per test.
# shellcheck shell=bash

ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
BIN="${CHATMAIL_BIN:-$ROOT/build}"
LAYOUT=$ROOT/layout
# The port map and the one chatmail.ini writer, shared with scripts/relay and chatmail-setup.
# shellcheck source=layout/relay-common.sh
. "$LAYOUT/relay-common.sh"

# A fresh directory $T with a chatmail.ini for a test relay of $MAIL_DOMAIN (default
# example.org) that keeps everything below $T; each argument is one more "key = value" line.
relay_dir() {
	T="$BATS_TEST_TMPDIR"
	mkdir -p "$T/mail" "$T/state"
	{
		relay_ini_below "$T" "$(id -u):$(id -g)"
		relay_ini_test_relay
		[ $# = 0 ] || printf '%s\n' "$@"
	} | relay_ini "$T/chatmail.ini" "${MAIL_DOMAIN:-example.org}"
	export T CHATMAIL_INI="$T/chatmail.ini" CHATMAIL_LOG="$T/log"
}

# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 12000))  # below the ephemeral range (32768-)
		ss -Hltn "sport = :$port" | grep -q . || break
	done
	echo "$port"
}

# Waits up to $2 seconds (default 10) until something listens on TCP port $1.
wait_port() {
	local i
	for ((i = 0; i < ${2:-10} * 20; i++)); do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	echo "nothing listens on port $1" >&2
	return 1
}

# plain_auth ADDRESS PASSWORD: SASL PLAIN's initial response (base64: a password may hold what an
# IMAP atom may not).
plain_auth() {
	printf '\0%s\0%s' "$1" "$2" | base64 -w0
}

# refute COMMAND...: fails when COMMAND succeeds. (A bare "! cmd" never fails a bats test.)
refute() {
	if "$@"; then
		echo "expected to fail: $*" >&2
		return 1
	fi
}

# open_path_to DIR: the test's dirs are root's; the daemons' users (postfix, dovecot, the mail
# user nobody) must reach what lies below DIR.
open_path_to() {
	local dir=$1
	while [ "$dir" != / ]; do
		chmod a+x "$dir"
		dir=$(dirname "$dir")
	done
}

# e2e_installed: fails, saying what to do, when the Delta Chat driver's npm packages are missing.
e2e_installed() {
	[ -d "$ROOT/tests/e2e/node_modules/@deltachat/stdio-rpc-server" ] || {
		echo "tests/e2e/node_modules is missing: run scripts/deps" >&2
		return 1
	}
}

# group_complete: the Delta Chat driver's `group A B C` (run's $status and $output) succeeded:
# B and C joined, and each member's message reached the two others.
group_complete() {
	echo "$output"
	[ "$status" -eq 0 ] || return 1
	[[ "$output" == *"ok: B and C joined"* ]] || return 1
	local sender
	for sender in A B C; do
		[[ "$output" == *"ok: $sender's message reached "*" in the group, encrypted"* ]] || return 1
	done
}

# dovecot_login_line ADDR: how Dovecot's log says that ADDR logged in over IMAP ("Login:" in
# Dovecot 2.3, "Logged in:" in 2.4).
dovecot_login_line() {
	if [ "$(relay_dovecot_version)" = 2.3 ]; then
		echo "Login: user=<$1>"
	else
		echo "Logged in: user=<$1>"
	fi
}
