#!/usr/bin/env bats
# Port 443 (README "Port 443"): nginx routes by ALPN to Dovecot, Postfix or the HTTPS server,
# each of them told the client's own address; Delta Chat on port 443 alone; and the web page of
# an IP-only relay in a real headless browser: its button makes an account and shows a dclogin:
# QR code that logs in. One IP-only relay on loopback ports for the whole file; the clients
# connect from 127.0.0.2 and 127.0.0.3, so their address is told apart from nginx's 127.0.0.1.

load lib/common
load lib/relay

setup_file() {
	e2e_installed
	export INI_EXTRA="max_user_send_per_minute = 600
max_user_send_burst_size = 100"
	relay_start 127.0.0.1
	export E2E_DIR=$BATS_FILE_TMPDIR/devices
}

teardown_file() {
	relay_stop
}

# tls LINE...: the TLS client of tests/tools with the options before it (--bind, --alpn,
# --client-first), to
# port 443 (HTTPS_PORT).
tls() {
	local options=()
	while [[ "${1:-}" == --* ]]; do
		case $1 in
		--client-first) options+=("$1") && shift ;;
		*) options+=("$1" "$2") && shift 2 ;;
		esac
	done
	timeout 20 python3 "$ROOT/tests/tools/tls-alpn.py" "${options[@]}" 127.0.0.1 "$HTTPS_PORT" "$@"
}

# greeting ALPN: the first line port 443 answers a client of that ALPN.
greeting() {
	timeout 10 openssl s_client -quiet -alpn "$1" -connect "127.0.0.1:$HTTPS_PORT" </dev/null \
		2>/dev/null | head -1
}

# page COMMAND ARGS...: the browser driver (tests/e2e/page.mjs) on the relay's page, with a
# fresh browser profile.
page() {
	local command=$1
	shift
	node "$ROOT/tests/e2e/page.mjs" "$command" "https://127.0.0.1:$HTTPS_PORT/" \
		"$(mktemp -d "$BATS_TEST_TMPDIR/browser.XXXXXX")" "$@"
}

accounts() {
	sqlite3 "$RUN_DIR/vmail/passdb.sqlite" 'select count(*) from users'
}

@test "port 443: ALPN imap greets as Dovecot's IMAP, ALPN smtp as Postfix's SMTP" {
	greeting=$(greeting imap)
	[[ "$greeting" == "* OK "*"Dovecot"*"ready."* ]]
	greeting=$(greeting smtp)
	[[ "$greeting" == "220 "*"ESMTP"* ]]
}

@test "port 443: ALPN http/1.1, h2 and none get the web page" {
	run curl -sS --insecure --http1.1 -D - "https://127.0.0.1:$HTTPS_PORT/"
	[[ "${lines[0]}" == "HTTP/1.1 200"* ]]
	[[ "$output" == *"a chatmail relay for Delta Chat"* ]]
	run curl -sS --insecure --http2 -D - "https://127.0.0.1:$HTTPS_PORT/"
	[[ "${lines[0]}" == "HTTP/2 200"* ]]
	[[ "$output" == *"a chatmail relay for Delta Chat"* ]]
	for alpn in http/1.1 ""; do
		run tls --client-first ${alpn:+--alpn "$alpn"} $'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n'
		echo "ALPN ${alpn:-none}: $output"
		[[ "${lines[0]}" == "HTTP/1.1 200"* ]]
		[[ "$output" == *"a chatmail relay for Delta Chat"* ]]
	done
}

@test "port 443: Dovecot and Postfix see the client's own address, not nginx's" {
	read -r addr password <<<"$(new_account)"
	auth=$(plain_auth "$addr" "$password")
	run tls --bind 127.0.0.2 --alpn imap "a AUTHENTICATE PLAIN $auth" "b LOGOUT"
	[[ "$output" == *"a OK "*"Logged in"* ]]
	grep -qF "$(dovecot_login_line "$addr"), method=PLAIN, rip=127.0.0.2," "$RUN_DIR/log/dovecot.log"
	run tls --bind 127.0.0.3 --alpn smtp "EHLO client.test" "AUTH PLAIN $auth" "QUIT"
	[[ "$output" == *"235 2.7.0 Authentication successful"* ]]
	grep -q 'postfix/smtps/smtpd\[[0-9]*\]: connect from [^ ]*\[127\.0\.0\.3\]' "$RUN_DIR/log/postfix.log"
	grep -q 'postfix/smtps/smtpd\[[0-9]*\]: disconnect from [^ ]*\[127\.0\.0\.3\] .*auth=1' "$RUN_DIR/log/postfix.log"
}

@test "port 443: POST /new's per-client limit counts each client's own address" {
	# more requests than the local relay's burst (newemail_burst 50), all at once from 127.0.0.2;
	# GET only redirects, so none makes an account
	args=()
	for ((i = 0; i < 80; i++)); do args+=(-o /dev/null "https://127.0.0.1:$HTTPS_PORT/new"); done
	run curl -sS --insecure --interface 127.0.0.2 -w '%{http_code}\n' "${args[@]}"
	[[ "$output" == *429* ]]
	grep -q 'limiting requests, .*zone "newemail", client: 127\.0\.0\.2,' "$RUN_DIR/log/nginx-error.log"
	refute grep -q 'limiting requests, .*client: 127\.0\.0\.1,' "$RUN_DIR/log/nginx-error.log"
	# another client is not held back by 127.0.0.2's requests
	run curl -sS --insecure --interface 127.0.0.3 -o /dev/null -w '%{http_code}' -X POST \
		"https://127.0.0.1:$HTTPS_PORT/new"
	[ "$output" = 200 ]
}

@test "port 443: autoconfig offers IMAP and SMTP on the HTTPS port (SSL) beside 993 and 465" {
	run curl -sS --insecure --fail "https://127.0.0.1:$HTTPS_PORT/.well-known/autoconfig/mail/config-v1.1.xml"
	[ "$status" -eq 0 ]
	servers=$(tr -d ' \n' <<<"$output")
	[[ "$servers" == *"<incomingServertype=\"imap\"><hostname>127.0.0.1</hostname><port>$HTTPS_PORT</port><socketType>SSL</socketType>"* ]]
	[[ "$servers" == *"<outgoingServertype=\"smtp\"><hostname>127.0.0.1</hostname><port>$HTTPS_PORT</port><socketType>SSL</socketType>"* ]]
	[[ "$servers" == *"<port>$IMAPS_PORT</port><socketType>SSL</socketType>"* ]]
	[[ "$servers" == *"<port>$SMTPS_PORT</port><socketType>SSL</socketType>"* ]]
}

@test "Delta Chat with IMAP and SMTP on port 443 alone exchanges messages with another account" {
	# A's login QR code names the HTTPS port for both IMAP and SMTP (tests/e2e/lib/devices.mjs)
	IMAPS_PORT=$HTTPS_PORT SMTPS_PORT=$HTTPS_PORT run node "$ROOT/tests/e2e/e2e.mjs" account A
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok: A is_chatmail=1"* ]]
	[[ "$output" == *"ok: A uses "*"127.0.0.1:$HTTPS_PORT"*"127.0.0.1:$HTTPS_PORT"* ]]
	refute grep -q ":$IMAPS_PORT\|:$SMTPS_PORT" <<<"$(grep '^ok: A uses' <<<"$output")"
	run node "$ROOT/tests/e2e/e2e.mjs" account B
	[ "$status" -eq 0 ]
	run node "$ROOT/tests/e2e/e2e.mjs" meet A B
	echo "$output"
	[ "$status" -eq 0 ]
	run node "$ROOT/tests/e2e/e2e.mjs" exchange A B
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok: B got the text and the 1 MiB file, both with a padlock, the file byte"* ]]
	[[ "$output" == *"ok: A got B's reply with a padlock in the same chat"* ]]
	# Dovecot and Postfix served A (through nginx: A knows no other port)
	a=$(jq -r .email "$E2E_DIR/A/account.json")
	grep -qF "$(dovecot_login_line "$a")" "$RUN_DIR/log/dovecot.log"
	grep -F "sasl_username=$a" "$RUN_DIR/log/postfix.log" | grep -q 'postfix/smtps/smtpd'
	grep -F "sasl_username=<$a>" "$RUN_DIR/log/postfix.log" | grep -q 'proxy-accept: END-OF-MESSAGE: 250 '
	grep -F "to=<$a>" "$RUN_DIR/log/postfix.log" | grep -q 'status=sent'

}

@test "web page of an IP-only relay: a view makes no account; its button shows a dclogin: QR code that logs in" {
	before=$(accounts)
	run page view
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *'ok: the page shows the button "Get an address on 127.0.0.1"'* ]]
	[[ "$output" == *"ok: the page shows no dcaccount: QR code"* ]]
	[ "$(accounts)" = "$before" ]
	png=$BATS_TEST_TMPDIR/qr.png
	run page signup "$png"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(accounts)" = $((before + 1)) ]
	link=$(sed -n 's/^ok: the page links //p' <<<"$output")
	# what a phone's camera reads from the screen
	qr=$(zbarimg -q --raw "$png" 2>/dev/null)
	[[ "$qr" == "dclogin:"*"@%5B127.0.0.1%5D?p="*"&v=1&ic=3&sc=3&ih=127.0.0.1&sh=127.0.0.1&ip=$IMAPS_PORT&sp=$SMTPS_PORT" ]]
	[ "$qr" = "$link" ]
	# its address and password log in, over IMAPS and over port 443
	read -r addr password < <(python3 -c 'import sys, urllib.parse as u
url = u.urlsplit(sys.argv[1].replace("dclogin:", "dclogin://", 1))
print(u.unquote(url.netloc), u.parse_qs(url.query)["p"][0])' "$qr")
	[[ "$addr" =~ ^[a-z0-9]{9}@\[127\.0\.0\.1\]$ ]]
	[ "$(inbox_count "$addr" "$password")" = 0 ]
	run tls --alpn imap "a AUTHENTICATE PLAIN $(plain_auth "$addr" "$password")" "b LOGOUT"
	[[ "$output" == *"a OK "*"Logged in"* ]]
}
