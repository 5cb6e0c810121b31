#!/usr/bin/env bats
# Starting and stopping the local relay (what `make run` does): bad config, busy ports,
# crashes, and nothing written outside the state directory.

load lib/common
load lib/relay

teardown() {
	[ -z "${HOLDER_PID:-}" ] || kill "$HOLDER_PID" 2>/dev/null || true
	[ -z "${RUN_PID:-}" ] || kill "$RUN_PID" 2>/dev/null || true
	relay_stop
}

# The system's own daemon configs and state, which the local relay must never touch: every
# entry's name, and every file's content.
system_state() {
	local places=(/etc/postfix /etc/dovecot /etc/nginx /etc/opendkim.conf /etc/chatmail*
		/var/lib/dovecot /var/lib/postfix /var/spool/postfix /home/vmail)
	find "${places[@]}" 2>/dev/null | sort
	find "${places[@]}" -type f -exec md5sum {} + 2>/dev/null | sort
}

@test "a bad value in chatmail.ini stops the start, naming the key, before any daemon runs" {
	RUN_DIR=$(mktemp -d /tmp/chatmail-relay-test.XXXXXX)
	chmod 755 "$RUN_DIR"
	export RUN_DIR PORT_BASE
	PORT_BASE=$(free_port_block)
	relay_ini "$RUN_DIR/chatmail.ini" chat.test <<<"max_message_size = lots"
	run "$ROOT/scripts/relay" start
	[ "$status" -ne 0 ]
	[[ "$output" == *"max_message_size"* ]]
	[ ! -e "$RUN_DIR/run/dovecot/master.pid" ]
	[ ! -e "$RUN_DIR/etc" ]
	refute pgrep -f "$RUN_DIR/etc"
}

@test "a port already in use is reported with what holds it" {
	export PORT_BASE
	PORT_BASE=$(free_port_block)
	relay_ports "$PORT_BASE"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=x -keyout "$BATS_TEST_TMPDIR/k" \
		-out "$BATS_TEST_TMPDIR/c" 2>/dev/null
	openssl s_server -quiet -accept "127.0.0.1:$IMAPS_PORT" -cert "$BATS_TEST_TMPDIR/c" \
		-key "$BATS_TEST_TMPDIR/k" </dev/null >/dev/null 2>&1 &
	HOLDER_PID=$!
	wait_port "$IMAPS_PORT"
	RUN_DIR=$(mktemp -d /tmp/chatmail-relay-test.XXXXXX)
	chmod 755 "$RUN_DIR"
	export RUN_DIR
	run "$ROOT/scripts/relay" start
	[ "$status" -ne 0 ]
	[[ "$output" == *"port $IMAPS_PORT is in use by \"openssl\",pid=$HOLDER_PID"* ]]
	[ ! -e "$RUN_DIR/run/dovecot/master.pid" ]
}

@test "after a crash a second start comes up cleanly, and nothing outside the state dir changes" {
	before=$(system_state)
	relay_start chat.test
	run "$ROOT/scripts/relay" status
	echo "$output"
	[ "$(grep -c running <<<"$output")" -eq 9 ] # with the dict, the notifier and coturn
	# a crash: every daemon killed at once, pid files and sockets left behind
	for pidfile in run/dovecot/master.pid postfix/spool/pid/master.pid run/opendkim.pid \
		run/newemail.pid run/mxdeliv.pid run/nginx.pid run/metadata.pid run/notifier.pid \
		run/turnserver.pid; do
		kill -9 "$(head -1 "$RUN_DIR/$pidfile" | tr -d ' ')"
	done
	sleep 0.5
	AUTH_VSZ_LIMIT=0 "$ROOT/scripts/relay" start
	run "$ROOT/scripts/relay" status
	[ "$(grep -c running <<<"$output")" -eq 9 ]
	account=$(new_account)
	read -r addr password <<<"$account"
	[ "$(inbox_count "$addr" "$password")" = 0 ]
	"$ROOT/scripts/relay" stop
	run "$ROOT/scripts/relay" status
	[ "$(grep -c stopped <<<"$output")" -eq 9 ]
	[ "$(system_state)" = "$before" ]
}

@test "tls_external_cert_and_key serves the operator's certificate on HTTPS, IMAPS and SMTPS" {
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=operator-cert.test \
		-keyout "$BATS_TEST_TMPDIR/key.pem" -out "$BATS_TEST_TMPDIR/cert.pem" 2>/dev/null
	chmod 644 "$BATS_TEST_TMPDIR/key.pem"
	open_path_to "$BATS_TEST_TMPDIR"
	export INI_EXTRA="tls_external_cert_and_key = $BATS_TEST_TMPDIR/cert.pem $BATS_TEST_TMPDIR/key.pem"
	relay_start chat.test
	for port in "$HTTPS_PORT" "$IMAPS_PORT" "$SMTPS_PORT"; do
		subject=$(openssl s_client -connect "127.0.0.1:$port" </dev/null 2>/dev/null |
			openssl x509 -noout -subject)
		[[ "$subject" == *operator-cert.test* ]] || { echo "port $port: $subject"; false; }
	done
	[ ! -e "$RUN_DIR/tls/cert.pem" ]
}

@test "a state dir below a directory others cannot search (no o+x bit) is refused before anything starts" {
	local closed=$BATS_TEST_TMPDIR/closed
	open_path_to "$BATS_TEST_TMPDIR"
	mkdir -p "$closed"
	# readable but not searchable by others; setgid with nothing for others
	for mode in 0754 2750; do
		chmod "$mode" "$closed"
		RUN_DIR=$closed/relay run "$ROOT/scripts/relay" start
		[ "$status" -eq 1 ]
		[[ "$output" == *"$closed is not searchable by other users"* ]]
		[ ! -e "$closed/relay/chatmail.ini" ]
	done
}

@test "the local relay's chatmail.ini says it is a test relay, which never refuses accounts for the machine's load" {
	relay_start chat.test
	grep -q '^# A test relay' "$RUN_DIR/chatmail.ini"
	[ "$(CHATMAIL_INI=$RUN_DIR/chatmail.ini relay_get max_load_1m)" = 100000 ]
	[ "$(CHATMAIL_INI=$RUN_DIR/chatmail.ini relay_get min_available_memory)" = 0 ]
	new_account
}

# waits up to 60 s until FILE holds TEXT
wait_for_text() {
	local i
	for ((i = 0; i < 600; i++)); do
		grep -qF -- "$2" "$1" && return 0
		sleep 0.1
	done
	echo "$1 never said: $2" >&2
	cat "$1" >&2
	return 1
}

@test "make run: a refused POST /new prints the reason and the way out, not address: null, and the relay stays up" {
	RUN_DIR=$(mktemp -d /tmp/chatmail-relay-test.XXXXXX)
	chmod 755 "$RUN_DIR"
	PORT_BASE=$(free_port_block)
	export RUN_DIR PORT_BASE DOMAIN=chat.test AUTH_VSZ_LIMIT=0
	export INI_EXTRA="nocreate_file = $RUN_DIR/blocked"
	touch "$RUN_DIR/blocked"
	"$ROOT/scripts/run" >"$BATS_TEST_TMPDIR/run.out" 2>&1 3>&- &
	RUN_PID=$!
	wait_for_text "$BATS_TEST_TMPDIR/run.out" "Ctrl-C stops the relay."
	run cat "$BATS_TEST_TMPDIR/run.out"
	[[ "$output" == *"relay: POST /new made no account (503): account creation is blocked by the operator"* ]]
	[[ "$output" == *"relay: remove $RUN_DIR/blocked (or: CHATMAIL_INI=$RUN_DIR/chatmail.ini chatmailctl unblock)"* ]]
	[[ "$output" == *"new account: none made"* ]]
	[[ "$output" != *null* ]]
	# the way out works while make run goes on
	rm "$RUN_DIR/blocked"
	"$ROOT/scripts/relay" account | jq -e '.email | endswith("@chat.test")'
	kill -TERM "$RUN_PID"
	wait "$RUN_PID"
	RUN_PID=
	run "$ROOT/scripts/relay" status
	echo "$output"
	[ "$(grep -c stopped <<<"$output")" -eq 9 ]
}
