#!/usr/bin/env bats
# Push notifications (SPEC 5a) on the local relay with every real daemon: a token set over IMAP,
# deliveries through Dovecot's LMTP and push_notification.lua, chatmail-metadata's queue and
# chatmail-notifier's POSTs to a recording notification server on loopback. The retry delays
# are scaled down (CHATMAIL_PUSH_RETRY_SCALE): 8, 64, 512, 4096 ms, which the queue's whole
# seconds make 1, 1, 1 and 5 s; given up after 18 s.

load lib/common
load lib/relay
load lib/push

setup_file() {
	push_server_start
	export CHATMAIL_PUSH_RETRY_SCALE=0.001
	export INI_EXTRA="push_notification_url = http://127.0.0.1:$PUSH_PORT/notify"
	relay_start
}

teardown_file() {
	relay_stop
	push_server_stop
}

setup() {
	rm -f "$PUSH_DIR/status" "$PUSH_DIR/hang"
	account_vars A
	account_vars B
	TOKEN="openpgp:$RANDOM$RANDOM${BATS_TEST_NUMBER}a"
}

@test "a device token set over IMAP is read back by GETMETADATA" {
	run set_token "$A" "$A_PASSWORD" "$TOKEN"
	[ "$status" -eq 0 ]
	run imap "$A" "$A_PASSWORD" 'GETMETADATA INBOX (/private/devicetoken)'
	[ "$status" -eq 0 ]
	[[ "$output" == *"$TOKEN"* ]]
	[ -f "$RUN_DIR/vmail/mail/$A/devicetokens" ]
}

@test "a delivery from another account POSTs the token exactly once, within a second" {
	set_token "$A" "$A_PASSWORD" "$TOKEN"
	deliver "$B" "$A"
	wait_posts_of "$TOKEN" 1 1
	sleep 0.5
	[ "$(posts_of "$TOKEN")" -eq 1 ]
}

@test "two devices of one account: one POST for each token" {
	set_token "$A" "$A_PASSWORD" "$TOKEN"
	set_token "$A" "$A_PASSWORD" "${TOKEN}b"
	set_token "$A" "$A_PASSWORD" "$TOKEN" # a device sends its token again: still one
	deliver "$B" "$A"
	wait_posts_of "$TOKEN" 1
	wait_posts_of "${TOKEN}b" 1
	sleep 0.5
	[ "$(posts_of "$TOKEN")" -eq 1 ]
	[ "$(posts_of "${TOKEN}b")" -eq 1 ]
}

@test "a 410 answer removes the token: the next delivery POSTs nothing" {
	set_token "$A" "$A_PASSWORD" "$TOKEN"
	echo 410 >"$PUSH_DIR/status"
	deliver "$B" "$A"
	wait_posts_of "$TOKEN" 1
	sleep 0.5
	run imap "$A" "$A_PASSWORD" 'GETMETADATA INBOX (/private/devicetoken)'
	[[ "$output" != *"$TOKEN"* ]]
	rm -f "$PUSH_DIR/status"
	deliver "$B" "$A"
	sleep 1
	[ "$(posts_of "$TOKEN")" -eq 1 ]
	grep -q "removed a device token of $A" "$RUN_DIR/log/push.log"
}

@test "a 500 answer is retried on the schedule until a 200" {
	set_token "$A" "$A_PASSWORD" "$TOKEN"
	echo 500 >"$PUSH_DIR/status"
	deliver "$B" "$A"
	wait_posts_of "$TOKEN" 3 4 # at once, then 1 s and 1 s later (8 and 64 ms scaled, rounded up)
	rm -f "$PUSH_DIR/status"
	wait_posts_of "$TOKEN" 4 3 # the next retry is answered 200
	sleep 6                    # past the last retry of the schedule: nothing more
	[ "$(posts_of "$TOKEN")" -eq 4 ]
}

@test "a notification server that is down at delivery gets the POST when it is back" {
	set_token "$A" "$A_PASSWORD" "$TOKEN"
	push_server_stop
	deliver "$B" "$A"
	sleep 0.3
	[ "$(posts_of "$TOKEN")" -eq 0 ]
	push_server_start
	wait_posts_of "$TOKEN" 1 5
	grep -q "Push notification failed for $A" "$RUN_DIR/log/push.log"
}

@test "mail an account sends to itself notifies nothing" {
	set_token "$A" "$A_PASSWORD" "$TOKEN"
	deliver "$A" "$A"
	sleep 1
	[ "$(posts_of "$TOKEN")" -eq 0 ]
	deliver "$B" "$A" # the same token does notify for another sender
	wait_posts_of "$TOKEN" 1
}

@test "LMTP delivery with a notification server that never answers is as fast as with one that does" {
	set_token "$A" "$A_PASSWORD" "$TOKEN"
	# both deliveries queue a notification; only the notification server differs
	answered=$(deliver "$B" "$A" 10 | sort -n | sed -n 5p)
	touch "$PUSH_DIR/hang"
	hanging=$(deliver "$B" "$A" 10 | sort -n | sed -n 5p)
	rm -f "$PUSH_DIR/hang"
	echo "median LMTP delivery: ${answered} ms (server answers), ${hanging} ms (server hangs)"
	# delivery never waits for the notifier: the same time, give or take the machine's noise
	awk -v h="$hanging" -v a="$answered" 'BEGIN { exit !(h < a * 1.5 + 10) }'
}

@test "device tokens survive a relay restart; a queued notification is sent after it" {
	set_token "$A" "$A_PASSWORD" "$TOKEN"
	push_server_stop
	deliver "$B" "$A"
	AUTH_VSZ_LIMIT=0 "$ROOT/scripts/relay" start >/dev/null 2>&1 # as relay_start does
	push_server_start
	wait_posts_of "$TOKEN" 1 5
	run imap "$A" "$A_PASSWORD" 'GETMETADATA INBOX (/private/devicetoken)'
	[[ "$output" == *"$TOKEN"* ]]
	deliver "$B" "$A"
	wait_posts_of "$TOKEN" 2
}

@test "chatmailctl delete removes the account's tokens with it" {
	set_token "$A" "$A_PASSWORD" "$TOKEN"
	CHATMAIL_INI=$RUN_DIR/chatmail.ini run "$BIN/chatmailctl" delete "$A"
	[ "$status" -eq 0 ]
	[ ! -e "$RUN_DIR/vmail/mail/$A/devicetokens" ]
	deliver "$B" "$A" 2>/dev/null || true
	sleep 1
	[ "$(posts_of "$TOKEN")" -eq 0 ]
}
