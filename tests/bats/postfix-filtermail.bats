#!/usr/bin/env bats
# filtermail behind a real Postfix, wired by the relay's master.cf: smtpd_proxy_filter hands
# each message to a spawn(8)-started filtermail, which gives accepted mail back to the reinject
# smtpd. Users submit with SASL (Dovecot, doveauth); the queue delivers to a recording sink.

load lib/common
load lib/filtermail
load lib/postfix

ALICE=alice0001@example.org
PASSWORD=secret-password-1
BOB=bob000001@example.net

setup_file() {
	postfix_start
}

teardown_file() {
	postfix_stop
}

setup() {
	M=$BATS_TEST_TMPDIR/message.eml
}

teardown() {
	# sanitizer reports of every spawned filtermail and doveauth land here
	for report in "$PF"/sanitizer*; do
		[ -e "$report" ] || continue
		cat "$report" >&2
		return 1
	done
}

@test "filtermail+postfix: an encrypted message submitted with SASL is delivered, whole" {
	encrypted_message "$ALICE" "$BOB" >"$M"
	run submit "$ALICE" "$PASSWORD" "$ALICE" "$BOB" "$M"
	[ "$status" -eq 0 ]
	[[ "$output" == *"< 250 2.0.0 Ok: queued as "* ]]
	wait_sink 1
	delivered=$(sink_with "$(grep -A2 'BEGIN PGP MESSAGE' "$M" | tail -1)")
	[ -n "$delivered" ]
	# the encrypted body arrives byte for byte
	diff <(sed -n '/^-----BEGIN PGP MESSAGE/,/^-----END PGP MESSAGE/p' "$M") \
		<(tr -d '\r' <"$delivered" | sed -n '/^-----BEGIN PGP MESSAGE/,/^-----END PGP MESSAGE/p')
	grep -q 'Outgoing: Filtering encrypted mail.' "$PF/filtermail.log"
	# Postfix started filtermail through spawn and handed the client's data through it
	grep -q 'proxy-accept: END-OF-MESSAGE: 250 2.0.0 Ok: queued as' "$PF/postfix.log"
}

@test "filtermail+postfix: a cleartext message submitted with SASL is refused with 523 and goes nowhere" {
	before=$(find "$PF/sink" -name '*.eml' | wc -l)
	plain_message "$ALICE" "$BOB" >"$M"
	run submit "$ALICE" "$PASSWORD" "$ALICE" "$BOB" "$M"
	[ "$status" -ne 0 ]
	[[ "$output" == *"< 523 Encryption Needed: Invalid Unencrypted Mail"* ]]
	grep -q "Rejected unencrypted mail from: $ALICE" "$PF/filtermail.log"
	grep -q 'proxy-reject: END-OF-MESSAGE: 523 Encryption Needed' "$PF/postfix.log"
	sleep 1
	[ "$(find "$PF/sink" -name '*.eml' | wc -l)" -eq "$before" ]
	[ -z "$(sink_with 'cleartext')" ]
}

@test "filtermail+postfix: the send rate's 450 reaches the user through Postfix" {
	carol=carol0001@example.org
	echo "max_user_send_burst_size = 2" >>"$PF/chatmail.ini"
	echo "max_user_send_per_minute = 1" >>"$PF/chatmail.ini"
	encrypted_message "$carol" "$BOB" >"$M"
	run submit "$carol" "$PASSWORD" "$carol" "$BOB" "$M"
	[ "$status" -eq 0 ]
	run submit "$carol" "$PASSWORD" "$carol" "$BOB" "$M"
	[ "$status" -eq 0 ]
	run submit "$carol" "$PASSWORD" "$carol" "$BOB" "$M"
	sed -i '/^max_user_send/d' "$PF/chatmail.ini"
	[ "$status" -ne 0 ]
	[[ "$output" == *"< 450 4.7.1: Too much mail from $carol"* ]]
}

@test "filtermail+postfix: with the reinject port unreachable the user gets 451 and may retry" {
	port=$(free_port)
	echo "postfix_reinject_port = $port" >>"$PF/chatmail.ini"
	encrypted_message "$ALICE" "$BOB" >"$M"
	run submit "$ALICE" "$PASSWORD" "$ALICE" "$BOB" "$M"
	sed -i "/^postfix_reinject_port = $port\$/d" "$PF/chatmail.ini"
	[ "$status" -ne 0 ]
	[[ "$output" == *"< 451 4.3.0 Error: mail queue unavailable, try again later"* ]]
	grep -q "cannot hand the message to 127.0.0.1:$port" "$PF/filtermail.log"
}

@test "filtermail+postfix: port 25 refuses cleartext for a user who enforces encryption, takes encrypted" {
	dave=dave00001@example.org
	pf_account "$dave"
	plain_message erin@example.net "$dave" >"$M"
	run deliver erin@example.net "$dave" "$M"
	[ "$status" -ne 0 ]
	[[ "$output" == *"< 523 Encryption Needed: Invalid Unencrypted Mail"* ]]
	grep -q 'Incoming: Filtering unencrypted mail.' "$PF/filtermail.log"

	encrypted_message erin@example.net "$dave" >"$M"
	before=$(find "$PF/sink" -name '*.eml' | wc -l)
	run deliver erin@example.net "$dave" "$M"
	[ "$status" -eq 0 ]
	wait_sink $((before + 1))
	grep -q 'Incoming: Filtering encrypted mail.' "$PF/filtermail.log"
	# the reinject smtpd took the original client's attributes (XFORWARD) for its log
	grep -q 'postfix/reinject_incoming/smtpd.*xforward=1' "$PF/postfix.log"
}

@test "filtermail+postfix: port 25 lets cleartext in for a user who has not asked for protection, dots intact" {
	frank=frank0001@example.org
	pf_account "$frank" open
	plain_message erin@example.net "$frank" >"$M"
	before=$(find "$PF/sink" -name '*.eml' | wc -l)
	run deliver erin@example.net "$frank" "$M"
	[ "$status" -eq 0 ]
	wait_sink $((before + 1))
	delivered=$(sink_with "To: <$frank>")
	[ -n "$delivered" ]
	# a line that starts with a dot survives smtpd, filtermail, the reinject smtpd and smtp
	grep -q '^\.a line that starts with a dot'$'\r''$' "$delivered"
}

@test "filtermail+postfix: two messages in one session each pass a filtermail of their own" {
	grace=grace0001@example.org
	pf_account "$grace"
	encrypted_message erin@example.net "$grace" >"$M"
	as_data "$M" >"$BATS_TEST_TMPDIR/data"
	before=$(find "$PF/sink" -name '*.eml' | wc -l)
	run "$TOOLS/smtpchat" -p "$SMTP_PORT" <<SCRIPT
> EHLO mx.example.net
<
> MAIL FROM:<erin@example.net>
<
> RCPT TO:<$grace>
<
> DATA
<
@ $BATS_TEST_TMPDIR/data
<
> MAIL FROM:<erin@example.net>
<
> RCPT TO:<$grace>
<
> DATA
<
@ $BATS_TEST_TMPDIR/data
<
> QUIT
<
SCRIPT
	[ "$(grep -c '^250 2.0.0 Ok: queued as ' <<<"$output")" -eq 2 ]
	wait_sink $((before + 2))
	[ "$(grep -c 'proxy-accept: END-OF-MESSAGE: 250 2.0.0 Ok: queued as .* to=<grace0001' \
		"$PF/postfix.log")" -eq 2 ]
}

# Each class of message that filtermail once read as encrypted while Postfix and every reader
# behind it see cleartext (issue 11): refused with 523 through the real Postfix, nothing queued.
@test "filtermail+postfix: headers that Postfix reads another way are refused with 523, nothing leaves" {
	local name
	for name in header-not-a-field header-space-before-colon header-blank-continuation \
		header-content-type-comment from-space-before-colon broken-duplicate-boundary \
		broken-unknown-cte; do
		corpus_message "$name.eml" "$ALICE" "$BOB" >"$M"
		run submit "$ALICE" "$PASSWORD" "$ALICE" "$BOB" "$M"
		echo "$name: $output" | grep '^< 5' || true
		[ "$status" -ne 0 ]
		[[ "$output" == *"< 523 Encryption Needed: Invalid Unencrypted Mail"* ]]
	done
	# a field longer than header_size_limit, which Postfix would truncate: folded into lines
	# of 1000 bytes (one line that long is refused anyway, as longer than 65536 octets)
	{
		printf 'X-Long: a'
		for _ in $(seq 103); do printf '\n %s' "$(head -c 998 /dev/zero | tr '\0' a)"; done
		printf '\n'
		encrypted_message "$ALICE" "$BOB"
	} >"$M"
	run submit "$ALICE" "$PASSWORD" "$ALICE" "$BOB" "$M"
	[[ "$output" == *"< 523 Encryption Needed: Invalid Unencrypted Mail"* ]]
	grep -q 'header field longer than header_size_limit' "$PF/filtermail.log"
	grep -q '^header_size_limit = 102400$' "$PF/etc/postfix/main.cf"
	sleep 1
	[ -z "$(sink_with 'X-Test-Purpose')" ]
	[ -z "$(sink_with 'X-Long: aaaa')" ]
	[ -z "$(sink_with 'This line is no field')" ]
}

@test "filtermail+postfix: an armored part in base64 or quoted-printable passes and arrives byte for byte" {
	local name before delivered
	for name in encrypted-base64-armor encrypted-qp-armor; do
		corpus_message "$name.eml" "$ALICE" "$BOB" >"$M"
		before=$(find "$PF/sink" -name '*.eml' | wc -l)
		run submit "$ALICE" "$PASSWORD" "$ALICE" "$BOB" "$M"
		[ "$status" -eq 0 ]
		wait_sink $((before + 1))
		delivered=$(sink_with "<$name@chat.example.org>")
		[ -n "$delivered" ]
		diff <(sed -n '/^Content-Transfer-Encoding/,$p' "$M") \
			<(tr -d '\r' <"$delivered" | sed -n '/^Content-Transfer-Encoding/,$p')
	done
}

@test "filtermail+postfix: no spelling of a protected recipient gets cleartext in on port 25" {
	local henry=henry0001@example.org spelling
	pf_account "$henry"
	plain_message erin@example.net "$henry" >"$M"
	for spelling in "${henry^^}" "henry0001+x@example.org" '"henry0001"@example.org' \
		"henry0001@example.org." "HENRY0001+Tag@Example.ORG"; do
		run deliver erin@example.net "$spelling" "$M"
		echo "$spelling: $(grep '^< [45]' <<<"$output")"
		[ "$status" -ne 0 ]
		[[ "$output" == *"< 523 Encryption Needed: Invalid Unencrypted Mail"* ]]
	done
	[ -z "$(sink_with "To: <$henry>")" ]
}

@test "filtermail+postfix: port 25 refuses a recipient without an account at RCPT, no bounce" {
	run deliver erin@example.net nobody001@example.org "$M"
	[ "$status" -ne 0 ]
	[[ "$output" == *"< 550 5.1.1 Recipient address rejected: User unknown"* ]]
	refute grep -q 'status=bounced' "$PF/postfix.log"
}

@test "filtermail+postfix: a sender with a trailing dot gets 553, not a second rate budget" {
	encrypted_message "$ALICE" "$BOB" >"$M"
	run submit "$ALICE" "$PASSWORD" "$ALICE." "$BOB" "$M"
	echo "$output" | grep '^< [245]'
	[ "$status" -ne 0 ]
	[[ "$output" == *"< 553 5.7.1 "* ]]
}

@test "filtermail+postfix: a remote server with a 300-byte HELO still delivers (XFORWARD cut)" {
	local ivan=ivan00001@example.org before
	pf_account "$ivan"
	encrypted_message erin@example.net "$ivan" >"$M"
	as_data "$M" >"$BATS_TEST_TMPDIR/data"
	before=$(find "$PF/sink" -name '*.eml' | wc -l)
	run "$TOOLS/smtpchat" -p "$SMTP_PORT" <<SCRIPT
> EHLO $(head -c 300 /dev/zero | tr '\0' h).example.net
<
> MAIL FROM:<erin@example.net>
<
> RCPT TO:<$ivan>
<
> DATA
<
@ $BATS_TEST_TMPDIR/data
<
> QUIT
<
SCRIPT
	echo "$output"
	[ "$(grep -c '^250 2.0.0 Ok: queued as ' <<<"$output")" -eq 1 ]
	wait_sink $((before + 1))
}
