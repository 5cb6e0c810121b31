#!/usr/bin/env bats
# filtermail run exactly as Postfix spawn(8) runs it (one socket on stdin, stdout and stderr),
# handing accepted mail to a recording sink: reply codes, and exactly what the sink received.

load lib/common
load lib/filtermail

ALICE=alice0001@example.org
BOB=bob000001@example.org

setup() {
	relay_dir
	sink_start
	sanitizer_to_files
}

teardown() {
	sink_stop
	no_sanitizer_reports
}

# send_session FILE: the script of one whole outgoing transaction from ALICE to BOB.
send_session() {
	cat <<EOF
> EHLO client.example
<
> MAIL FROM:<$ALICE> SIZE=$(wc -c <"$1")
<
> RCPT TO:<$BOB>
<
> DATA
<
@ $T/data
<
> QUIT
<
.
EOF
}

@test "filtermail: an encrypted message is forwarded whole and the client gets the downstream's answer" {
	encrypted_message "$ALICE" "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat outgoing < <(send_session "$T/msg")
	[ "${lines[0]}" = "220 example.org ESMTP filtermail" ]
	[ "${lines[7]}" = "250 2.1.0 Ok" ]
	[ "${lines[8]}" = "250 2.1.5 Ok" ]
	[ "${lines[9]}" = "354 End data with <CR><LF>.<CR><LF>" ]
	[ "${lines[10]}" = "250 2.0.0 Ok: queued as SINK" ]
	[ "${lines[11]}" = "221 2.0.0 Bye" ]
	[ "${lines[-1]}" = "[exit 0]" ]
	[ "$(sink_messages)" -eq 1 ]
	cmp <(crlf "$T/msg") "$T/sink"/*.eml
	grep -qx 'Outgoing: Filtering encrypted mail.' <(sed 's/^filtermail: info: //' "$T/log")
	# the envelope goes on as it came, with the size the downstream asked for
	grep -qx "MAIL FROM:<$ALICE> SIZE=$(crlf "$T/msg" | wc -c)"$'\r' <(sink_session)
	grep -qx "RCPT TO:<$BOB>"$'\r' <(sink_session)
	grep -qx 'QUIT'$'\r' <(sink_session)
}

@test "filtermail: an unencrypted outgoing message is refused with 523 and nothing reaches the sink" {
	plain_message "$ALICE" "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat outgoing < <(send_session "$T/msg")
	[ "${lines[10]}" = "523 Encryption Needed: Invalid Unencrypted Mail" ]
	[ "$(sink_messages)" -eq 0 ]
	[ -z "$(sink_session)" ]
	grep -q 'Outgoing: Filtering unencrypted mail.' "$T/log"
	grep -q "Rejected unencrypted mail from: $ALICE" "$T/log"
}

@test "filtermail: a From: header that is not the envelope sender is refused with 500" {
	encrypted_message "mallory01@example.org" "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat outgoing < <(send_session "$T/msg")
	[[ "${lines[10]}" == "500 "* ]]
	[ "$(sink_messages)" -eq 0 ]
}

@test "filtermail: MAIL FROM without exactly one @ is refused with 500 in outgoing mail" {
	run chat outgoing <<EOF
> EHLO client.example
<
> MAIL FROM:<>
<
> MAIL FROM:<alice@example.org@evil.example>
<
> MAIL FROM:<alice>
<
> MAIL FROM:<$ALICE>
<
EOF
	[[ "${lines[7]}" == "500 5.1.7 "* ]]
	[[ "${lines[8]}" == "500 5.1.7 "* ]]
	[[ "${lines[9]}" == "500 5.1.7 "* ]]
	[ "${lines[10]}" = "250 2.1.0 Ok" ]
}

@test "filtermail: a sender written other than as its canonical address is refused with 553" {
	# Postfix's login check lets these through for $ALICE; each would be a fresh rate budget
	local local_part=${ALICE%@*} spelling
	for spelling in "$ALICE." "$local_part+x@example.org" "\"$local_part\"@example.org"; do
		run chat outgoing <<<$'> HELO x\n<\n> MAIL FROM:<'"$spelling"$'>\n<\n'
		echo "$spelling: ${lines[2]}"
		[ "${lines[2]}" = "553 5.7.1 Sender address is not written as the login's address" ]
	done
	[ ! -e "$T/state/ratelimit.table" ]
}

@test "filtermail: the send rate is shared by all filtermail processes: over the burst, 450 4.7.1" {
	echo "max_user_send_per_minute = 1" >>"$CHATMAIL_INI"
	echo "max_user_send_burst_size = 3" >>"$CHATMAIL_INI"
	for i in 1 2 3; do
		run chat outgoing <<<$'> HELO x\n<\n> MAIL FROM:<'"$ALICE"$'>\n<\n'
		[ "${lines[2]}" = "250 2.1.0 Ok" ]
	done
	# the budget is the canonical address's, whatever the spelling
	run chat outgoing <<<$'> HELO x\n<\n> MAIL FROM:<'"${ALICE^^}"$'>\n<\n'
	[ "${lines[2]}" = "450 4.7.1: Too much mail from $ALICE" ]
	grep -q "Too much mail from $ALICE" "$T/log"
	# another sender has a budget of its own
	run chat outgoing <<<$'> HELO x\n<\n> MAIL FROM:<'"$BOB"$'>\n<\n'
	[ "${lines[2]}" = "250 2.1.0 Ok" ]
	[ -f "$T/state/ratelimit.table" ]
}

@test "filtermail: a send rate that cannot be read is a temporary failure, not a free pass" {
	rm -rf "$T/state"
	touch "$T/state" # a file where the directory should be
	run chat outgoing <<<$'> HELO x\n<\n> MAIL FROM:<'"$ALICE"$'>\n<\n'
	[[ "${lines[2]}" == "451 4.3.0 "* ]]
}

@test "filtermail: dot-stuffing is undone on receipt and done again towards the downstream" {
	echo "passthrough_senders = $ALICE" >>"$CHATMAIL_INI"
	plain_message "$ALICE" "$BOB" >"$T/msg"
	printf '..\n.\n' >>"$T/msg" # lines of dots only
	as_data "$T/msg" >"$T/data"
	run chat outgoing < <(send_session "$T/msg")
	[ "${lines[10]}" = "250 2.0.0 Ok: queued as SINK" ]
	cmp <(crlf "$T/msg") "$T/sink"/*.eml
	grep -qx '\.\.a line that starts with a dot'$'\r' <(sink_session)
	grep -qx '\.\.\.'$'\r' <(sink_session)
	grep -qx '\.\.'$'\r' <(sink_session)
}

@test "filtermail: a pipelined transaction in one write gets every reply in order" {
	encrypted_message "$ALICE" "$BOB" >"$T/msg"
	{
		printf 'EHLO x\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n' \
			"$ALICE" "$BOB" "$ALICE"
		as_data "$T/msg"
		printf 'QUIT\r\n'
	} >"$T/data"
	run chat outgoing <<<$'@ '"$T/data"$'\n.'
	[ "${lines[7]}" = "250 2.1.0 Ok" ]
	[ "${lines[8]}" = "250 2.1.5 Ok" ]
	[ "${lines[9]}" = "250 2.1.5 Ok" ]
	[ "${lines[10]}" = "354 End data with <CR><LF>.<CR><LF>" ]
	[ "${lines[11]}" = "250 2.0.0 Ok: queued as SINK" ]
	[ "${lines[12]}" = "221 2.0.0 Bye" ]
	[ "${lines[13]}" = "<eof>" ]
	[ "$(grep -c '^RCPT TO:' <(sink_session))" -eq 2 ]
}

@test "filtermail: commands out of order are refused with 503 (or 554 for DATA without recipients)" {
	run chat outgoing <<EOF
> MAIL FROM:<$ALICE>
<
> EHLO x
<
> RCPT TO:<$BOB>
<
> DATA
<
> MAIL FROM:<$ALICE>
<
> DATA
<
> MAIL FROM:<$ALICE>
<
> XFORWARD NAME=x
<
> RSET
<
> RCPT TO:<$BOB>
<
EOF
	[ "${lines[1]}" = "503 5.5.1 Error: send HELO/EHLO first" ]
	[ "${lines[8]}" = "503 5.5.1 Error: need MAIL command" ]
	[ "${lines[9]}" = "503 5.5.1 Error: need RCPT command" ]
	[ "${lines[10]}" = "250 2.1.0 Ok" ]
	[ "${lines[11]}" = "554 5.5.1 Error: no valid recipients" ]
	[ "${lines[12]}" = "503 5.5.1 Error: nested MAIL command" ]
	[ "${lines[13]}" = "503 5.5.1 Error: MAIL transaction in progress" ]
	[ "${lines[14]}" = "250 2.0.0 Ok" ]
	[ "${lines[15]}" = "503 5.5.1 Error: need MAIL command" ]
}

@test "filtermail: XFORWARD is accepted as Postfix sends it and passed on as far as the downstream offers" {
	sink_stop
	sink_start -x
	encrypted_message "$ALICE" "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat outgoing <<EOF
> EHLO proxy.example
<
> XFORWARD NAME=client.example ADDR=192.0.2.7 PORT=4711 HELO=phone
<
> XFORWARD PROTO=ESMTP IDENT=[UNAVAILABLE] SOURCE=REMOTE
<
> XFORWARD NAME=a+20b
<
> XFORWARD COLOR=blue
<
> MAIL FROM:<$ALICE>
<
> RCPT TO:<$BOB>
<
> DATA
<
@ $T/data
<
EOF
	[[ "${lines[6]}" == "250 XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE" ]]
	[ "${lines[7]}" = "250 2.0.0 Ok" ]
	[ "${lines[8]}" = "250 2.0.0 Ok" ]
	[ "${lines[9]}" = "250 2.0.0 Ok" ]
	[ "${lines[10]}" = "501 5.5.4 Syntax: XFORWARD attribute=value..." ]
	[ "${lines[14]}" = "250 2.0.0 Ok: queued as SINK" ]
	# the sink offers NAME ADDR PROTO HELO SOURCE: PORT and IDENT stay behind
	grep -qx 'XFORWARD NAME=a+20b ADDR=192.0.2.7 PROTO=ESMTP HELO=phone SOURCE=REMOTE'$'\r' \
		<(sink_session)
}

@test "filtermail: XFORWARD goes nowhere when the downstream does not offer it" {
	encrypted_message "$ALICE" "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat outgoing <<EOF
> EHLO proxy.example
<
> XFORWARD NAME=client.example ADDR=192.0.2.7
<
> MAIL FROM:<$ALICE>
<
> RCPT TO:<$BOB>
<
> DATA
<
@ $T/data
<
EOF
	[ "${lines[11]}" = "250 2.0.0 Ok: queued as SINK" ]
	refute grep -q XFORWARD <(sink_session)
}

@test "filtermail: HELO, NOOP, RSET, VRFY, HELP and unknown commands" {
	run chat outgoing <<EOF
> HELO client.example
<
> NOOP
<
> RSET
<
> RSET now
<
> VRFY root
<
> HELP
<
> STARTTLS
<
>> \r\n
<
> quit
<
.
EOF
	[ "${lines[1]}" = "250 example.org" ]
	[ "${lines[2]}" = "250 2.0.0 Ok" ]
	[ "${lines[3]}" = "250 2.0.0 Ok" ]
	[ "${lines[4]}" = "501 5.5.4 Syntax: RSET" ]
	[ "${lines[5]}" = "502 5.5.1 VRFY command is disabled" ]
	[[ "${lines[6]}" == "214 "* ]]
	[ "${lines[7]}" = "502 5.5.2 Error: command not recognized" ]
	[ "${lines[8]}" = "500 5.5.2 Error: bad syntax" ]
	[ "${lines[9]}" = "221 2.0.0 Bye" ]
	[ "${lines[10]}" = "<eof>" ]
	[ "${lines[11]}" = "[exit 0]" ]
}

@test "filtermail: a bare LF or a NUL in a command is refused and the session goes on" {
	run chat outgoing <<EOF
> EHLO x
<
>> NOOP\n
<
> NO\0OP
<
> NOOP
<
EOF
	[ "${lines[7]}" = "500 5.5.2 Error: bare <LF> received" ]
	[ "${lines[8]}" = "500 5.5.2 Error: NUL character in command" ]
	[ "${lines[9]}" = "250 2.0.0 Ok" ]
}

@test "filtermail: a 1 MB command line is refused once, dropped without being stored, and the session goes on" {
	run chat outgoing <<EOF
> EHLO x
<
% 1048576 a
>> \r\n
<
> NOOP
<
EOF
	[ "${lines[7]}" = "500 5.5.2 Error: line too long" ]
	[ "${lines[8]}" = "250 2.0.0 Ok" ]
	[ "${#lines[@]}" -eq 10 ]
}

# data_session LINES...: a transaction whose DATA carries the given raw text (escapes as
# smtpchat takes them), then NOOP to show the session goes on.
data_session() {
	printf '> EHLO x\n<\n> MAIL FROM:<%s>\n<\n> RCPT TO:<%s>\n<\n> DATA\n<\n' "$ALICE" "$BOB"
	for line in "$@"; do printf '%s\n' "$line"; done
	printf '<\n> NOOP\n<\n'
}

@test "filtermail: a bare LF in the message refuses it with 554; LF.LF does not end DATA (no smuggling)" {
	echo "passthrough_senders = $ALICE" >>"$CHATMAIL_INI"
	run chat outgoing < <(data_session ">> From: <$ALICE>\r\n\r\nline\n.\nMAIL FROM:<x@y>\r\n" \
		'>> more\r\n.\r\n')
	[ "${lines[10]}" = "554 5.6.0 Error: bare <LF> in message" ]
	[ "${lines[11]}" = "250 2.0.0 Ok" ]
	[ "$(sink_messages)" -eq 0 ]
}

@test "filtermail: a NUL in the message refuses it with 554 and nothing is forwarded" {
	echo "passthrough_senders = $ALICE" >>"$CHATMAIL_INI"
	run chat outgoing < <(data_session ">> From: <$ALICE>\r\n\r\nnul\0byte\r\n.\r\n")
	[ "${lines[10]}" = "554 5.6.0 Error: NUL character in message" ]
	[ "$(sink_messages)" -eq 0 ]
}

@test "filtermail: a 1 MB line in the message refuses it with 554 after the end of DATA" {
	echo "passthrough_senders = $ALICE" >>"$CHATMAIL_INI"
	run chat outgoing < <(data_session ">> From: <$ALICE>\r\n\r\n" '% 1048576 x' '>> \r\n.\r\n')
	[ "${lines[10]}" = "554 5.6.0 Error: message line longer than 65536 octets" ]
	[ "${lines[11]}" = "250 2.0.0 Ok" ]
	[ "$(sink_messages)" -eq 0 ]
}

@test "filtermail: a message over max_message_size gets 552 once drained; a SIZE= over it, 552 at MAIL" {
	echo "max_message_size = 100K" >>"$CHATMAIL_INI"
	encrypted_message "$ALICE" "$BOB" 200000 >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat outgoing < <(send_session "$T/msg")
	[ "${lines[3]}" = "250-SIZE 102400" ]
	[ "${lines[7]}" = "552 5.3.4 Message size exceeds fixed limit" ]
	run chat outgoing < <(data_session "@ $T/data")
	[ "${lines[10]}" = "552 5.3.4 Message size exceeds fixed limit" ]
	[ "${lines[11]}" = "250 2.0.0 Ok" ]
	[ "$(sink_messages)" -eq 0 ]
	# just below the limit passes
	encrypted_message "$ALICE" "$BOB" 70000 >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat outgoing < <(data_session "@ $T/data")
	[ "${lines[10]}" = "250 2.0.0 Ok: queued as SINK" ]
}

@test "filtermail: 1000 recipients are taken, the 1001st gets 452, and the message goes to the 1000" {
	encrypted_message "$ALICE" "$BOB" >"$T/msg"
	{
		printf '> EHLO x\n<\n> MAIL FROM:<%s>\n<\n' "$ALICE"
		for i in $(seq 1 1001); do printf '> RCPT TO:<r%08d@example.org>\n<\n' "$i"; done
		printf '> DATA\n<\n@ %s\n<\n' "$T/data"
	} >"$T/script"
	as_data "$T/msg" >"$T/data"
	run chat outgoing <"$T/script"
	[ "$(printf '%s\n' "${lines[@]}" | grep -c '^250 2.1.5 Ok$')" -eq 1000 ]
	[ "${lines[1008]}" = "452 4.5.3 Error: too many recipients" ]
	[ "${lines[1010]}" = "250 2.0.0 Ok: queued as SINK" ]
	[ "$(grep -c '^RCPT TO:' <(sink_session))" -eq 1000 ]
	refute grep -q 'r00001001@' <(sink_session)
}

@test "filtermail: a client that goes silent gets 421 after the timeout" {
	export FILTERMAIL_TIMEOUT=1
	run chat outgoing <<EOF
> EHLO x
<
<
.
EOF
	[ "${lines[7]}" = "421 4.4.2 example.org Error: timeout exceeded" ]
	[ "${lines[8]}" = "<eof>" ]
	[ "${lines[9]}" = "[exit 0]" ]
}

@test "filtermail: a DATA that never ends gets 421 after the timeout and nothing is forwarded" {
	export FILTERMAIL_TIMEOUT=1
	encrypted_message "$ALICE" "$BOB" >"$T/msg"
	sed -e 's/$/\r/' "$T/msg" >"$T/data" # the message without its final dot
	run chat outgoing < <(data_session "@ $T/data")
	[ "${lines[10]}" = "421 4.4.2 example.org Error: timeout exceeded" ]
	[ "$(sink_messages)" -eq 0 ]
	[ -z "$(sink_session)" ]
	grep -q 'timeout after DATA: nothing forwarded' "$T/log"
}

@test "filtermail: a client that hangs up in DATA leaves nothing forwarded and no crash" {
	encrypted_message "$ALICE" "$BOB" >"$T/msg"
	sed -e 's/$/\r/' "$T/msg" >"$T/data"
	run chat outgoing <<EOF
> EHLO x
<
> MAIL FROM:<$ALICE>
<
> RCPT TO:<$BOB>
<
> DATA
<
@ $T/data
shut
.
EOF
	[ "${lines[-1]}" = "[exit 0]" ]
	[ "$(sink_messages)" -eq 0 ]
	[ -z "$(sink_session)" ]
}

@test "filtermail: the downstream down: 451 4.3.0, so the client keeps the message and retries" {
	sink_stop
	echo "postfix_reinject_port = $(free_port)" >>"$CHATMAIL_INI"
	encrypted_message "$ALICE" "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat outgoing < <(send_session "$T/msg")
	[ "${lines[10]}" = "451 4.3.0 Error: mail queue unavailable, try again later" ]
	grep -q 'cannot hand the message to 127.0.0.1:[0-9]*: connect: Connection refused' "$T/log"
}

@test "filtermail: a downstream that never answers: 451 after the relay time limit" {
	sink_stop
	sink_start -s
	export FILTERMAIL_RELAY_TIMEOUT=1
	encrypted_message "$ALICE" "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat outgoing < <(send_session "$T/msg")
	[ "${lines[10]}" = "451 4.3.0 Error: mail queue unavailable, try again later" ]
	grep -q 'cannot hand the message to 127.0.0.1:[0-9]*: timeout' "$T/log"
}

@test "filtermail: a downstream that hangs up after the data: 451, never a false 250" {
	sink_stop
	sink_start -c
	encrypted_message "$ALICE" "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat outgoing < <(send_session "$T/msg")
	[ "${lines[10]}" = "451 4.3.0 Error: mail queue unavailable, try again later" ]
}

@test "filtermail: the downstream's refusals come back as they are: MAIL, RCPT, DATA, end of data" {
	encrypted_message "$ALICE" "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	for option in "-m 451" "-r 550" "-a 452" "-D 554" "-D 452"; do
		sink_stop
		rm -rf "$T/sink"
		sink_start $option
		run chat outgoing < <(send_session "$T/msg")
		[[ "${lines[10]}" == "${option#-? } "* ]]
		[ "$(sink_messages)" -eq 0 ]
	done
	# a refused recipient refuses the whole message: never half-delivered
	sink_stop
	rm -rf "$T/sink"
	sink_start -r 550
	run chat outgoing < <(send_session "$T/msg")
	[ "${lines[10]}" = "550 5.1.1 recipient refused by sink" ]
	refute grep -q '^DATA' <(sink_session)
}

@test "filtermail: twenty errors close the session with 421" {
	{
		printf '> EHLO x\n<\n'
		for i in $(seq 1 25); do printf '> BOGUS\n<\n'; done
		printf '.\n'
	} >"$T/script"
	run chat outgoing <"$T/script"
	[ "$(printf '%s\n' "${lines[@]}" | grep -c '^502 ')" -eq 19 ]
	[ "${lines[26]}" = "421 4.7.0 example.org Error: too many errors" ]
	[ "${lines[27]}" = "<eof>" ]
}

@test "filtermail: without a readable chatmail.ini: 421 and a temporary-failure exit" {
	export CHATMAIL_INI="$T/missing.ini"
	run chat outgoing <<<'.'
	[ "${lines[0]}" = "421 4.3.0 Error: filter not configured" ]
	[ "${lines[-1]}" = "[exit 111]" ]
	grep -q 'missing.ini' "$T/log"
}

@test "filtermail: a bad command line is a usage error" {
	run "$BIN/filtermail" sideways </dev/null
	[ "$status" -eq 100 ]
	grep -q 'usage: filtermail outgoing|incoming' "$T/log"
}

# incoming_session RCPT...: an unencrypted (or $MSG) message from a foreign sender.
incoming_session() {
	printf '> EHLO mx.example.net\n<\n> MAIL FROM:<carol@example.net>\n<\n'
	for rcpt in "$@"; do printf '> RCPT TO:<%s>\n<\n' "$rcpt"; done
	printf '> DATA\n<\n@ %s\n<\n' "$T/data"
}

@test "filtermail: incoming cleartext to a recipient who enforces encryption is refused with 523" {
	account "$BOB"
	plain_message carol@example.net "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat incoming < <(incoming_session "$BOB")
	[ "${lines[8]}" = "250 2.1.5 Ok" ]
	[ "${lines[10]}" = "523 Encryption Needed: Invalid Unencrypted Mail" ]
	grep -q 'Incoming: Filtering unencrypted mail.' "$T/log"
	grep -q 'Rejected unencrypted mail from: carol@example.net' "$T/log"
	[ "$(sink_messages)" -eq 0 ]
}

@test "filtermail: incoming cleartext to a recipient without the file is forwarded, from 127.0.0.2" {
	export FILTERMAIL_SKIP_DKIM=1 # a test of encryption, not of DKIM
	account "$BOB" open
	plain_message carol@example.net "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat incoming < <(incoming_session "$BOB")
	[ "${lines[10]}" = "250 2.0.0 Ok: queued as SINK" ]
	cmp <(crlf "$T/msg") "$T/sink"/*.eml
	[ "$(cat "$T/sink"/*.peer)" = 127.0.0.2 ]
	# the envelope sender is the From: address, so it goes on unchanged
	grep -qx 'MAIL FROM:<carol@example.net>.*' <(sink_session | tr -d '\r')
}

@test "filtermail: incoming encrypted mail passes even where encryption is enforced" {
	export FILTERMAIL_SKIP_DKIM=1 # a test of encryption, not of DKIM
	account "$BOB"
	encrypted_message carol@example.net "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat incoming < <(incoming_session "$BOB")
	[ "${lines[10]}" = "250 2.0.0 Ok: queued as SINK" ]
	grep -q 'Incoming: Filtering encrypted mail.' "$T/log"
}

@test "filtermail: no spelling of a protected recipient slips past its enforcing maildir" {
	account "$BOB"
	plain_message carol@example.net "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	local local_part=${BOB%@*} spelling
	# Postfix and Dovecot deliver every one of these into $BOB's INBOX
	for spelling in "${BOB^^}" "$local_part+x@example.org" "\"$local_part\"@example.org" \
		"$local_part@example.org." "${local_part^^}+Tag@EXAMPLE.org." "\"$local_part+x\"@example.org"; do
		run chat incoming < <(incoming_session "$spelling")
		echo "$spelling: ${lines[8]} / ${lines[10]}"
		[ "${lines[8]}" = "250 2.1.5 Ok" ]
		[ "${lines[10]}" = "523 Encryption Needed: Invalid Unencrypted Mail" ]
	done
	[ "$(sink_messages)" -eq 0 ]
}

@test "filtermail: one enforcing recipient among several refuses the cleartext message for all" {
	account "$BOB"
	account "$ALICE" open
	plain_message carol@example.net "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat incoming < <(incoming_session "$ALICE" "$BOB")
	[ "${lines[11]}" = "523 Encryption Needed: Invalid Unencrypted Mail" ]
	[ "$(sink_messages)" -eq 0 ]
}

@test "filtermail: incoming recipients without an account are refused at RCPT with 550 5.1.1" {
	account "$BOB" open
	run chat incoming <<EOF
> EHLO mx.example.net
<
> MAIL FROM:<carol@example.net>
<
> RCPT TO:<nobody001@example.org>
<
> RCPT TO:<../outside@example.org>
<
> RCPT TO:<$BOB@example.org>
<
> RCPT TO:<someone@example.net>
<
> DATA
<
> QUIT
<
EOF
	[ "${lines[8]}" = "550 5.1.1 Recipient address rejected: User unknown" ]
	[ "${lines[9]}" = "550 5.1.1 Recipient address rejected: User unknown" ]
	[ "${lines[10]}" = "550 5.1.1 Recipient address rejected: User unknown" ]
	[ "${lines[11]}" = "550 5.1.1 Recipient address rejected: User unknown" ]
	[ "${lines[12]}" = "554 5.5.1 Error: no valid recipients" ]
	grep -q 'Rejected recipient nobody001@example.org: no such account' "$T/log"
	[ "$(sink_messages)" -eq 0 ]
}

@test "filtermail: a relay without an account database yet refuses every recipient" {
	rm -f "$T/passdb.sqlite"
	run chat incoming < <(incoming_session "$BOB")
	[ "${lines[8]}" = "550 5.1.1 Recipient address rejected: User unknown" ]
	[ ! -e "$T/passdb.sqlite" ]
}

@test "filtermail: a maildir that is a symbolic link is never followed" {
	# the link leads to a home without the enforce file: following it would let cleartext in
	account "$BOB"
	mkdir -p "$T/outside"
	rm -rf "${T:?}/mail/$BOB"
	ln -s "$T/outside" "$T/mail/$BOB"
	plain_message carol@example.net "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat incoming < <(incoming_session "$BOB")
	[ "${lines[10]}" = "523 Encryption Needed: Invalid Unencrypted Mail" ]
	[ "$(sink_messages)" -eq 0 ]
}

@test "filtermail: incoming mail whose envelope sender is not its From: goes on from <>" {
	export FILTERMAIL_SKIP_DKIM=1 # a test of encryption, not of DKIM
	account "$BOB" open
	plain_message carol@example.net "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat incoming < <(incoming_session "$BOB" | sed 's/carol@example.net/mallory@example.com/')
	[ "${lines[10]}" = "250 2.0.0 Ok: queued as SINK" ]
	grep -qx 'MAIL FROM:<>.*' <(sink_session | tr -d '\r')
	grep -q 'Envelope sender mallory@example.com is not the From: address' "$T/log"
}

@test "filtermail: incoming mail without one From: address is refused with 554" {
	account "$BOB" open
	printf 'To: <%s>\nSubject: no sender\n\nbody\n' "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat incoming < <(incoming_session "$BOB")
	[ "${lines[10]}" = "554 5.7.1 Invalid From: header, need exactly one address" ]
	printf 'From: a@example.net, b@example.net\nTo: <%s>\n\nbody\n' "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat incoming < <(incoming_session "$BOB")
	[ "${lines[10]}" = "554 5.7.1 Invalid From: header, need exactly one address" ]
	[ "$(sink_messages)" -eq 0 ]
}

@test "filtermail: incoming mail without a DKIM signature is refused with 554, encrypted or not" {
	account "$BOB"
	encrypted_message carol@example.net "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat incoming < <(incoming_session "$BOB")
	[ "${lines[10]}" = "554 5.7.1 No DKIM signature found" ]
	grep -q 'Incoming: Filtering encrypted mail.' "$T/log"
	grep -q 'Rejected mail from carol@example.net: DKIM: ' "$T/log"
	[ "$(sink_messages)" -eq 0 ]
}

@test "filtermail: a DKIM signature of another domain than the From: is no signature (554)" {
	account "$BOB" open
	{
		printf 'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=sel;\n'
		printf '\th=from:to:subject; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=AAAA\n'
		plain_message carol@example.net "$BOB"
	} >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat incoming < <(incoming_session "$BOB")
	[ "${lines[10]}" = "554 5.7.1 No valid DKIM signature found" ]
	[ "$(sink_messages)" -eq 0 ]
}

@test "filtermail: a From: domain longer than any domain is refused, never copied (554)" {
	account "$BOB" open
	local long
	long="$(head -c 300 /dev/zero | tr '\0' a).example.net"
	plain_message "carol@$long" "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat incoming < <(incoming_session "$BOB")
	[ "${lines[10]}" = "554 5.7.1 No valid DKIM signature found" ]
	grep -q 'From: domain longer than 253 bytes' "$T/log"
	[ "$(sink_messages)" -eq 0 ]
}

@test "filtermail: a From: with an address literal has no DNS and is exempt from DKIM" {
	account "$BOB" open
	plain_message 'carol@[192.0.2.9]' "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat incoming < <(incoming_session "$BOB" | sed 's/carol@example.net/carol@[192.0.2.9]/')
	[ "${lines[10]}" = "250 2.0.0 Ok: queued as SINK" ]
	[ "$(sink_messages)" -eq 1 ]
}

@test "filtermail: FILTERMAIL_SKIP_DKIM=1 turns the check off and warns on every message" {
	account "$BOB" open
	plain_message carol@example.net "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	FILTERMAIL_SKIP_DKIM=1 run chat incoming < <(incoming_session "$BOB")
	[ "${lines[10]}" = "250 2.0.0 Ok: queued as SINK" ]
	FILTERMAIL_SKIP_DKIM=1 run chat incoming < <(incoming_session "$BOB")
	[ "$(grep -c 'DKIM verification DISABLED by FILTERMAIL_SKIP_DKIM=1' "$T/log")" -eq 2 ]
	# any other value is no way around it
	FILTERMAIL_SKIP_DKIM=yes run chat incoming < <(incoming_session "$BOB")
	[ "${lines[10]}" = "554 5.7.1 No DKIM signature found" ]
}

@test "filtermail: incoming mail takes the null sender of bounces" {
	plain_message carol@example.net "$BOB" >"$T/msg"
	as_data "$T/msg" >"$T/data"
	run chat incoming <<EOF
> EHLO mx.example.net
<
> MAIL FROM:<>
<
EOF
	[ "${lines[7]}" = "250 2.1.0 Ok" ]
}
