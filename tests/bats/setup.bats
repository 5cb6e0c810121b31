#!/usr/bin/env bats
# make install into a DESTDIR, then chatmail-setup with that directory as its root: the
# installed tree, users and permissions, configs that validate, units that systemd-analyze
# accepts, a second run that changes nothing, and the whole relay started by hand from the
# installed configs (no systemd on test machines), used as Delta Chat and other servers use it.

load lib/common
load lib/relay
load lib/setup

TEST_USER=chatmail-test

setup_file() {
	export R
	R=$(new_root)
	make_install "$R"
	export PORT_BASE
	PORT_BASE=$(free_port_block)
	"$R/usr/local/bin/chatmail-setup" --domain chat.test --root "$R" --vmail-user $TEST_USER \
		--log-dir "$R/var/log/chatmail" --listen 127.0.0.1 --port-base "$PORT_BASE" >"$R/setup.out"
	# a test relay: no account refused because the test machine is busy; set up with it
	relay_ini_test_relay >>"$R/etc/chatmail/chatmail.ini"
	"$R/usr/local/bin/chatmail-setup" --root "$R" >/dev/null
	setup_start "$R"
	relay_ports "$PORT_BASE"
	export "${LISTENER_PORTS[@]}"
	local port
	for port in $IMAPS_PORT $SMTP_PORT $SMTPS_PORT $HTTPS_PORT; do wait_port "$port"; done
}

teardown_file() {
	setup_stop "${R:-}"
	[ -n "${R:-}" ] && rm -rf "$R"
	userdel $TEST_USER 2>/dev/null || true
}

setup() {
	M=$BATS_TEST_TMPDIR/message.eml
}

mode_owner() {
	stat -c '%a %U' "$1"
}

@test "setup: make install puts the programs, chatmail-setup, templates, pages and man pages below DESTDIR and PREFIX" {
	for program in doveauth newemail filtermail mxdeliv mxdeliv-send chatmail-expire chatmailctl \
		chatmail-render chatmail-setup chatmail-instant-idle chatmail-metadata chatmail-notifier; do
		[ "$(stat -c %a "$R/usr/local/bin/$program")" = 755 ] || { echo "no $program"; false; }
		[ -f "$R/usr/local/share/man/man8/$program.8" ] || { echo "no man page of $program"; false; }
		run groff -man -Tutf8 -ww -z "$R/usr/local/share/man/man8/$program.8"
		[ -z "$output" ] || { echo "$program.8: $output"; false; }
	done
	(cd "$ROOT" && find conf www layout -type f ! -name '.*') | while read -r file; do
		cmp "$ROOT/$file" "$R/usr/local/share/chatmail/$file"
	done
	# chatmail-setup's dns and check commands: a file it sources, not a command of its own
	cmp "$ROOT/admin/chatmail-setup-dns.sh" "$R/usr/local/share/chatmail/chatmail-setup-dns.sh"
	[ "$(stat -c %a "$R/usr/local/share/chatmail/chatmail-setup-dns.sh")" = 644 ]
	# an installed chatmail-setup finds its templates through its own place
	make_install "$BATS_TEST_TMPDIR/dest" /usr
	[ -x "$BATS_TEST_TMPDIR/dest/usr/bin/chatmail-setup" ]
	[ -f "$BATS_TEST_TMPDIR/dest/usr/share/chatmail/conf/postfix/main.cf" ]
	run "$BATS_TEST_TMPDIR/dest/usr/bin/chatmail-setup" dns --domain chat.example.org \
		--ipv4 192.0.2.10 --root "$BATS_TEST_TMPDIR"
	[ "$status" -eq 0 ]
	[[ "$output" == *'_mta-sts.chat.example.org.           3600 IN TXT   "v=STSv1; id='* ]]
}

@test "setup: setup makes the vmail user, closed directories, chatmail.ini, the DKIM key and a certificate" {
	id -u $TEST_USER
	[ "$(mode_owner "$R/home/vmail")" = "700 $TEST_USER" ]
	[ "$(mode_owner "$R/home/vmail/mail/chat.test")" = "700 $TEST_USER" ]
	[ "$(mode_owner "$R/var/lib/chatmail")" = "700 $TEST_USER" ]
	[ "$(mode_owner "$R/etc/dkimkeys")" = "700 opendkim" ]
	[ "$(mode_owner "$R/etc/dkimkeys/opendkim.private")" = "600 opendkim" ]
	[ "$(mode_owner "$R/etc/chatmail/tls/key.pem")" = "600 root" ]
	[ "$(mode_owner "$R/var/spool/postfix/opendkim")" = "750 opendkim" ]
	grep -qx 'mail_domain = chat.test' "$R/etc/chatmail/chatmail.ini"
	grep -qx "vmail_user = $TEST_USER" "$R/etc/chatmail/chatmail.ini"
	run openssl x509 -in "$R/etc/chatmail/tls/cert.pem" -noout -ext subjectAltName
	[[ "$output" == *"DNS:chat.test, DNS:mta-sts.chat.test"* ]]
	grep -q "made the DKIM key $R/etc/dkimkeys/opendkim.private" "$R/setup.out"
	# without systemd it says what to start rather than pretending it did
	grep -q 'no systemd here (--root, or a container): do it yourself: .*reload postfix' "$R/setup.out"
}

@test "setup: every installed config validates and names nothing outside the root" {
	run postfix -c "$R/etc/postfix" check
	[ "$status" -eq 0 ]
	run doveconf -c "$R/etc/dovecot/dovecot.conf" -n
	[ "$status" -eq 0 ]
	run nginx -t -c "$R/etc/nginx/nginx.conf" -e /dev/null
	[ "$status" -eq 0 ]
	run opendkim -n -x "$R/etc/opendkim/opendkim.conf"
	[ "$status" -eq 0 ]
	run grep -rnE '^[^#]*([ =<:]|^)/(home|run|var/spool|var/lib|var/www|etc/chatmail|etc/dkimkeys)/' \
		"$R/etc/postfix" "$R/etc/dovecot" "$R/etc/nginx" "$R/etc/opendkim" "$R/etc/systemd/system"
	[ "$status" -eq 1 ] || { echo "$output"; false; }
	grep -q "^smtpd_tls_cert_file = $R/etc/chatmail/tls/cert.pem$" "$R/etc/postfix/main.cf"
	grep -q "^smtp_tls_policy_maps = socketmap:inet:127.0.0.1:8461:postfix$" "$R/etc/postfix/main.cf"
}

@test "setup: systemd-analyze verifies the installed units, hardened, and the timer and newemail are enabled" {
	units=$R/etc/systemd/system
	run systemd-analyze verify "$units/chatmail-newemail.service" "$units/chatmail-expire.service" \
		"$units/chatmail-expire.timer" "$units/chatmail-mxdeliv.service"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	# the OpenDKIM drop-in on Debian's unit
	mkdir "$BATS_TEST_TMPDIR/units"
	cp /lib/systemd/system/opendkim.service "$BATS_TEST_TMPDIR/units/"
	cp -r "$units/opendkim.service.d" "$BATS_TEST_TMPDIR/units/"
	run systemd-analyze verify "$BATS_TEST_TMPDIR/units/opendkim.service"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	for unit in chatmail-newemail.service chatmail-expire.service; do
		run systemd-analyze security --offline=yes "$units/$unit"
		level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$output")
		echo "$unit: exposure $level"
		awk -v level="$level" 'BEGIN { exit !(level != "" && level < 3.0) }'
	done
	[ "$(readlink "$units/timers.target.wants/chatmail-expire.timer")" = /etc/systemd/system/chatmail-expire.timer ]
	[ -L "$units/multi-user.target.wants/chatmail-newemail.service" ]
	[ -L "$units/multi-user.target.wants/chatmail-mxdeliv.service" ]
	refute test -e "$units/multi-user.target.wants/chatmail-expire.service"
}

@test "setup: push units verify and are hardened; coturn's config holds the TURN secret for root and coturn only" {
	units=$R/etc/systemd/system
	run systemd-analyze verify "$units/chatmail-metadata.socket" "$units/chatmail-notifier.service"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	for unit in chatmail-metadata@.service chatmail-notifier.service; do
		run systemd-analyze security --offline=yes "$units/$unit"
		level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$output")
		echo "$unit: exposure $level"
		awk -v level="$level" 'BEGIN { exit !(level != "" && level < 3.0) }'
	done
	[ -L "$units/sockets.target.wants/chatmail-metadata.socket" ]
	[ -L "$units/multi-user.target.wants/chatmail-notifier.service" ]
	refute test -e "$units/multi-user.target.wants/chatmail-metadata@.service"
	grep -q "^ListenStream=$R/run/chatmail-metadata/metadata.sock$" "$units/chatmail-metadata.socket"
	if [ "$(relay_dovecot_version)" = 2.3 ]; then
		grep -q "^mail_attribute_dict = proxy:$R/run/chatmail-metadata/metadata.sock:metadata$" \
			"$R/etc/dovecot/dovecot.conf"
	else
		grep -q "^    dict_proxy_socket_path = $R/run/chatmail-metadata/metadata.sock$" \
			"$R/etc/dovecot/dovecot.conf"
	fi
	[ "$(stat -c '%a %U %G' "$R/etc/turnserver.conf")" = "640 root turnserver" ]
	secret=$(cat "$R/home/vmail/state/turn-secret" 2>/dev/null || find "$R" -name turn-secret -exec cat {} \;)
	[ "${#secret}" -eq 64 ]
	grep -qx "static-auth-secret=$secret" "$R/etc/turnserver.conf"
	grep -qx "realm=chat.test" "$R/etc/turnserver.conf"
	grep -qx "denied-peer-ip=127.0.0.0-127.255.255.255" "$R/etc/turnserver.conf"
	refute test -e "$R/etc/coturn/turnserver.conf"
}

@test "setup: an account from POST /new logs in over IMAPS and SMTPS of the installed relay" {
	read -r A_ADDR A_PASS < <(new_account)
	[[ "$A_ADDR" =~ ^[a-z0-9]{9}@chat\.test$ ]]
	[ "$(inbox_count "$A_ADDR" "$A_PASS")" = 0 ]
	run curl -sS --insecure --user "$A_ADDR:$A_PASS" "smtps://127.0.0.1:$SMTPS_PORT" -X NOOP
	[ "$status" -eq 0 ]
	[ -d "$R/home/vmail/mail/chat.test/$A_ADDR" ]
}

@test "setup: an encrypted message arrives, signed with the key whose record chatmail-setup dns prints" {
	read -r A_ADDR A_PASS < <(new_account)
	read -r B_ADDR B_PASS < <(new_account)
	encrypted_message "$A_ADDR" "$B_ADDR" >"$M"
	send_smtps "$A_ADDR" "$A_PASS" "$A_ADDR" "$B_ADDR" "$M"
	wait_inbox "$B_ADDR" "$B_PASS" 1
	file=$(ls "$R/home/vmail/mail/chat.test/$B_ADDR"/new/* "$R/home/vmail/mail/chat.test/$B_ADDR"/cur/* 2>/dev/null | head -1)
	grep -q '^Subject: \[\.\.\.\]' "$file"
	# the DKIM record of the zone to publish, served from a file instead of DNS
	"$R/usr/local/bin/chatmail-setup" dns --root "$R" --ipv4 192.0.2.10 >"$BATS_TEST_TMPDIR/zone"
	key=$(sed -n 's/^opendkim\._domainkey\.chat\.test\. .* TXT   //p' "$BATS_TEST_TMPDIR/zone" |
		sed -e 's/^"//' -e 's/"$//' -e 's/" "//g')
	[[ "$key" == "v=DKIM1;k=rsa;p="* ]]
	echo "opendkim._domainkey.chat.test $key" >"$BATS_TEST_TMPDIR/dns"
	printf 'Mode v\nSyslog no\nTestDNSData file:%s\n' "$BATS_TEST_TMPDIR/dns" >"$BATS_TEST_TMPDIR/verify.conf"
	grep -v '^Return-Path:\|^Delivered-To:' "$file" >"$BATS_TEST_TMPDIR/signed.eml"
	run opendkim -x "$BATS_TEST_TMPDIR/verify.conf" -t "$BATS_TEST_TMPDIR/signed.eml"
	[[ "$output" == *"verification (s=opendkim, d=chat.test"*"succeeded"* ]]
}

@test "setup: an unencrypted message is refused with 523 by the installed relay" {
	read -r A_ADDR A_PASS < <(new_account)
	read -r B_ADDR B_PASS < <(new_account)
	plain_message "$A_ADDR" "$B_ADDR" >"$M"
	run send_smtps "$A_ADDR" "$A_PASS" "$A_ADDR" "$B_ADDR" "$M"
	[ "$status" -ne 0 ]
	grep -q "Rejected unencrypted mail from: $A_ADDR" "$R/var/log/chatmail/filtermail.log"
	[ "$(inbox_count "$B_ADDR" "$B_PASS")" = 0 ]
}

@test "setup: the pages and the MTA-STS policy are served with the installed certificate for the domain" {
	run curl -sS --fail --cacert "$R/etc/chatmail/tls/cert.pem" \
		--resolve "chat.test:$HTTPS_PORT:127.0.0.1" "https://chat.test:$HTTPS_PORT/"
	[ "$status" -eq 0 ]
	[[ "$output" == *"dcaccount:https://chat.test/new"* ]]
	run curl -sS --fail --cacert "$R/etc/chatmail/tls/cert.pem" \
		--resolve "mta-sts.chat.test:$HTTPS_PORT:127.0.0.1" "https://mta-sts.chat.test:$HTTPS_PORT/.well-known/mta-sts.txt"
	[ "$status" -eq 0 ]
	[[ "$output" == *"mx: chat.test"* ]]
	# the id published for the policy is the one of the policy served
	"$R/usr/local/bin/chatmail-setup" dns --root "$R" --ipv4 192.0.2.10 | grep -q '"v=STSv1; id='
}

@test "setup: the HTTPS port routes ALPN imap to Dovecot and smtp to Postfix; a public name's page offers dcaccount:" {
	local alpn greeting
	for alpn in imap:'* OK ' smtp:'220 '; do
		greeting=$(timeout 10 openssl s_client -quiet -alpn "${alpn%%:*}" \
			-connect "127.0.0.1:$HTTPS_PORT" </dev/null 2>/dev/null | head -1)
		[[ "$greeting" == "${alpn#*:}"* ]]
	done
	run curl -sS --fail --cacert "$R/etc/chatmail/tls/cert.pem" \
		--resolve "chat.test:$HTTPS_PORT:127.0.0.1" "https://chat.test:$HTTPS_PORT/"
	[[ "$output" == *'<body class="signup-dcaccount">'* ]]
	# the page's QR encoder, Debian's libjs-qrcode-generator
	run curl -sS --fail --cacert "$R/etc/chatmail/tls/cert.pem" \
		--resolve "chat.test:$HTTPS_PORT:127.0.0.1" "https://chat.test:$HTTPS_PORT/qrcode.js"
	[ "$status" -eq 0 ]
	[[ "$output" == *"var qrcode = function"* ]]
}

@test "setup: the relay's resolver: unbound's loopback drop-in, and resolv.conf below the root naming only it" {
	local dropin=$R/etc/unbound/unbound.conf.d/chatmail.conf
	[ "$(mode_owner "$dropin")" = "644 root" ]
	grep -qxF $'\tinterface: 127.0.0.1' "$dropin"
	[ "$(grep -c '^[[:space:]]*interface:' "$dropin")" -eq 2 ]
	grep -qxF $'\tinterface: ::1' "$dropin"
	# unbound accepts it (the root trust anchor comes from Debian's file beside it)
	printf 'server:\n\tchroot: ""\ninclude: "%s"\n' "$dropin" >"$BATS_TEST_TMPDIR/unbound.conf"
	run unbound-checkconf "$BATS_TEST_TMPDIR/unbound.conf"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$(unbound-checkconf -o cache-max-negative-ttl "$BATS_TEST_TMPDIR/unbound.conf")" = 0 ]
	[ "$(sed -n 's/^nameserver //p' "$R/etc/resolv.conf")" = 127.0.0.1 ]
	grep -qx 'options edns0 trust-ad' "$R/etc/resolv.conf"
	grep -q "wrote $R/etc/resolv.conf" "$R/setup.out"
	# nothing of the machine's: its resolv.conf is not ours
	refute grep -q 'chatmail-setup' /etc/resolv.conf
}

@test "setup: resolv.conf: the one it replaces is kept, DHCP and NetworkManager are told to leave it, status names a stranger" {
	local other
	other=$(new_root)
	mkdir -p "$other/etc/dhcp/dhclient-enter-hooks.d" "$other/etc/NetworkManager/conf.d"
	# as systemd-resolved leaves it: a link to its stub's file
	ln -s ../run/systemd/resolve/stub-resolv.conf "$other/etc/resolv.conf"
	run "$R/usr/local/bin/chatmail-setup" --domain chat.test --root "$other" --vmail-user $TEST_USER \
		--port-base "$PORT_BASE"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	refute test -L "$other/etc/resolv.conf"
	[ "$(sed -n 's/^nameserver //p' "$other/etc/resolv.conf")" = 127.0.0.1 ]
	[ "$(readlink "$other/etc/resolv.conf.chatmail-setup.orig")" = ../run/systemd/resolve/stub-resolv.conf ]
	# dhclient-script sources its enter hooks: make_resolv_conf then writes nothing
	(
		make_resolv_conf() { echo "nameserver 192.0.2.53" >"$other/etc/resolv.conf"; }
		# shellcheck disable=SC1091
		. "$other/etc/dhcp/dhclient-enter-hooks.d/chatmail-resolver"
		make_resolv_conf
	)
	[ "$(sed -n 's/^nameserver //p' "$other/etc/resolv.conf")" = 127.0.0.1 ]
	grep -qx 'dns=none' "$other/etc/NetworkManager/conf.d/chatmail-dns.conf"
	[[ "$output" == *"reload NetworkManager"* ]]
	run "$R/usr/local/bin/chatmail-setup" status --root "$other"
	grep -qE "^resolver +127\.0\.0\.1 \(unbound, $other/etc/resolv.conf\)$" <<<"$output"
	# someone else's resolver: status says so and fails
	printf 'nameserver 192.0.2.53\n' >"$other/etc/resolv.conf"
	run "$R/usr/local/bin/chatmail-setup" status --root "$other"
	[ "$status" -eq 1 ]
	grep -qE "^resolver +192\.0\.2\.53 in $other/etc/resolv.conf, not the relay's unbound: run chatmail-setup$" <<<"$output"
	# a run sets it back, and keeps the first original
	run "$R/usr/local/bin/chatmail-setup" --root "$other"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$(sed -n 's/^nameserver //p' "$other/etc/resolv.conf")" = 127.0.0.1 ]
	[ "$(readlink "$other/etc/resolv.conf.chatmail-setup.orig")" = ../run/systemd/resolve/stub-resolv.conf ]
	rm -rf "$other"
}

@test "setup: status shows each service, the last errors, and a service that is down" {
	run "$R/usr/local/bin/chatmail-setup" status --root "$R"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	for service in postfix dovecot opendkim nginx chatmail-newemail chatmail-mxdeliv; do
		grep -qE "^$service +active$" <<<"$output" || { echo "$service: $output"; false; }
	done
	grep -qE "^resolver +127\.0\.0\.1 \(unbound, $R/etc/resolv.conf\)$" <<<"$output"
	grep -qE '^chatmail-expire.timer +enabled$' <<<"$output"
	# the unencrypted message of the test before, as Postfix logged its refusal
	grep -q '^    .*523' <<<"$output"
	nginx -c "$R/etc/nginx/nginx.conf" -e /dev/null -s stop
	for ((i = 0; i < 50; i++)); do [ -s "$R/run/nginx.pid" ] || break; sleep 0.1; done
	run "$R/usr/local/bin/chatmail-setup" status --root "$R"
	[ "$status" -eq 1 ]
	grep -qE '^nginx +inactive$' <<<"$output"
	nginx -c "$R/etc/nginx/nginx.conf" -e "$R/var/log/chatmail/nginx-error.log"
}

@test "setup: a second run changes nothing and says so" {
	touch "$BATS_TEST_TMPDIR/stamp"
	run "$R/usr/local/bin/chatmail-setup" --root "$R"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "chatmail-setup: nothing changed: the relay chat.test is set up" ]
	refute grep -q wrote <<<"$output"
	[ -z "$(find "$R/etc" "$R/var/www" "$R/var/lib/chatmail-setup" -newer "$BATS_TEST_TMPDIR/stamp")" ]
}

@test "setup: a changed chatmail.ini rewrites only what depends on it and names only those services" {
	echo "max_mailbox_size = 2G" >>"$R/etc/chatmail/chatmail.ini"
	run "$R/usr/local/bin/chatmail-setup" --root "$R"
	[ "$status" -eq 0 ]
	[[ "$output" == *"wrote $R/etc/dovecot/dovecot.conf"* ]]
	[[ "$output" == *"wrote $R/var/www/chatmail/index.html"* ]]
	refute grep -q "wrote $R/etc/postfix\|wrote $R/etc/nginx\|wrote $R/etc/opendkim" <<<"$output"
	[[ "$output" == *"do it yourself: restart chatmail-newemail, restart chatmail-mxdeliv, restart chatmail-notifier, reload dovecot"* ]]
	if [ "$(relay_dovecot_version)" = 2.3 ]; then
		grep -q 'quota_rule = \*:storage=2147483648B' "$R/etc/dovecot/dovecot.conf"
	else
		grep -q '^quota_storage_size = 2147483648B$' "$R/etc/dovecot/dovecot.conf"
	fi
}

@test "setup: setup refuses bad usage and another domain than chatmail.ini's" {
	run "$R/usr/local/bin/chatmail-setup" --root "$R" --port-base x
	[ "$status" -eq 2 ]
	[[ "$output" == *"--port-base wants a number"* ]]
	run "$R/usr/local/bin/chatmail-setup" --root "$R" --frobnicate
	[ "$status" -eq 2 ]
	run "$R/usr/local/bin/chatmail-setup" --root "$R" --domain other.test
	[ "$status" -eq 1 ]
	[[ "$output" == *"is for chat.test, not other.test"* ]]
	run "$R/usr/local/bin/chatmail-setup" --root "$BATS_TEST_TMPDIR"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--domain is needed for a first setup"* ]]
	run "$R/usr/local/bin/chatmail-setup" --root "$R" --listen ::1
	[ "$status" -eq 2 ]
	[[ "$output" == *"--listen wants an IPv4 address"* ]]
}

@test "setup: a --root below a directory others cannot search (no o+x bit) is refused before anything is written" {
	local closed=$BATS_TEST_TMPDIR/closed
	open_path_to "$BATS_TEST_TMPDIR"
	mkdir -p "$closed/root"
	chmod 755 "$closed/root"
	# readable but not searchable by others; setgid with nothing for others
	for mode in 0754 2750; do
		chmod "$mode" "$closed"
		run "$R/usr/local/bin/chatmail-setup" --domain chat.test --root "$closed/root" \
			--vmail-user $TEST_USER --port-base "$PORT_BASE"
		[ "$status" -eq 1 ]
		[[ "$output" == *"$closed is not searchable by other users"* ]]
		[ -z "$(ls -A "$closed/root")" ]
	done
}

@test "setup: a domain starting with _ gets a self-signed certificate; tls_external_cert_and_key the operator's own" {
	local other
	other=$(new_root)
	"$R/usr/local/bin/chatmail-setup" --domain _chat.test --root "$other" --vmail-user $TEST_USER \
		--port-base "$PORT_BASE" >/dev/null
	run openssl x509 -in "$other/etc/chatmail/tls/cert.pem" -noout -ext subjectAltName
	[[ "$output" == *"DNS:_chat.test"* ]]
	# without --log-dir and --listen, as in production: syslog, every address
	grep -qx 'log_path = syslog' "$other/etc/dovecot/dovecot.conf"
	grep -qx 'maillog_file = ' "$other/etc/postfix/main.cf"
	grep -qx 'inet_interfaces = all' "$other/etc/postfix/main.cf"
	postfix -c "$other/etc/postfix" check
	doveconf -c "$other/etc/dovecot/dovecot.conf" -n >/dev/null
	nginx -t -q -c "$other/etc/nginx/nginx.conf" -e /dev/null
	# an operator's certificate: configs name its files, no certificate of ours is made
	mkdir -p "$other/ext" "$other/etc/chatmail"
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=ext.test -keyout "$other/ext/key.pem" \
		-out "$other/ext/cert.pem" 2>/dev/null
	rm -rf "$other/etc/chatmail/tls" "$other/etc/chatmail/chatmail.ini"
	printf '%s\n' "vmail_user = $TEST_USER" \
		"tls_external_cert_and_key = $other/ext/cert.pem $other/ext/key.pem" \
		"passdb_path = $other/home/vmail/passdb.sqlite" \
		"mailboxes_dir = $other/home/vmail/mail/_chat.test" "state_dir = $other/var/lib/chatmail" |
		relay_ini "$other/etc/chatmail/chatmail.ini" _chat.test
	run "$R/usr/local/bin/chatmail-setup" --root "$other"
	[ "$status" -eq 0 ]
	[[ "$output" == *"(TLS: external)"* ]]
	grep -q "^smtpd_tls_cert_file = $other/ext/cert.pem$" "$other/etc/postfix/main.cf"
	if [ "$(relay_dovecot_version)" = 2.3 ]; then
		grep -q "^ssl_cert = <$other/ext/cert.pem$" "$other/etc/dovecot/dovecot.conf"
	else
		grep -q "^ssl_server_cert_file = $other/ext/cert.pem$" "$other/etc/dovecot/dovecot.conf"
	fi
	grep -q "ssl_certificate_key $other/ext/key.pem;" "$other/etc/nginx/nginx.conf"
	refute test -e "$other/etc/chatmail/tls/cert.pem"
	rm -rf "$other"
}

@test "setup: under systemd it restarts and reloads only what changed, and takes Let's Encrypt's certificate" {
	local other
	other=$(new_root)
	# stand-ins that record what a setup under systemd runs
	export CALLS=$other/calls ENABLED=$other/enabled LE=$other/etc/letsencrypt
	# systemd-resolved runs, as on many servers: the relay's unbound takes over
	echo systemd-resolved.service >"$ENABLED"
	cat >"$other/systemctl" <<'FAKE'
#!/bin/bash
echo "systemctl $*" >>"$CALLS"
case "$1" in
is-enabled) grep -qx "$2" "$ENABLED" && echo enabled || { echo disabled; exit 1; } ;;
--quiet) echo "$3" >>"$ENABLED" ;;
disable) grep -vx "${*: -1}" "$ENABLED" >"$ENABLED.new"; mv "$ENABLED.new" "$ENABLED" ;;
esac
exit 0
FAKE
	cat >"$other/certbot" <<'FAKE'
#!/bin/bash
echo "certbot $*" >>"$CALLS"
while [ "$1" != --cert-name ]; do shift; done
mkdir -p "$LE/live/$2"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$2" -keyout "$LE/live/$2/privkey.pem" \
	-out "$LE/live/$2/fullchain.pem" 2>/dev/null
FAKE
	chmod 755 "$other/systemctl" "$other/certbot"
	export CHATMAIL_SETUP_SYSTEMCTL=$other/systemctl CHATMAIL_SETUP_CERTBOT=$other/certbot
	setup=$R/usr/local/bin/chatmail-setup

	run "$setup" --domain chat.test --root "$other" --vmail-user $TEST_USER --port-base "$PORT_BASE"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	for call in "systemctl daemon-reload" "systemctl --quiet enable chatmail-newemail.service" \
		"systemctl --quiet enable chatmail-expire.timer" "systemctl --quiet enable certbot.timer" \
		"systemctl restart chatmail-newemail" "systemctl restart opendkim" \
		"systemctl --quiet enable chatmail-metadata.socket" "systemctl restart chatmail-metadata.socket" \
		"systemctl --quiet enable chatmail-notifier.service" "systemctl restart chatmail-notifier" \
		"systemctl --quiet enable coturn.service" "systemctl restart coturn" \
		"systemctl reload-or-restart postfix" "systemctl restart dovecot" \
		"systemctl restart systemd-sysctl" "systemctl reload-or-restart nginx" \
		"systemctl --quiet enable unbound.service" "systemctl restart unbound" \
		"systemctl disable --now systemd-resolved.service" "systemctl mask systemd-resolved.service" \
		"certbot certonly --non-interactive --agree-tos --register-unsafely-without-email --webroot -w $other/var/www/chatmail --cert-name chat.test -d chat.test -d mta-sts.chat.test"; do
		grep -qxF "$call" "$CALLS" || { echo "not run: $call"; cat "$CALLS"; false; }
	done
	[ "$(readlink "$other/etc/chatmail/tls/cert.pem")" = "$LE/live/chat.test/fullchain.pem" ]
	[ "$(readlink "$other/etc/chatmail/tls/key.pem")" = "$LE/live/chat.test/privkey.pem" ]
	grep -q '^systemctl reload postfix dovecot nginx$' "$LE/renewal-hooks/deploy/chatmail"

	# again: nothing is restarted, reloaded or requested
	: >"$CALLS"
	run "$setup" --root "$other"
	[ "$status" -eq 0 ]
	[[ "$output" == *"nothing changed"* ]]
	refute grep -v '^systemctl is-enabled ' "$CALLS"

	# a changed chatmail.ini: Dovecot's quota, newemail and the notifier, nothing else
	: >"$CALLS"
	echo "max_mailbox_size = 2G" >>"$other/etc/chatmail/chatmail.ini"
	run "$setup" --root "$other"
	[ "$status" -eq 0 ]
	[ "$(grep -v '^systemctl is-enabled ' "$CALLS")" = "systemctl restart chatmail-newemail
systemctl restart chatmail-mxdeliv
systemctl restart chatmail-notifier
systemctl reload-or-restart dovecot" ]

	# changed configs of Dovecot and nginx: Dovecot restarts (its listeners closed when systemctl
	# returns, nginx may take them), then nginx reloads
	: >"$CALLS"
	echo "# edited" >>"$other/etc/dovecot/dovecot.conf"
	echo "# edited" >>"$other/etc/nginx/nginx.conf"
	run "$setup" --root "$other"
	[ "$status" -eq 0 ]
	[ "$(grep -v '^systemctl is-enabled ' "$CALLS")" = "systemctl restart dovecot
systemctl reload-or-restart nginx" ]
	rm -rf "$other"
}

@test "setup: the kernel limits of the sysctl drop-in and Dovecot's open files, checked by status" {
	grep -qx 'fs.inotify.max_user_instances = 20000' "$R/etc/sysctl.d/90-chatmail.conf"
	grep -qx 'fs.inotify.max_user_watches = 320000' "$R/etc/sysctl.d/90-chatmail.conf"
	grep -qx 'net.core.somaxconn = 10000' "$R/etc/sysctl.d/90-chatmail.conf"
	grep -qx 'LimitNOFILE=41024' "$R/etc/systemd/system/dovecot.service.d/chatmail.conf"
	grep -q "wrote $R/etc/sysctl.d/90-chatmail.conf" "$R/setup.out"
	grep -q 'do it yourself: .*restart systemd-sysctl' "$R/setup.out"
	# a stand-in sysctl: the kernel as the drop-in wants it, then one setting low
	cat >"$BATS_TEST_TMPDIR/sysctl" <<'FAKE'
#!/bin/bash
[ "$2" = fs.inotify.max_user_instances ] && echo "${INSTANCES:-20000}" || echo 320000
FAKE
	chmod 755 "$BATS_TEST_TMPDIR/sysctl"
	export CHATMAIL_SETUP_SYSCTL=$BATS_TEST_TMPDIR/sysctl
	run "$R/usr/local/bin/chatmail-setup" status --root "$R"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	grep -qE '^kernel limits +ok$' <<<"$output"
	INSTANCES=128 run "$R/usr/local/bin/chatmail-setup" status --root "$R"
	grep -qE "^kernel limits +low \(this machine's kernel: not counted below --root\)$" <<<"$output"
	grep -qx "    fs.inotify.max_user_instances is 128, the relay wants 20000 ($R/etc/sysctl.d/90-chatmail.conf; sysctl --system applies it)" <<<"$output"
	refute grep -q max_user_watches <<<"$output"
}
