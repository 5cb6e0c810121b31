#!/usr/bin/env bats
# Two relays on one machine, as on the Internet (scripts/federation): a.test and b.test in
# network namespaces of their own, DNS from unbound serving the zones chatmail-setup prints,
# certificates from a test CA, MTA-STS enforced. Each test looks at what the receiving side
# logged and stored. Users act from the devices' namespace (c), a stranger from x.

load lib/common
load lib/relay
load lib/federation

setup_file() {
	e2e_installed
	federation_up
	export E2E_DIR=$BATS_FILE_TMPDIR/devices
}

teardown_file() {
	federation_down
}

setup() {
	read -r A_ADDR A_PASS <<<"$(fed_account a)"
	read -r B_ADDR B_PASS <<<"$(fed_account b)"
	M=$BATS_TEST_TMPDIR/message.eml
}

# A test that changed b.test (its Postfix stopped, its certificate swapped) puts it back, also
# when it failed, so that the next tests meet the relay as it was.
teardown() {
	local main=$FED_DIR/b/etc/postfix/main.cf
	if [ -f "$main.fed-orig" ]; then
		mv "$main.fed-orig" "$main"
		fed_postfix b reload 2>/dev/null || true
	fi
	fed_postfix b status 2>/dev/null || fed_postfix b start 2>/dev/null || true
	# /mxdeliv back on both sides (and b.test's nginx running), nothing remembered; not after
	# the test of down
	[ -e "/run/netns/$FED_NAME-b" ] || return 0
	local relay
	for relay in a b; do
		fed_mxdeliv_restore "$relay" 2>/dev/null || true
		fed_mxdeliv_forget "$relay"
	done
	relay_pid_alive "$FED_DIR/b/run/nginx.pid" ||
		on b nginx -c "$FED_DIR/b/etc/nginx/nginx.conf" -e "$FED_DIR/b/log/nginx-error.log"
}


# as_stranger FROM TO FILE: x.test's server delivers FILE to b.test's MX on port 25.
as_stranger() {
	on x curl -sS --max-time 30 --url "smtp://b.test" --mail-from "$1" --mail-rcpt "$2" \
		--upload-file "$3"
}

# sent_lines RELAY RCPT: how many deliveries to RCPT the relay's Postfix logged as sent to the
# peer: by SMTP, or over /mxdeliv (not the hand-over of mxdeliv-send to the smtp transport).
sent_lines() {
	grep "to=<$2>.*status=sent" "$FED_DIR/$1/log/postfix.log" | grep -vc "handed to SMTP" || true
}

@test "federation: each relay's zone is what chatmail-setup dns prints, signed, and check finds it right" {
	for relay in a b; do
		run on c "$BIN/chatmail-setup" check --domain "$relay.test" --root "$FED_DIR/dns/$relay-root" \
			--ipv4 "$(eval echo "\$IP_${relay^^}")" --resolver "$DNS_IP" \
			--signed-name "$relay.test" --bogus-name bogus.test
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"validates DNSSEC ($relay.test authenticated, bogus.test refused)"* ]]
		[[ "$output" == *" right, 0 missing, 0 wrong" ]]
	done
	# MX and DKIM as another server asks for them
	[ "$(on x dig +short b.test MX)" = "10 b.test." ]
	[ "$(on x dig +short b.test A)" = "$IP_B" ]
	on x dig +short opendkim._domainkey.a.test TXT | grep -q '"v=DKIM1;k=rsa;p=MIIB'
}

@test "federation: each relay's MTA-STS resolver fetches the other's enforce policy over HTTPS" {
	run on a postmap -c "$FED_DIR/a/etc/postfix" -q b.test "socketmap:inet:127.0.0.1:8461:postfix"
	[ "$output" = "secure match=b.test servername=hostname" ]
	run on b postmap -c "$FED_DIR/b/etc/postfix" -q a.test "socketmap:inet:127.0.0.1:8461:postfix"
	[ "$output" = "secure match=a.test servername=hostname" ]
	# the policy served, as the resolver read it (it trusts the test CA, nothing else changed)
	run on x curl -sS --cacert "$CA" https://mta-sts.b.test/.well-known/mta-sts.txt
	[[ "$output" == *"mode: enforce"*"mx: b.test"* ]]
	# a name without a policy gets none: Postfix's own level (may) applies
	run on a postmap -c "$FED_DIR/a/etc/postfix" -q x.test "socketmap:inet:127.0.0.1:8461:postfix"
	[ -z "$output" ]
}

@test "federation: encrypted mail from a.test reaches b.test over /mxdeliv, signed by a.test" {
	encrypted_message "$A_ADDR" "$B_ADDR" >"$M"
	fed_send a "$A_ADDR" "$A_PASS" "$B_ADDR" "$M"
	fed_wait_inbox b "$B_ADDR" "$B_PASS" 1
	# a.test's transport found b.test by its MX and POSTed over HTTPS, the certificate verified
	# against the CA (SSL_CERT_FILE); Postfix logged what mxdeliv-send answered
	grep -q "to=<$B_ADDR>, relay=mxdeliv, .*status=sent (delivered via mxdeliv service (delivered over https://b.test/mxdeliv: 250 " \
		"$FED_DIR/a/log/postfix.log"
	# b.test's nginx logged the POST from a.test's address; its mxdeliv app filtered the message
	grep -q "^$IP_A .*\"POST /mxdeliv HTTP/1.1\" 200 " "$FED_DIR/b/log/mxdeliv-access.log"
	grep -q 'Incoming: Filtering encrypted mail.' "$FED_DIR/b/log/mxdeliv.log"
	grep -q "received mail from $IP_A over HTTPS for 1 recipient(s): 250" "$FED_DIR/b/log/mxdeliv.log"
	# nothing went to port 25
	refute grep -q "postfix/smtp/smtpd.*connect from unknown\[$IP_A\]" "$FED_DIR/b/log/postfix.log"
	# stored with a.test's signature, which verifies against the key a.test publishes in DNS
	file=$(fed_stored b "$B_ADDR")
	grep -q '^DKIM-Signature:.* d=a\.test;' "$file"
	on x dkimverify <"$file"
}

@test "federation: a.test without /mxdeliv gets b.test's mail by SMTP over verified TLS, and b.test remembers it" {
	fed_mxdeliv_off a
	encrypted_message "$B_ADDR" "$A_ADDR" >"$M"
	fed_send b "$B_ADDR" "$B_PASS" "$A_ADDR" "$M"
	fed_wait_inbox a "$A_ADDR" "$A_PASS" 1
	# the POST got 404: back to Postfix, then port 25 as before /mxdeliv existed
	grep -q "to=<$A_ADDR>, relay=mxdeliv, .*status=sent (delivered via mxdeliv service (handed to SMTP (https://a.test/mxdeliv: 404" \
		"$FED_DIR/b/log/postfix.log"
	grep -q "Verified TLS connection established to a.test\[$IP_A\]:25" "$FED_DIR/b/log/postfix.log"
	grep -q "to=<$A_ADDR>, relay=a.test\[$IP_A\]:25, .*status=sent" "$FED_DIR/b/log/postfix.log"
	grep -q "postfix/smtp/smtpd.*connect from unknown\[$IP_B\]" "$FED_DIR/a/log/postfix.log"
	file=$(fed_stored a "$A_ADDR")
	grep -q '^DKIM-Signature:.* d=b\.test;' "$file"
	on x dkimverify <"$file"
	# b.test remembers a.test: the next message goes by SMTP without asking HTTPS again
	[ "$(fed_mxdeliv_memory b)" = a.test ]
	posts=$(fed_mxdeliv_posts a)
	fed_send b "$B_ADDR" "$B_PASS" "$A_ADDR" "$M"
	fed_wait_inbox a "$A_ADDR" "$A_PASS" 2
	grep -q "handed to SMTP (a.test without /mxdeliv in the last 30 minutes)" "$FED_DIR/b/log/postfix.log"
	[ "$(fed_mxdeliv_posts a)" = "$posts" ]
	[ "$(sent_lines b "$A_ADDR")" = 2 ]
}

@test "federation: a body over b.test's /mxdeliv limit gets 413 and then arrives by SMTP" {
	# b.test's nginx takes less than a.test sends (both relays have the same max_message_size)
	conf=$FED_DIR/b/etc/nginx/mxdeliv-fastcgi.conf
	cp "$conf" "$conf.fed-orig"
	sed -i 's/client_max_body_size .*;/client_max_body_size 100k;/' "$conf"
	fed_nginx_reload b
	{ encrypted_message "$A_ADDR" "$B_ADDR"; head -c 150000 /dev/urandom | base64; } >"$M"
	before=$(fed_inbox_count b "$B_ADDR" "$B_PASS")
	fed_send a "$A_ADDR" "$A_PASS" "$B_ADDR" "$M"
	fed_wait_inbox b "$B_ADDR" "$B_PASS" $((before + 1))
	grep -q "^$IP_A .*\"POST /mxdeliv HTTP/1.1\" 413 " "$FED_DIR/b/log/mxdeliv-access.log"
	grep -q "handed to SMTP (https://b.test/mxdeliv: 413 552 5.3.4 Message size exceeds fixed limit)" \
		"$FED_DIR/a/log/postfix.log"
	grep -q "to=<$B_ADDR>, relay=b.test\[$IP_B\]:25, .*status=sent" "$FED_DIR/a/log/postfix.log"
	# a size refusal is not a host without /mxdeliv: nothing remembered
	[ -z "$(fed_mxdeliv_memory a)" ]
}

# post_to_b FILE [CURL ARGS...]: the stranger POSTs FILE to https://b.test/mxdeliv; sets $code
# and $body.
post_to_b() {
	local file=$1
	shift
	code=$(on x curl -sS --cacert "$CA" --max-time 30 -o "$BATS_TEST_TMPDIR/answer" \
		-w '%{http_code}' --data-binary "@$file" "$@" https://b.test/mxdeliv)
	body=$(cat "$BATS_TEST_TMPDIR/answer")
	echo "POST: $code $body"
}

@test "federation: b.test's /mxdeliv refuses cleartext for a protected user, bad DKIM and unknown recipients" {
	before=$(fed_inbox_count b "$B_ADDR" "$B_PASS")
	# cleartext from x.test, signed by x.test: the encryption verdict comes first
	plain_message x@x.test "$B_ADDR" | on x dkimsign opendkim x.test "$FED_DIR/x/x.test.private" >"$M"
	post_to_b "$M" -H "X-Mail-From: x@x.test" -H "X-Mail-To: $B_ADDR"
	[ "$code" = 400 ]
	[ "$body" = "523 Encryption Needed: Invalid Unencrypted Mail" ]
	# encrypted, claiming From: x@a.test, signed with a key that is not a.test's
	encrypted_message x@a.test "$B_ADDR" | on x dkimsign opendkim a.test "$FED_DIR/x/wrong-a.test.private" >"$M"
	post_to_b "$M" -H "X-Mail-From: x@a.test" -H "X-Mail-To: $B_ADDR"
	[ "$code" = 400 ]
	[ "$body" = "554 5.7.1 No valid DKIM signature found" ]
	# validly signed by x.test, for an address b.test has no account for
	encrypted_message x@x.test nobody123@b.test | on x dkimsign opendkim x.test "$FED_DIR/x/x.test.private" >"$M"
	post_to_b "$M" -H "X-Mail-From: x@x.test" -H "X-Mail-To: nobody123@b.test"
	[ "$code" = 400 ]
	[ "$body" = "550 5.1.1 Recipient address rejected: User unknown" ]
	# and the same message for the account is taken: the refusals above were about the rules
	encrypted_message x@x.test "$B_ADDR" | on x dkimsign opendkim x.test "$FED_DIR/x/x.test.private" >"$M"
	post_to_b "$M" -H "X-Mail-From: x@x.test" -H "X-Mail-To: $B_ADDR"
	[ "$code" = 200 ]
	fed_wait_inbox b "$B_ADDR" "$B_PASS" $((before + 1))
}

# refused_from_stranger FILE REPLY: x.test's server delivers FILE, claiming From: x@a.test, to
# b.test; b.test must refuse it with REPLY and store nothing.
refused_from_stranger() {
	run as_stranger x@a.test "$B_ADDR" "$1"
	[ "$status" -ne 0 ]
	grep -q "$2" "$FED_DIR/b/log/postfix.log"
	sleep 1
	[ "$(fed_inbox_count b "$B_ADDR" "$B_PASS")" = 0 ]
}

@test "federation: mail claiming From: x@a.test without a DKIM signature is refused (554 5.7.1)" {
	encrypted_message x@a.test "$B_ADDR" >"$M"
	refused_from_stranger "$M" "554 5.7.1 No DKIM signature found"
}

@test "federation: mail claiming From: x@a.test signed with another key than a.test's is refused" {
	encrypted_message x@a.test "$B_ADDR" | on x dkimsign opendkim a.test "$FED_DIR/x/wrong-a.test.private" >"$M"
	grep -q '^DKIM-Signature:.* d=a.test' "$M"
	refused_from_stranger "$M" "554 5.7.1 No valid DKIM signature found"
}

@test "federation: mail claiming From: x@a.test signed validly by x.test is refused" {
	encrypted_message x@a.test "$B_ADDR" | on x dkimsign opendkim x.test "$FED_DIR/x/x.test.private" >"$M"
	# the signature itself is good: only its domain is not the From: domain
	on x dkimverify <"$M"
	refused_from_stranger "$M" "554 5.7.1 No valid DKIM signature found"
}

@test "federation: while b.test (Postfix and nginx) is down a.test queues, and the mail arrives once when it returns" {
	fed_postfix b stop
	on b nginx -c "$FED_DIR/b/etc/nginx/nginx.conf" -e "$FED_DIR/b/log/nginx-error.log" -s quit
	posts=$(fed_mxdeliv_posts b)
	encrypted_message "$A_ADDR" "$B_ADDR" >"$M"
	fed_send a "$A_ADDR" "$A_PASS" "$B_ADDR" "$M"
	for ((i = 0; i < 100; i++)); do
		grep -q "to=<$B_ADDR>.*status=deferred.*Connection refused" "$FED_DIR/a/log/postfix.log" && break
		sleep 0.1
	done
	grep -q "to=<$B_ADDR>.*status=deferred.*Connection refused" "$FED_DIR/a/log/postfix.log"
	fed_queue a | grep -qF "$B_ADDR"
	# the POST found nothing listening: the message went back to Postfix for SMTP, which defers
	grep -q "to=<$B_ADDR>, relay=mxdeliv, .*handed to SMTP (https://b.test/mxdeliv: " "$FED_DIR/a/log/postfix.log"
	fed_postfix b start
	on b nginx -c "$FED_DIR/b/etc/nginx/nginx.conf" -e "$FED_DIR/b/log/nginx-error.log"
	# a.test retries on its own (the test bed's backoff is seconds, not minutes)
	fed_wait_inbox b "$B_ADDR" "$B_PASS" 1 30
	sleep 5
	[ "$(fed_inbox_count b "$B_ADDR" "$B_PASS")" = 1 ]
	[ "$(sent_lines a "$B_ADDR")" = 1 ]
	[ "$(grep -c "to=<$B_ADDR>.*status=sent" "$FED_DIR/b/log/postfix.log")" = 1 ]
	run fed_queue a
	[[ "$output" == *"Mail queue is empty"* ]]
	# the retry was SMTP's, from the queue: no second POST reached b.test
	[ "$(fed_mxdeliv_posts b)" = "$posts" ]
}

@test "federation: b.test with a certificate the CA did not sign gets nothing from a.test, not even in clear" {
	# SMTP's TLS is the point here: b.test without /mxdeliv
	fed_mxdeliv_off b
	# a.test has b.test's enforce policy from an earlier delivery, as a relay on the Internet would
	encrypted_message "$A_ADDR" "$B_ADDR" >"$M"
	fed_send a "$A_ADDR" "$A_PASS" "$B_ADDR" "$M"
	fed_wait_inbox b "$B_ADDR" "$B_PASS" 1
	# b.test's port 25 now shows a self-signed certificate for its own name; its web server
	# (the policy) keeps the CA's
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=b.test" \
		-addext "subjectAltName=DNS:b.test" -keyout "$BATS_TEST_TMPDIR/self.key" \
		-out "$BATS_TEST_TMPDIR/self.pem" 2>/dev/null
	main=$FED_DIR/b/etc/postfix/main.cf
	cp "$main" "$main.fed-orig"
	postconf -c "$FED_DIR/b/etc/postfix" -e "smtpd_tls_cert_file = $BATS_TEST_TMPDIR/self.pem" \
		"smtpd_tls_key_file = $BATS_TEST_TMPDIR/self.key"
	fed_postfix b reload
	seen=$(wc -l <"$FED_DIR/b/log/postfix.log")
	fed_send a "$A_ADDR" "$A_PASS" "$B_ADDR" "$M"
	for ((i = 0; i < 100; i++)); do
		grep -q "to=<$B_ADDR>.*status=deferred (Server certificate not verified)" \
			"$FED_DIR/a/log/postfix.log" && break
		sleep 0.1
	done
	grep -q "certificate verification failed for b.test\[$IP_B\]:25: self-signed certificate" \
		"$FED_DIR/a/log/postfix.log"
	grep -q "to=<$B_ADDR>.*dsn=4.7.5, status=deferred (Server certificate not verified)" \
		"$FED_DIR/a/log/postfix.log"
	# a few retries later: still queued at a.test; each time it left b.test right after the TLS
	# handshake (EHLO, STARTTLS, QUIT), never giving a sender or a message, in TLS or in clear
	sleep 5
	fed_queue a | grep -qF "$B_ADDR"
	since=$(tail -n +"$((seen + 1))" "$FED_DIR/b/log/postfix.log" | grep "postfix/smtp/smtpd.*\[$IP_A\]")
	echo "$since"
	grep -q "disconnect from unknown\[$IP_A\] ehlo=1 starttls=1 quit=1 commands=3" <<<"$since"
	refute grep -q "client=\|mail=\|disconnect.* commands=[0-9]*/\|disconnect.*ehlo=1 quit" <<<"$since"
	[ "$(fed_inbox_count b "$B_ADDR" "$B_PASS")" = 1 ]
	[ "$(sent_lines a "$B_ADDR")" = 1 ]
	# the right certificate back: the queued message arrives, once
	mv "$main.fed-orig" "$main"
	fed_postfix b reload
	fed_wait_inbox b "$B_ADDR" "$B_PASS" 2 30
	[ "$(sent_lines a "$B_ADDR")" = 2 ]
}

# dc RELAY COMMAND ARGS...: a command of the Delta Chat driver on the devices' namespace, with
# a new device's account made on RELAY.
dc() {
	local relay=$1
	shift
	on c env E2E_HOST="$relay.test" E2E_CA="$CA" HTTPS_PORT=443 IMAPS_PORT=993 SMTPS_PORT=465 \
		node "$ROOT/tests/e2e/e2e.mjs" "$@"
}

DEVICES="A:a B:b C:b" # device:relay

@test "federation: Delta Chat configures devices A on a.test, B and C on b.test" {
	for device in $DEVICES; do
		run dc "${device#*:}" account "${device%:*}"
		echo "$output"
		[ "$status" -eq 0 ]
		[[ "$output" == *"ok: ${device%:*} configured "*"@${device#*:}.test from a login QR code"* ]]
		[[ "$output" == *"ok: ${device%:*} is_chatmail=1"* ]]
	done
}

# The devices on their relays, also when a test runs alone (BATS_FILTER).
devices_made() {
	local device
	for device in $DEVICES; do
		[ -f "$E2E_DIR/${device%:*}/account.json" ] || dc "${device#*:}" account "${device%:*}"
	done
}

@test "federation: Delta Chat: A on a.test joins B's invite on b.test, both verified and encrypted" {
	devices_made
	run dc a join A B
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok: A and B see each other as verified"* ]]
	[[ "$output" == *"ok: both chats are encrypted"* ]]
	# the join went from relay to relay over /mxdeliv (verified HTTPS) both ways
	grep -q "relay=mxdeliv, .*status=sent (delivered via mxdeliv service (delivered over https://b.test/mxdeliv: 250" \
		"$FED_DIR/a/log/postfix.log"
	grep -q "relay=mxdeliv, .*status=sent (delivered via mxdeliv service (delivered over https://a.test/mxdeliv: 250" \
		"$FED_DIR/b/log/postfix.log"
}

@test "federation: Delta Chat: text and a 1 MiB file from A to B with a padlock, and back from B to A" {
	devices_made
	local relay seen_a seen_b
	# what the filters logged before (the stranger's refused mail of the tests above)
	seen_a=$(wc -l <"$FED_DIR/a/log/filtermail.log")
	seen_b=$(wc -l <"$FED_DIR/b/log/filtermail.log")
	seen_ma=$(wc -l <"$FED_DIR/a/log/mxdeliv.log")
	seen_mb=$(wc -l <"$FED_DIR/b/log/mxdeliv.log")
	run dc a exchange A B
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok: B got the text and the 1 MiB file, both with a padlock, the file byte"* ]]
	[[ "$output" == *"ok: A got B's reply with a padlock in the same chat"* ]]
	run dc a exchange B A
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"ok: A got the text and the 1 MiB file, both with a padlock, the file byte"* ]]
	# nothing of this exchange was refused on either side (DKIM, encryption)
	refute grep -q 'Rejected' <(tail -n +$((seen_a + 1)) "$FED_DIR/a/log/filtermail.log")
	refute grep -q 'Rejected' <(tail -n +$((seen_b + 1)) "$FED_DIR/b/log/filtermail.log")
	refute grep -q 'Rejected' <(tail -n +$((seen_ma + 1)) "$FED_DIR/a/log/mxdeliv.log")
	refute grep -q 'Rejected' <(tail -n +$((seen_mb + 1)) "$FED_DIR/b/log/mxdeliv.log")
	grep -q 'Incoming: Filtering encrypted mail.' "$FED_DIR/b/log/mxdeliv.log"
}

@test "federation: Delta Chat: a group with members on both relays, every message reaches the others" {
	devices_made
	run dc a group A B C
	group_complete
}

@test "federation: an up that fails halfway tears down what it started" {
	# the relays' daemons cannot reach a state directory below a closed one: the relays fail
	# after the CA and the namespaces were made
	mkdir -m 700 "$BATS_TEST_TMPDIR/closed"
	name="cmf$((RANDOM % 100000))"
	run env FED_DIR="$BATS_TEST_TMPDIR/closed/federation" FED_NAME="$name" "$ROOT/scripts/federation" up
	echo "$output"
	[ "$status" -ne 0 ]
	[[ "$output" == *"is not searchable by other users"* ]]
	[[ "$output" == *"federation: up failed, tearing down"* ]]
	refute grep -q "^$name-" < <(ip netns list)
	[ -z "$(ls -d /etc/netns/"$name"-* 2>/dev/null)" ]
}

@test "federation: down ends every daemon of the test bed and removes its namespaces" {
	"$ROOT/scripts/federation" down
	refute grep -q "^$FED_NAME-" < <(ip netns list)
	[ -z "$(ls -d /etc/netns/"$FED_NAME"-* 2>/dev/null)" ]
	# nothing runs any more from the test bed's directory (the relays' configs and logs)
	refute pgrep -f "$FED_DIR/" >/dev/null
	run "$ROOT/scripts/federation" status
	[[ "$output" == *"namespace $FED_NAME-a: absent"* ]]
	[[ "$output" == *"unbound: stopped"* ]]
}
