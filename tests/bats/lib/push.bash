# Push notifications and METADATA against the local relay (tests/bats/push.bats, metadata.bats):
# a recording notification server on loopback (pushserver.py), IMAP commands (imapcmd.py) and
# LMTP deliveries as Postfix makes them (lmtp.py). Needs lib/relay.bash.
# shellcheck shell=bash

# push_server_start: the recording server on a free port; sets PUSH_PORT and PUSH_DIR. The
# server keeps its port and folder over a stop and start (the "notifier down" test).
push_server_start() {
	PUSH_DIR=${PUSH_DIR:-$BATS_FILE_TMPDIR/push}
	PUSH_PORT=${PUSH_PORT:-$(free_port)}
	mkdir -p "$PUSH_DIR"
	setsid python3 "$BATS_TEST_DIRNAME/lib/pushserver.py" "$PUSH_PORT" "$PUSH_DIR" \
		>>"$PUSH_DIR/log" 2>&1 </dev/null &
	echo $! >"$PUSH_DIR/pid"
	export PUSH_DIR PUSH_PORT
	wait_port "$PUSH_PORT"
}

push_server_stop() {
	[ -s "${PUSH_DIR:-/nonexistent}/pid" ] || return 0
	kill "$(cat "$PUSH_DIR/pid")" 2>/dev/null || true
	rm -f "$PUSH_DIR/pid"
	local i
	for ((i = 0; i < 100; i++)); do
		ss -Hltn "sport = :$PUSH_PORT" | grep -q . || return 0
		sleep 0.05
	done
}

# posts: the bodies POSTed so far, one a line; posts_of TOKEN: how many carried TOKEN.
posts() { cat "$PUSH_DIR/posts" 2>/dev/null || true; }
posts_of() { posts | grep -cxF "$1" || true; }

# wait_posts_of TOKEN N [SECONDS]: waits until N POSTs carried TOKEN (default 1 s).
wait_posts_of() {
	local i
	for ((i = 0; i < ${3:-1} * 20; i++)); do
		[ "$(posts_of "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	echo "$(posts_of "$1") POST(s) of $1 after ${3:-1} s, not $2" >&2
	return 1
}

# imap USER PASSWORD COMMAND...: the commands in one IMAPS session, every answer line printed.
imap() {
	python3 "$BATS_TEST_DIRNAME/lib/imapcmd.py" "$IMAPS_PORT" "$@"
}

set_token() { # set_token USER PASSWORD TOKEN: what Delta Chat sends after its login
	imap "$1" "$2" "SETMETADATA INBOX (/private/devicetoken \"$3\")"
}

# deliver FROM TO [COUNT]: messages from FROM into the INBOX of TO through Dovecot's LMTP
# socket, as Postfix hands them over; prints each delivery's milliseconds.
deliver() {
	python3 "$BATS_TEST_DIRNAME/lib/lmtp.py" "$RUN_DIR/postfix/spool/private/dovecot-lmtp" "$@"
}

# account_vars NAME: a fresh account into NAME and NAME_PASSWORD.
account_vars() {
	local line
	line=$(new_account) || return 1
	printf -v "$1" '%s' "${line%% *}"
	printf -v "${1}_PASSWORD" '%s' "${line#* }"
}
