#!/usr/bin/env bats
# mxdeliv-send run as Postfix's pipe(8) runs it (message on stdin, envelope as arguments), with no
# /mxdeliv to reach: what it hands to the fallback smtpd (a recording sink), and its exit code.

load lib/common
load lib/filtermail

setup() {
	relay_dir
	sink_start
}

teardown() {
	sink_stop
}

# send SIZE: a message of about SIZE bytes from a@example.org to b@[127.0.0.1]; nothing listens
# on 127.0.0.1:443, so the POST fails at once and the sink gets the message.
send() {
	{
		printf 'From: a@example.org\r\nTo: b@[127.0.0.1]\r\nSubject: [...]\r\n\r\n'
		{ head -c "$1" /dev/zero | tr '\0' 'x' | fold -w 76; echo; } | sed 's/$/\r/'
	} >"$T/message.eml"
	run "$BIN/mxdeliv-send" "$SINK_PORT" '[127.0.0.1]' a@example.org 'b@[127.0.0.1]' <"$T/message.eml"
	echo "$output"
}

@test "mxdeliv-send: a message it cannot POST goes to the fallback smtpd whole, exit 0" {
	ss -Hltn 'sport = :443' | grep -q . && skip "something listens on 127.0.0.1:443"
	send 1000
	[ "$status" -eq 0 ]
	cmp "$T/message.eml" "$(ls "$T"/sink/*-1.eml)"
}

@test "mxdeliv-send: a 20 MiB message (past the last doubling of its buffer below max_message_size) is handed over whole" {
	ss -Hltn 'sport = :443' | grep -q . && skip "something listens on 127.0.0.1:443"
	send $((20 * 1024 * 1024))
	[ "$status" -eq 0 ]
	cmp "$T/message.eml" "$(ls "$T"/sink/*-1.eml)"
}

@test "mxdeliv-send: a message over max_message_size is kept by Postfix (exit 75), not handed over" {
	echo "max_message_size = 100000" >>"$CHATMAIL_INI"
	send 1300000
	[ "$status" -eq 75 ]
	[ -z "$(ls "$T"/sink/*.eml 2>/dev/null)" ]
}
