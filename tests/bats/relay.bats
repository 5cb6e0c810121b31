#!/usr/bin/env bats
# The whole relay with every real daemon, as a Delta Chat user and another server see it.

load lib/common
load lib/relay

setup_file() {
	export INI_EXTRA="max_message_size = 200K
max_mailbox_size = 1M"
	# port 25 here tests encryption, not DKIM (no DNS for someone@example.net's key): the
	# federation test bed checks DKIM between relays
	FILTERMAIL_SKIP_DKIM=1 relay_start chat.test
}

teardown_file() {
	relay_stop
}

setup() {
	account=$(new_account)
	read -r A_ADDR A_PASS <<<"$account"
	account=$(new_account)
	read -r B_ADDR B_PASS <<<"$account"
	M=$BATS_TEST_TMPDIR/message.eml
}

@test "every daemon's rendered config validates" {
	run postfix -c "$RUN_DIR/etc/postfix" check
	[ "$status" -eq 0 ]
	run doveconf -c "$RUN_DIR/etc/dovecot/dovecot.conf" -n
	[ "$status" -eq 0 ]
	if [ "$(relay_dovecot_version)" = 2.3 ]; then
		[[ "$output" == *"imap_capability = +XDELTAPUSH XCHATMAIL"* ]]
	else
		[ "$(doveconf -c "$RUN_DIR/etc/dovecot/dovecot.conf" -h imap_capability)" = \
			$'XDELTAPUSH = yes\nXCHATMAIL = yes\n"COMPRESS=DEFLATE" = no' ]
	fi
	run nginx -t -c "$RUN_DIR/etc/nginx/nginx.conf" -e "$RUN_DIR/log/nginx-error.log"
	[ "$status" -eq 0 ]
	run "$ROOT/scripts/relay" status
	echo "$output"
	[ "$(grep -c running <<<"$output")" -eq 9 ] # and the dict, the notifier, coturn
}

@test "POST /new creates an account that logs in over IMAPS, SMTPS and submission" {
	[[ "$A_ADDR" =~ ^[a-z0-9]{9}@chat\.test$ ]]
	[ "$(inbox_count "$A_ADDR" "$A_PASS")" = 0 ]
	run curl -sS --insecure --user "$A_ADDR:$A_PASS" "smtps://127.0.0.1:$SMTPS_PORT" -X NOOP
	[ "$status" -eq 0 ]
	run curl -sS --insecure --ssl-reqd --user "$A_ADDR:$A_PASS" "smtp://127.0.0.1:$SUBMISSION_PORT" -X NOOP
	[ "$status" -eq 0 ]
	run curl -sS --insecure --user "$A_ADDR:wrong-password" "smtps://127.0.0.1:$SMTPS_PORT" -X NOOP
	[ "$status" -ne 0 ]
}

@test "submission offers no login and takes no mail before STARTTLS" {
	encrypted_message "$A_ADDR" "$B_ADDR" >"$M"
	run curl -sS -v --max-time 20 --url "smtp://127.0.0.1:$SUBMISSION_PORT" --user "$A_ADDR:$A_PASS" \
		--mail-from "$A_ADDR" --mail-rcpt "$B_ADDR" --upload-file "$M"
	[ "$status" -ne 0 ]
	refute grep -q '^< 250[- ]AUTH' <<<"$output"
	[[ "$output" == *"< 530"* ]]
}

@test "IMAP on port 143 offers no login before STARTTLS" {
	# from 127.0.0.2: Dovecot counts a connection from its own address as secured
	run timeout 20 python3 "$ROOT/tests/tools/tls-alpn.py" --plain --bind 127.0.0.2 127.0.0.1 \
		"$IMAP_PORT" "a CAPABILITY" "b AUTHENTICATE PLAIN $(plain_auth "$A_ADDR" "$A_PASS")" "c LOGOUT"
	echo "$output"
	[[ "$output" == *"LOGINDISABLED"* ]]
	[[ "$output" == *"STARTTLS"* ]]
	# (the wording differs between Dovecot 2.3 and 2.4; the response code does not)
	[[ "$output" == *"b NO [PRIVACYREQUIRED] "* ]]
	refute grep -qF "$(dovecot_login_line "$A_ADDR")" "$RUN_DIR/log/dovecot.log"
}

@test "IMAPS ends its TLS in nginx, and Dovecot sees the client's own address" {
	run timeout 20 python3 "$ROOT/tests/tools/tls-alpn.py" --bind 127.0.0.2 127.0.0.1 "$IMAPS_PORT" \
		"a AUTHENTICATE PLAIN $(plain_auth "$A_ADDR" "$A_PASS")" "b LOGOUT"
	echo "$output"
	[[ "$output" == *"a OK "*"Logged in"* ]]
	grep -F "imap-login-nginx: Info: $(dovecot_login_line "$A_ADDR"), method=PLAIN, rip=127.0.0.2," \
		"$RUN_DIR/log/dovecot.log"
	# the TLS is nginx's: it answers on 993, and Dovecot's listener behind it speaks plain IMAP
	# to nginx only: a connection without the PROXY protocol header is closed without a greeting
	ss -ltnp "sport = :$IMAPS_PORT" | grep -q nginx
	run timeout 20 python3 "$ROOT/tests/tools/tls-alpn.py" --plain --client-first 127.0.0.1 \
		"$IMAP_BACKEND_PORT" "a AUTHENTICATE PLAIN $(plain_auth "$A_ADDR" "$A_PASS")"
	echo "backend without PROXY header: $status, $output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run grep -F "$(dovecot_login_line "$A_ADDR")" "$RUN_DIR/log/dovecot.log"
	refute grep -qF "rip=127.0.0.1," <<<"$output"
}

@test "an encrypted message reaches the recipient's INBOX within seconds, over 465 and 587" {
	encrypted_message "$A_ADDR" "$B_ADDR" >"$M"
	send_smtps "$A_ADDR" "$A_PASS" "$A_ADDR" "$B_ADDR" "$M"
	wait_inbox "$B_ADDR" "$B_PASS" 1
	send_submission "$A_ADDR" "$A_PASS" "$A_ADDR" "$B_ADDR" "$M"
	wait_inbox "$B_ADDR" "$B_PASS" 2
	grep -q 'Outgoing: Filtering encrypted mail.' "$RUN_DIR/log/filtermail.log"
}

@test "outgoing mail loses Received, X-Mailer and User-Agent, and its Subject becomes [...]" {
	encrypted_message "$A_ADDR" "$B_ADDR" |
		sed -e 's/^Subject: .*/Subject: secret plans/' \
			-e 's/^Date: /X-Mailer: Test Mailer 1.0\nUser-Agent: Test Agent\nDate: /' >"$M"
	send_smtps "$A_ADDR" "$A_PASS" "$A_ADDR" "$B_ADDR" "$M"
	wait_inbox "$B_ADDR" "$B_PASS" 1
	file=$(ls "$RUN_DIR/vmail/mail/$B_ADDR"/new/* "$RUN_DIR/vmail/mail/$B_ADDR"/cur/* 2>/dev/null | head -1)
	grep -q '^Subject: \[\.\.\.\]' "$file"
	refute grep -qi '^X-Mailer:\|^User-Agent:\|^Received:\|secret plans' "$file"
}

@test "an unencrypted message is refused with 523 and delivered nowhere" {
	plain_message "$A_ADDR" "$B_ADDR" >"$M"
	run send_smtps "$A_ADDR" "$A_PASS" "$A_ADDR" "$B_ADDR" "$M"
	[ "$status" -ne 0 ]
	grep -q "523 Encryption Needed" "$RUN_DIR/log/postfix.log"
	grep -q "Rejected unencrypted mail from: $A_ADDR" "$RUN_DIR/log/filtermail.log"
	sleep 1
	[ "$(inbox_count "$B_ADDR" "$B_PASS")" = 0 ]
}

@test "another envelope sender than the login is refused" {
	encrypted_message "$B_ADDR" "$A_ADDR" >"$M"
	run send_smtps "$A_ADDR" "$A_PASS" "$B_ADDR" "$A_ADDR" "$M"
	[ "$status" -ne 0 ]
	[[ "$output" == *553* ]]
	sleep 1
	[ "$(inbox_count "$A_ADDR" "$A_PASS")" = 0 ]
}

@test "port 25 refuses to relay to a foreign domain without authentication" {
	encrypted_message "someone@example.net" "other@example.org" >"$M"
	run send_port25 "someone@example.net" "other@example.org" "$M"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Relay access denied"* ]] || grep -q 'Relay access denied' "$RUN_DIR/log/postfix.log"
}

@test "port 25 accepts encrypted mail from another server for a local user" {
	encrypted_message "someone@example.net" "$A_ADDR" >"$M"
	send_port25 "someone@example.net" "$A_ADDR" "$M"
	wait_inbox "$A_ADDR" "$A_PASS" 1
	grep -q 'Incoming: Filtering encrypted mail.' "$RUN_DIR/log/filtermail.log"
	grep -q 'DKIM verification DISABLED' "$RUN_DIR/log/filtermail.log"
}

@test "port 25 refuses unencrypted mail for a user whose maildir asks for protection" {
	[ -f "$RUN_DIR/vmail/mail/$A_ADDR/enforceE2EEincoming" ]
	plain_message "someone@example.net" "$A_ADDR" >"$M"
	run send_port25 "someone@example.net" "$A_ADDR" "$M"
	[ "$status" -ne 0 ]
	sleep 1
	[ "$(inbox_count "$A_ADDR" "$A_PASS")" = 0 ]
}

@test "a message over max_message_size is refused" {
	{
		encrypted_message "$A_ADDR" "$B_ADDR" | sed '/^-----END PGP MESSAGE-----/,$d'
		head -c 300000 /dev/zero | base64 -w 64
		echo "-----END PGP MESSAGE-----"
	} >"$M"
	run send_smtps "$A_ADDR" "$A_PASS" "$A_ADDR" "$B_ADDR" "$M"
	[ "$status" -ne 0 ]
	[[ "$output" == *552* ]] || grep -q ' 552 ' "$RUN_DIR/log/postfix.log"
	[ "$(inbox_count "$B_ADDR" "$B_PASS")" = 0 ]
}

@test "IMAP CAPABILITY shows what Delta Chat looks for" {
	run curl -sS --insecure --user "$A_ADDR:$A_PASS" "imaps://127.0.0.1:$IMAPS_PORT/" -X CAPABILITY
	[ "$status" -eq 0 ]
	for capability in IDLE XCHATMAIL XDELTAPUSH METADATA QUOTA NOTIFY; do
		[[ "$output" == *" $capability"* ]] || { echo "no $capability in: $output"; false; }
	done
	# a client that compresses cannot hibernate (README "Idle clients")
	[[ "$output" != *"COMPRESS"* ]]
}

@test "an IMAP login Dovecot answers itself records its time for the expiry" {
	passdb=$(CHATMAIL_INI=$RUN_DIR/chatmail.ini relay_get passdb_path)
	sqlite3 -cmd '.timeout 5000' "$passdb" "UPDATE users SET last_login = 86400 WHERE addr = '$A_ADDR'"
	before=$(date +%s)
	inbox_count "$A_ADDR" "$A_PASS" >/dev/null
	for _ in $(seq 50); do
		last=$(sqlite3 -cmd '.timeout 5000' "$passdb" "SELECT last_login FROM users WHERE addr = '$A_ADDR'")
		[ "$last" -lt "$before" ] || break
		sleep 0.1
	done
	[ "$last" -ge "$before" ]
	refute grep -q 'last_login_dict' "$RUN_DIR/log/dovecot.log"
}

@test "the quota of max_mailbox_size applies to every mailbox" {
	run doveadm -c "$RUN_DIR/etc/dovecot/dovecot.conf" quota get -u "$A_ADDR"
	[ "$status" -eq 0 ]
	[[ "$output" == *STORAGE*1024* ]]
}

@test "the web pages, autoconfig and MTA-STS policy are served" {
	run curl -sS --insecure --fail "https://127.0.0.1:$HTTPS_PORT/"
	[ "$status" -eq 0 ]
	[[ "$output" == *"dcaccount:https://chat.test/new"* ]]
	run curl -sS --insecure --fail "https://127.0.0.1:$HTTPS_PORT/qr-invite.svg"
	[[ "$output" == *"<svg"* ]]
	run curl -sS --insecure --fail "https://127.0.0.1:$HTTPS_PORT/privacy.html"
	[ "$status" -eq 0 ]
	run curl -sS --insecure --fail "https://127.0.0.1:$HTTPS_PORT/.well-known/autoconfig/mail/config-v1.1.xml"
	[ "$status" -eq 0 ]
	[[ "$output" == *"<hostname>chat.test</hostname>"* ]]
	[[ "$output" == *"<port>$SMTPS_PORT</port>"* ]]
	run curl -sS --insecure --fail "https://127.0.0.1:$HTTPS_PORT/.well-known/mta-sts.txt"
	[ "$status" -eq 0 ]
	[[ "$output" == *"mode: enforce"* ]]
	[[ "$output" == *"mx: chat.test"* ]]
	run curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HTTP_PORT/"
	[ "$output" = 301 ]
}

@test "a sent message carries a valid DKIM signature of the relay's domain" {
	encrypted_message "$A_ADDR" "$B_ADDR" >"$M"
	send_smtps "$A_ADDR" "$A_PASS" "$A_ADDR" "$B_ADDR" "$M"
	wait_inbox "$B_ADDR" "$B_PASS" 1
	file=$(ls "$RUN_DIR/vmail/mail/$B_ADDR"/new/* "$RUN_DIR/vmail/mail/$B_ADDR"/cur/* 2>/dev/null | head -1)
	grep -q '^DKIM-Signature: .*d=chat.test' "$file" || grep -A1 '^DKIM-Signature:' "$file" | grep -q 'd=chat.test'
	# verify against the published key, served from a file instead of DNS
	key=$(sed -e 's/^[^"]*"//' -e 's/"[^"]*$//' -e 's/"[[:space:]]*"//g' "$RUN_DIR/dkim/opendkim.txt" | tr -d '\n\t')
	echo "opendkim._domainkey.chat.test $key" >"$BATS_TEST_TMPDIR/dns"
	printf 'Mode v\nSyslog no\nTestDNSData file:%s\n' "$BATS_TEST_TMPDIR/dns" >"$BATS_TEST_TMPDIR/verify.conf"
	grep -v '^Return-Path:\|^Delivered-To:' "$file" >"$BATS_TEST_TMPDIR/signed.eml"
	run opendkim -x "$BATS_TEST_TMPDIR/verify.conf" -t "$BATS_TEST_TMPDIR/signed.eml"
	[[ "$output" == *"verification (s=opendkim, d=chat.test"*"succeeded"* ]]
	# and the check can fail: a changed header breaks it
	sed -i 's/^Subject: .*/Subject: changed/' "$BATS_TEST_TMPDIR/signed.eml"
	run opendkim -x "$BATS_TEST_TMPDIR/verify.conf" -t "$BATS_TEST_TMPDIR/signed.eml"
	[[ "$output" == *"failed"* ]]
}
