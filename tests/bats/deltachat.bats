#!/usr/bin/env bats
# Real Delta Chat clients (deltachat-rpc-server from npm, driven by tests/e2e/e2e.mjs) against
# the whole local relay: accounts from the relay's QR code, Secure-Join, encrypted messages and
# files, a group, the 523 for unencrypted mail, and a client that was off. Devices A, B and C
# keep their account directories for the whole file, as a user's phones would.

load lib/common
load lib/relay

setup_file() {
	e2e_installed
	# The default send rate (burst of 10) makes Delta Chat back off for 30-90 s in the burst
	# test, and a busy test machine must not refuse new accounts; both limits have their own
	# tests. An IP-only relay: POST /new gives a dclogin: URL.
	export INI_EXTRA="max_user_send_per_minute = 600
max_user_send_burst_size = 100
max_load_1m = 100000"
	relay_start 127.0.0.1
	export E2E_DIR=$BATS_FILE_TMPDIR/devices
}

teardown_file() {
	relay_stop
}

# dc COMMAND ARGS...: one command of the driver (see tests/e2e/e2e.mjs).
dc() {
	node "$ROOT/tests/e2e/e2e.mjs" "$@"
}

# address NAME / password NAME: of a device's account, as POST /new made it.
address() {
	jq -r .email "$E2E_DIR/$1/account.json"
}
password() {
	jq -r .password "$E2E_DIR/$1/account.json"
}

log_lines() {
	grep -c "$1" "$RUN_DIR/log/$2" || true
}

@test "Delta Chat configures an account from the relay's dclogin: QR code alone" {
	for name in A B C; do
		run dc account "$name"
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"ok: $name configured "*"@[127.0.0.1] from a login QR code"* ]]
		# Delta Chat saw the relay's XCHATMAIL capability
		[[ "$output" == *"ok: $name is_chatmail=1"* ]]
	done
	# three different accounts, each made by POST /new and logged in by Delta Chat
	[ "$(printf '%s\n' "$(address A)" "$(address B)" "$(address C)" | sort -u | wc -l)" -eq 3 ]
	for name in A B C; do
		grep -qF "Created address: $(address "$name")" "$RUN_DIR/log/newemail.log"
		grep -qF "$(dovecot_login_line "$(address "$name")")" "$RUN_DIR/log/dovecot.log"
	done
}

@test "Delta Chat reads the web page's dcaccount: QR code as an account offer of the relay" {
	qr=$(grep -o 'dcaccount:https://[^"<]*' "$RUN_DIR/www/index.html" | head -1)
	[ "$qr" = "dcaccount:https://127.0.0.1/new" ]
	run dc scan A "$qr"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok: A reads it as account for 127.0.0.1"* ]]
}

@test "Delta Chat: A joins B's invite QR code and both have a verified, encrypted chat" {
	rejected=$(log_lines 'Rejected unencrypted mail' filtermail.log)
	run dc join A B
	echo "$output"
	[ "$status" -eq 0 ]
	# Delta Chat 2.x starts with a symmetrically encrypted vc-request-pubkey (Secure-Join v3)
	[[ "$output" == *"ok: A sent vc-request-pubkey, vc-request-with-auth"* ]]
	[[ "$output" == *"ok: A and B see each other as verified"* ]]
	[[ "$output" == *"ok: both chats are encrypted"* ]]
	[ "$(log_lines 'Rejected unencrypted mail' filtermail.log)" = "$rejected" ]
}

@test "Delta Chat: an older client's unencrypted vc-request passes filtermail and the join succeeds" {
	run dc join C B classic
	echo "$output"
	[ "$status" -eq 0 ]
	# the classic protocol's first step goes in plain text (filtermail logs it as encrypted, as
	# the reference does); B answered it, so it passed
	[[ "$output" == *"ok: C sent vc-request, vc-request-with-auth"* ]]
	[[ "$output" == *"ok: C and B see each other as verified"* ]]
	refute grep -qF "Rejected unencrypted mail from: $(address C)" "$RUN_DIR/log/filtermail.log"
}

@test "Delta Chat: a text and a 1 MiB file reach B encrypted, and B's reply reaches A" {
	run dc exchange A B
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok: B got the text and the 1 MiB file, both with a padlock, the file byte"* ]]
	[[ "$output" == *"ok: A got B's reply with a padlock in the same chat"* ]]
	refute grep -q 'Rejected unencrypted mail' "$RUN_DIR/log/filtermail.log"
}

@test "Delta Chat: in a group of three every member's message reaches the two others" {
	run dc group A B C
	group_complete
}

@test "Delta Chat on a chatmail relay refuses by itself to send to an address without a key" {
	outgoing=$(log_lines 'Outgoing:' filtermail.log)
	run dc unencrypted A nokey@example.org
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok: A shows the message as failed: "*"requires end-to-end encryption"* ]]
	# nothing reached the relay's filter
	[ "$(log_lines 'Outgoing:' filtermail.log)" = "$outgoing" ]
}

@test "Delta Chat: plain mail to another domain fails with the relay's 523, shown to A, delivered nowhere" {
	run dc unencrypted A someone@example.org plain
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok: A shows the message as failed: "*"Encryption Needed: Invalid Unenc"* ]]
	grep -qF "Rejected unencrypted mail from: $(address A)" "$RUN_DIR/log/filtermail.log"
	grep -q "523 Encryption Needed.*to=<someone@example.org>" "$RUN_DIR/log/postfix.log"
	# refused before queueing: nothing waits for delivery, nothing went out or bounced
	run postqueue -c "$RUN_DIR/etc/postfix" -p
	[[ "$output" == *"Mail queue is empty"* ]]
	refute grep -q "to=<someone@example.org>.*status=" "$RUN_DIR/log/postfix.log"
}

@test "Delta Chat: B's client was off while A sent 20 messages; B gets all 20, in order, none twice" {
	run dc meet A B
	[ "$status" -eq 0 ]
	before=$(inbox_count "$(address B)" "$(password B)")
	run dc send-burst A B 20
	echo "$output"
	[ "$status" -eq 0 ]
	# the relay holds them for B while B's client is off
	wait_inbox "$(address B)" "$(password B)" $((before + 20))
	run dc receive-burst B A
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok: B got all 20 messages, in order, none twice"* ]]
}

@test "Delta Chat: idle clients hibernate (no imap process left), and a new message still arrives" {
	# the relay's default imap_hibernate_timeout, 30 s
	local out=$BATS_TEST_TMPDIR/idle.out i hibernated=
	dc idle A B 45 >"$out" 2>&1 &
	local pid=$!
	for ((i = 0; i < 1200; i++)); do
		grep -q "ok: A and B are online" "$out" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "ok: A and B are online" "$out"
	echo "imap processes with A and B online: $(dovecot_children imap)"
	[ "$(dovecot_children imap)" -gt 0 ]
	for ((i = 0; i < 440; i++)); do
		[ "$(dovecot_children imap)" = 0 ] && hibernated=yes && break
		sleep 0.1
	done
	wait "$pid" || { cat "$out"; false; }
	cat "$out"
	[ "$hibernated" = yes ]
	grep -q "ok: B got A's text" "$out"
}
