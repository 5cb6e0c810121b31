#!/usr/bin/env bats
# POST /mxdeliv (SPEC §5b) on a whole relay (scripts/relay): nginx, the mxdeliv FastCGI app,
# Postfix's incoming reinject port, Dovecot. Another relay's delivery is played by curl. Senders
# write From: x@[192.0.2.1], an address literal, which is exempt from DKIM (no DNS here); the DKIM
# refusal is that of a domain sender without a signature.

load lib/common
load lib/relay

setup_file() {
	# a small limit, so that the 413 test needs no big body
	INI_EXTRA="max_message_size = 200000" relay_start chat.test
	export MXDELIV_URL="https://127.0.0.1:$HTTPS_PORT/mxdeliv"
	read -r ADDR PASS <<<"$(new_account)"
	read -r ADDR2 PASS2 <<<"$(new_account)"
	export ADDR PASS ADDR2 PASS2
}

teardown_file() {
	relay_stop
}

setup() {
	M=$BATS_TEST_TMPDIR/message.eml
	SENDER='x@[192.0.2.1]'
}

# post FILE [CURL ARGS...]: POSTs FILE to /mxdeliv; $code is the status, $body the answer.
post() {
	local file=$1 out
	shift
	out=$(curl -sS --insecure --max-time 30 -o "$BATS_TEST_TMPDIR/answer" -w '%{http_code}' \
		-H 'Content-Type: message/rfc822' --data-binary "@$file" "$@" "$MXDELIV_URL")
	code=$out
	body=$(cat "$BATS_TEST_TMPDIR/answer")
	echo "POST /mxdeliv: $code $body"
}

@test "mxdeliv: an encrypted message POSTed for an account is stored, the answer is 200 with the SMTP reply" {
	encrypted_message "$SENDER" "$ADDR" >"$M"
	post "$M" -H "X-Mail-From: $SENDER" -H "X-Mail-To: $ADDR"
	[ "$code" = 200 ]
	[[ "$body" == "250 2.0.0 Ok: queued as "* ]]
	wait_inbox "$ADDR" "$PASS" 1
	grep -q 'Incoming: Filtering encrypted mail.' "$RUN_DIR/log/mxdeliv.log"
	grep -q 'received mail from 127.0.0.1 over HTTPS for 1 recipient(s): 250' "$RUN_DIR/log/mxdeliv.log"
	# handed to the incoming reinject port as port 25's mail is, the client's address passed on
	grep -q 'postfix/reinject_incoming/smtpd.*client=unknown\[127.0.0.1\]' "$RUN_DIR/log/postfix.log"
	# nginx kept a record of this location only
	grep -q '"POST /mxdeliv HTTP/[0-9.]*" 200' "$RUN_DIR/log/mxdeliv-access.log"
}

@test "mxdeliv: one X-Mail-To line per recipient reaches each (nginx passes repeated lines on)" {
	encrypted_message "$SENDER" "$ADDR" >"$M"
	before1=$(inbox_count "$ADDR" "$PASS") before2=$(inbox_count "$ADDR2" "$PASS2")
	post "$M" -H "X-Mail-From: $SENDER" -H "X-Mail-To: $ADDR" -H "X-Mail-To: <$ADDR2>"
	[ "$code" = 200 ]
	wait_inbox "$ADDR" "$PASS" $((before1 + 1))
	wait_inbox "$ADDR2" "$PASS2" $((before2 + 1))
	grep -q 'received mail from 127.0.0.1 over HTTPS for 2 recipient(s): 250' "$RUN_DIR/log/mxdeliv.log"
	# and a list in one line, as nginx 1.23 and later join repeated lines
	post "$M" -H "X-Mail-From: $SENDER" -H "X-Mail-To: $ADDR, $ADDR2"
	[ "$code" = 200 ]
	wait_inbox "$ADDR" "$PASS" $((before1 + 2))
	wait_inbox "$ADDR2" "$PASS2" $((before2 + 2))
}

@test "mxdeliv: cleartext for a protected account is refused with 400 and 523, nothing stored" {
	before=$(inbox_count "$ADDR" "$PASS")
	plain_message "$SENDER" "$ADDR" >"$M"
	post "$M" -H "X-Mail-From: $SENDER" -H "X-Mail-To: $ADDR"
	[ "$code" = 400 ]
	[ "$body" = "523 Encryption Needed: Invalid Unencrypted Mail" ]
	grep -qF "Rejected unencrypted mail from: $SENDER" "$RUN_DIR/log/mxdeliv.log"
	sleep 1
	[ "$(inbox_count "$ADDR" "$PASS")" = "$before" ]
}

@test "mxdeliv: a recipient without an account is refused with 400 and 550 5.1.1" {
	encrypted_message "$SENDER" "nobody1234@chat.test" >"$M"
	post "$M" -H "X-Mail-From: $SENDER" -H "X-Mail-To: $ADDR" -H "X-Mail-To: nobody1234@chat.test"
	[ "$code" = 400 ]
	[ "$body" = "550 5.1.1 Recipient address rejected: User unknown" ]
	# another relay's domain is not ours either
	post "$M" -H "X-Mail-From: $SENDER" -H "X-Mail-To: someone@example.org"
	[ "$code" = 400 ]
	[[ "$body" == "550 5.1.1 "* ]]
}

@test "mxdeliv: a domain sender without a DKIM signature is refused with 400 and 554 5.7.1" {
	encrypted_message "someone@example.org" "$ADDR" >"$M"
	post "$M" -H "X-Mail-From: someone@example.org" -H "X-Mail-To: $ADDR"
	[ "$code" = 400 ]
	[ "$body" = "554 5.7.1 No DKIM signature found" ]
}

@test "mxdeliv: no recipient, two senders or a malformed address get 400 and 501" {
	encrypted_message "$SENDER" "$ADDR" >"$M"
	post "$M" -H "X-Mail-From: $SENDER"
	[ "$code" = 400 ]
	[[ "$body" == "501 5.5.4 "* ]]
	post "$M" -H "X-Mail-From: $SENDER" -H "X-Mail-From: y@[192.0.2.2]" -H "X-Mail-To: $ADDR"
	[ "$code" = 400 ]
	post "$M" -H "X-Mail-From: $SENDER" -H "X-Mail-To: a b@chat.test"
	[ "$code" = 400 ]
	[[ "$body" == "501 5.5.4 "* ]]
}

@test "mxdeliv: other methods get 405 with Allow: POST" {
	run curl -sS --insecure --max-time 10 -D - -o /dev/null "$MXDELIV_URL"
	[[ "$output" == "HTTP/"*" 405"* ]]
	grep -qi "^allow: POST" <<<"$output"
	run curl -sS --insecure --max-time 10 -o /dev/null -w '%{http_code}' -X PUT "$MXDELIV_URL"
	[ "$output" = 405 ]
}

@test "mxdeliv: a body over max_message_size gets 413 from nginx, and the app never sees it" {
	seen=$(wc -l <"$RUN_DIR/log/mxdeliv.log")
	{ encrypted_message "$SENDER" "$ADDR"; head -c 200001 /dev/zero | tr '\0' 'a'; } >"$M"
	post "$M" -H "X-Mail-From: $SENDER" -H "X-Mail-To: $ADDR"
	[ "$code" = 413 ]
	[ "$body" = "552 5.3.4 Message size exceeds fixed limit" ]
	[ "$(wc -l <"$RUN_DIR/log/mxdeliv.log")" = "$seen" ]
	grep -q '"POST /mxdeliv HTTP/[0-9.]*" 413' "$RUN_DIR/log/mxdeliv-access.log"
}

@test "mxdeliv: the rest of the web server keeps no access log" {
	curl -sS --insecure --max-time 10 -o /dev/null "https://127.0.0.1:$HTTPS_PORT/"
	refute grep -q 'GET / ' "$RUN_DIR/log/mxdeliv-access.log"
}

# The other wiring: the CGI program run by fcgiwrap (one process per request, the parameters
# its environment), rendered by the relay beside the FastCGI one.
@test "mxdeliv: under fcgiwrap too, every X-Mail-To line reaches its recipient" {
	local conf=$RUN_DIR/etc/nginx/nginx.conf vmail
	vmail=$(CHATMAIL_INI=$RUN_DIR/chatmail.ini "$BIN/chatmail-render" --get vmail_user)
	cp "$conf" "$BATS_TEST_TMPDIR/nginx.conf.orig"
	spawn-fcgi -s "$RUN_DIR/run/fcgiwrap.sock" -M 0660 -u "$vmail" -U www-data -G www-data \
		-P "$RUN_DIR/run/fcgiwrap.pid" -- /usr/sbin/fcgiwrap -p "$BIN/mxdeliv" >/dev/null 3>&-
	sed -i 's|mxdeliv-fastcgi.conf|mxdeliv-fcgiwrap.conf|' "$conf"
	nginx -c "$conf" -e "$RUN_DIR/log/nginx-error.log" -s reload
	sleep 1
	encrypted_message "$SENDER" "$ADDR" >"$M"
	before1=$(inbox_count "$ADDR" "$PASS") before2=$(inbox_count "$ADDR2" "$PASS2")
	post "$M" -H "X-Mail-From: $SENDER" -H "X-Mail-To: $ADDR" -H "X-Mail-To: $ADDR2"
	status_code=$code
	cp "$BATS_TEST_TMPDIR/nginx.conf.orig" "$conf"
	nginx -c "$conf" -e "$RUN_DIR/log/nginx-error.log" -s reload
	kill "$(cat "$RUN_DIR/run/fcgiwrap.pid")"
	[ "$status_code" = 200 ]
	wait_inbox "$ADDR" "$PASS" $((before1 + 1))
	wait_inbox "$ADDR2" "$PASS2" $((before2 + 1))
}
