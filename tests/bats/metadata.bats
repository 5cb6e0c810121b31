#!/usr/bin/env bats
# What Delta Chat reads from the relay (SPEC 5a), on the local relay with every real daemon:
# GETMETADATA answers from chatmail-metadata over a real IMAP session, the TURN credentials
# recomputed from the secret, and coturn (turnutils_uclient) taking them, refusing wrong ones
# and refusing to relay into loopback or a private network.

load lib/common
load lib/relay
load lib/push

setup_file() {
	export INI_EXTRA="iroh_relay = https://iroh.chat.test
privacy_mail = privacy@chat.test"
	relay_start
	TURN_PORT=$((PORT_BASE + 19)) # layout/ports
	export TURN_PORT
}

teardown_file() {
	relay_stop
}

setup() {
	account_vars A
}

KEYS='/shared/comment /shared/admin /shared/vendor/deltachat/irohrelay /shared/vendor/deltachat/turn /shared/vendor/deltachat/maxsmtprecipients /shared/vendor/deltachat/appversions'

# metadata KEY: the value of one server key, as Delta Chat asks for it.
metadata() {
	imap "$A" "$A_PASSWORD" "GETMETADATA \"\" ($1)" | sed -n '2s/)$//p'
}

@test "GETMETADATA answers every key Delta Chat reads, in one command" {
	run imap "$A" "$A_PASSWORD" "GETMETADATA \"\" ($KEYS)"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"/shared/admin {24}"*"mailto:privacy@chat.test"* ]]
	[[ "$output" == *"/shared/vendor/deltachat/irohrelay {22}"*"https://iroh.chat.test"* ]]
	[[ "$output" == *"/shared/vendor/deltachat/maxsmtprecipients {4}"*"1000"* ]]
	[[ "$output" == *"/shared/vendor/deltachat/turn {"*"chat.test:$TURN_PORT:"* ]]
	[[ "$output" == *'{"clients":[{"clientId":"deltachat","sources":[{"sourceId":'* ]]
}

@test "maxsmtprecipients is Postfix's recipient limit: one number for both" {
	[ "$(metadata /shared/vendor/deltachat/maxsmtprecipients)" = \
		"$(postconf -c "$RUN_DIR/etc/postfix" -h smtpd_recipient_limit)" ]
}

@test "appversions is the shipped JSON file in one line; a broken file is not served" {
	value=$(metadata /shared/vendor/deltachat/appversions)
	[ "$value" = "$(jq -c . "$ROOT/conf/chatmail/appversions.json")" ]
	cp "$RUN_DIR/etc/chatmail/appversions.json" "$BATS_TEST_TMPDIR/saved"
	echo '{"clients": [' >"$RUN_DIR/etc/chatmail/appversions.json"
	run imap "$A" "$A_PASSWORD" 'GETMETADATA "" (/shared/vendor/deltachat/appversions)'
	cp "$BATS_TEST_TMPDIR/saved" "$RUN_DIR/etc/chatmail/appversions.json"
	[[ "$output" == *"/shared/vendor/deltachat/appversions NIL"* ]]
}

@test "the TURN password is HMAC-SHA1 of the expiry under the secret, expiring in 5 days" {
	IFS=: read -r host port expiry password <<<"$(metadata /shared/vendor/deltachat/turn)"
	[ "$host" = chat.test ]
	[ "$port" = "$TURN_PORT" ]
	now=$(date +%s)
	[ "$expiry" -ge $((now + 5 * 86400 - 5)) ] && [ "$expiry" -le $((now + 5 * 86400 + 5)) ]
	secret=$(cat "$RUN_DIR/vmail/state/turn-secret")
	[ "${#secret}" -eq 64 ]
	[ "$(stat -c '%a %U' "$RUN_DIR/vmail/state/turn-secret")" = "600 nobody" ]
	[ "$password" = "$(printf %s "$expiry" | openssl dgst -sha1 -hmac "$secret" -binary | base64)" ]
}

# uclient PEER [PASSWORD-PREFIX] [FLAGS...]: a TURN allocation with the relay's credentials
# that sends one packet to PEER.
uclient() {
	local peer=$1 prefix=${2:-}
	shift 2 || shift
	IFS=: read -r _ port user password <<<"$(metadata /shared/vendor/deltachat/turn)"
	timeout 30 turnutils_uclient "$@" -u "$user" -w "$prefix$password" -p "$port" -e "$peer" \
		-n 1 -c 127.0.0.1
}

@test "coturn allocates a relay with the credentials and relays to a public address" {
	run uclient 192.0.2.1
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" != *"rror"* ]]
	[[ "$output" == *"Received relay addr"* ]] || [[ "$output" == *"Total lost packets"* ]]
}

@test "coturn refuses wrong credentials" {
	run uclient 192.0.2.1 wrong
	[ "$status" -ne 0 ]
	[[ "$output" == *"Cannot complete Allocation"* ]]
}

@test "coturn allocates but never relays into loopback or a private network (UDP and TCP)" {
	for peer in 127.0.0.1 10.1.2.3 192.168.1.1 169.254.1.1; do
		run uclient "$peer"
		[ "$status" -ne 0 ]
		[[ "$output" == *"403 (Forbidden IP)"* ]]
	done
	run uclient 127.0.0.1 "" -t
	[ "$status" -ne 0 ]
	[[ "$output" == *"403 (Forbidden IP)"* ]]
}

@test "a METADATA key we do not keep cannot be set" {
	run imap "$A" "$A_PASSWORD" 'SETMETADATA INBOX (/private/comment "hello")'
	[ "$status" -ne 0 ]
}
