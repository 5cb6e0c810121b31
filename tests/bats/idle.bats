#!/usr/bin/env bats
# Idle Delta Chat clients on the whole relay: IMAP hibernation (imap_hibernate_timeout, here 2 s)
# moves them into imap-hibernate; new mail and commands bring them back. Driven by
# tests/tools/imapidle, a few IMAPS clients in IDLE, each its own account.

load lib/common
load lib/relay

CLIENTS=5

setup_file() {
	export IMAP_HIBERNATE_TIMEOUT=2s INI_EXTRA="max_imap_connections = 300"
	relay_start chat.test >"$BATS_FILE_TMPDIR/start.out" 2>&1
}

teardown_file() {
	relay_stop
}

# wait_hibernated: waits up to 15 s until no imap process is left: every client hibernated.
wait_hibernated() {
	local i
	for ((i = 0; i < 150; i++)); do
		[ "$(dovecot_children imap)" = 0 ] && return 0
		sleep 0.1
	done
	echo "imap processes left: $(dovecot_children imap)" >&2
	return 1
}

# ask COMMAND: one command to the clients, their answer in $answer.
ask() {
	echo "$1" >&"${CLIENTS_IO[1]}"
	read -r -t 30 answer <&"${CLIENTS_IO[0]}"
	echo "$1: $answer" >&2
}

@test "the limits for idle clients follow max_imap_connections" {
	relay_ports
	CHATMAIL_INI=$RUN_DIR/chatmail.ini run "$BIN/chatmail-render" --values "$LAYOUT/local.values" \
		-D run_dir=/x -D bin_dir=/y -D listen=127.0.0.1 "${PORT_DEFINES[@]}" --get imap_hibernate_timeout dovecot_client_limit dovecot_fd_limit \
		inotify_max_user_instances inotify_max_user_watches somaxconn nginx_worker_connections nginx_fd_limit
	[ "$status" -eq 0 ]
	[ "$output" = "30s"$'\n'"1000"$'\n'"3024"$'\n'"600"$'\n'"9600"$'\n'"4096"$'\n'"1624"$'\n'"2648" ]
	grep -qxF '	worker_connections 1624;' "$RUN_DIR/etc/nginx/nginx.conf"
	grep -qxF 'worker_rlimit_nofile 2648;' "$RUN_DIR/etc/nginx/nginx.conf"
	run doveconf -c "$RUN_DIR/etc/dovecot/dovecot.conf" -h imap_hibernate_timeout
	# Dovecot 2.4 prints the time as it is written
	if [ "$(relay_dovecot_version)" = 2.3 ]; then
		[ "$output" = "2 secs" ]
	else
		[ "$output" = 2s ]
	fi
	run doveconf -c "$RUN_DIR/etc/dovecot/dovecot.conf" -h default_client_limit
	[ "$output" = 1000 ]
	grep -qx 'fs.inotify.max_user_instances = 600' "$RUN_DIR/etc/sysctl.d/90-chatmail.conf"
	grep -qx 'LimitNOFILE=3024' "$RUN_DIR/etc/systemd/dovecot.service.d/chatmail.conf"
}

@test "a hibernated IDLE client is woken by new mail and a command is answered normally" {
	coproc CLIENTS_IO { exec "$BIN/tools/imapidle" 127.0.0.1 "$IMAPS_PORT" "$SMTPS_PORT" \
		chat.test "$CLIENTS" h "$ROOT/tests/data/eml/encrypted.eml" 2>"$BATS_TEST_TMPDIR/err"; }
	read -r -t 60 answer <&"${CLIENTS_IO[0]}"
	[[ "$answer" == "idle $CLIENTS 0 "* ]]
	wait_hibernated
	[ "$(dovecot_children imap-hibernate)" = 1 ]

	# new mail for client 0: its EXISTS within a second of the SMTP 250
	ask "deliver 0"
	[[ "$answer" =~ ^exists\ 0\ ([0-9]+)\. ]]
	[ "${BASH_REMATCH[1]}" -lt 1000 ]
	# client 1, still hibernated, ends IDLE and sends NOOP: both answered OK
	ask "noop 1"
	[[ "$answer" == "noop 1 "* ]]
	ask alive
	[ "$answer" = "alive $CLIENTS" ]
	# the woken clients hibernate again, and are woken again
	wait_hibernated
	ask "deliver 1"
	[[ "$answer" == "exists 1 "* ]]
	echo quit >&"${CLIENTS_IO[1]}"
	wait "$CLIENTS_IO_PID"

	# Dovecot's log: the sessions of the clients hibernated at the end (all but client 1) ended
	# in imap-hibernate, and inotify never failed.
	local log=$RUN_DIR/log/dovecot.log i
	for ((i = 0; i < 50; i++)); do
		[ "$(grep -c 'imap-hibernate(h0000000[02-4]@chat.test).*Disconnected' "$log")" = 4 ] && break
		sleep 0.1
	done
	cat "$log" >&2
	[ "$(grep -c 'imap-hibernate(h0000000[02-4]@chat.test).*Disconnected' "$log")" = 4 ]
	refute grep -q 'Inotify instance limit' "$log"
	refute grep -qi 'imap-hibernate.*\(error\|fatal\|permission denied\)' "$log"
}

@test "the relay's start warns about each kernel setting below the drop-in and changes none" {
	local live
	live=$(sysctl -n fs.inotify.max_user_instances)
	if [ "$live" -lt 600 ]; then
		grep -qx "relay: warning: fs.inotify.max_user_instances is $live, this relay wants 600" \
			"$BATS_FILE_TMPDIR/start.out"
		grep -q 'RELAY_SYSCTL=raise raises these settings' "$BATS_FILE_TMPDIR/start.out"
	else
		refute grep -q max_user_instances "$BATS_FILE_TMPDIR/start.out"
	fi
	refute grep -q '^relay: raised' "$BATS_FILE_TMPDIR/start.out"
}

@test "relay_kernel_limits lists the low settings, and raises only those with raise" {
	# a stand-in sysctl: instances 128, watches 500000 (above the 9600 wanted), -w recorded
	cat >"$BATS_TEST_TMPDIR/sysctl" <<'FAKE'
#!/bin/bash
case "$*" in
"-n fs.inotify.max_user_instances") echo 128 ;;
-n*) echo 500000 ;;
*) echo "$*" >>"${0%/*}/written" ;;
esac
FAKE
	chmod 755 "$BATS_TEST_TMPDIR/sysctl"
	local file=$RUN_DIR/etc/sysctl.d/90-chatmail.conf
	SYSCTL=$BATS_TEST_TMPDIR/sysctl run relay_kernel_limits "$file"
	[ "$status" -eq 1 ]
	[ "$output" = "fs.inotify.max_user_instances 128 600" ]
	[ ! -e "$BATS_TEST_TMPDIR/written" ]
	SYSCTL=$BATS_TEST_TMPDIR/sysctl run relay_kernel_limits "$file" raise
	[ "$status" -eq 0 ]
	[ "$output" = "fs.inotify.max_user_instances 128 -> 600" ]
	[ "$(cat "$BATS_TEST_TMPDIR/written")" = "-q -w fs.inotify.max_user_instances=600" ]
}
