#!/usr/bin/env bats
# chatmail-setup dns: the zone to publish, against a golden file; chatmail-setup check: what a
# resolver answers compared with it, against unbound on loopback serving test zones as the
# authority: one published right (mta-sts. as a CNAME, a foreign TXT record beside SPF), one
# with a wrong MX, one without its DKIM record. The zones are signed (ldns-signzone), and
# bogus.example's signatures tampered with; a second unbound, with chatmail-setup's resolver
# drop-in (conf/unbound) and the zones' trust anchors, resolves them through the first one and
# validates: check passes only against it, and fails against the authority, which does not.

load lib/common
load lib/dnssec

setup_file() {
	export Z=$BATS_FILE_TMPDIR
	# a root with the golden file's DKIM key, as chatmail-setup leaves it
	mkdir -p "$Z/root/etc/dkimkeys"
	cp "$ROOT/tests/data/dns/opendkim.private" "$Z/root/etc/dkimkeys/"
	local domain
	for domain in good.example bad.example missing.example; do
		{
			printf '$ORIGIN %s.\n$TTL 3600\n' "$domain"
			printf '@ IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 3600\n' "$domain" "$domain"
			printf '@ IN NS ns.%s.\nns IN A 127.0.0.1\n' "$domain"
			"$BIN/chatmail-setup" dns --root "$Z/root" --domain "$domain" --ipv4 192.0.2.10 \
				--ipv6 2001:db8::10
		} >"$Z/$domain.zone"
	done
	# published as the reference relay does it: mta-sts. as a CNAME, another TXT beside SPF
	sed -i '/^mta-sts\.good\.example\. .* IN A/d' "$Z/good.example.zone"
	echo 'mta-sts IN CNAME good.example.' >>"$Z/good.example.zone"
	echo '@ IN TXT "google-site-verification=abc"' >>"$Z/good.example.zone"
	sed -i 's/MX    10 bad\.example\./MX    10 mx.elsewhere.example./' "$Z/bad.example.zone"
	sed -i '/^opendkim\._domainkey/d' "$Z/missing.example.zone"
	printf '$ORIGIN bogus.example.\n$TTL 3600\n@ IN SOA ns hostmaster 1 3600 600 86400 3600\n@ IN NS ns\nns IN A 127.0.0.1\n' \
		>"$Z/bogus.example.zone"
	: >"$Z/anchors"
	for domain in good.example bad.example missing.example bogus.example; do
		dnssec_sign_zone "$Z/$domain.zone" "$domain" "$Z/anchors"
	done
	dnssec_break_soa "$Z/bogus.example.zone"
	export DNS_PORT
	DNS_PORT=$(free_port)
	cat >"$Z/unbound.conf" <<EOF
server:
	interface: 127.0.0.1@$DNS_PORT
	do-daemonize: no
	username: ""
	chroot: ""
	directory: "$Z"
	pidfile: "$Z/unbound.pid"
	use-syslog: no
	logfile: "$Z/unbound.log"
	do-ip6: no
	access-control: 127.0.0.0/8 allow
	module-config: "iterator"
EOF
	for domain in good.example bad.example missing.example bogus.example; do
		printf 'auth-zone:\n\tname: "%s"\n\tzonefile: "%s"\n\tfor-downstream: yes\n\tfor-upstream: no\n' \
			"$domain" "$Z/$domain.zone" >>"$Z/unbound.conf"
	done
	unbound -d -c "$Z/unbound.conf" </dev/null >/dev/null 2>&1 &
	echo $! >"$Z/unbound.pid.bats"
	wait_port "$DNS_PORT"
	start_validating_resolver
}

# The resolver chatmail-setup installs: its drop-in rendered with the production values, on a
# test port, and with the test zones' trust anchors instead of the root's.
start_validating_resolver() {
	relay_ports 20000
	relay_ini "$Z/chatmail.ini" good.example </dev/null
	CHATMAIL_INI=$Z/chatmail.ini "$BIN/chatmail-render" --values "$LAYOUT/production.values" -D root="$Z/root" -D bin_dir="$BIN" \
		-D fqdn=host.test -D ipv6= -D listen_address= -D log_files_dir= "${PORT_DEFINES[@]}" \
		"$ROOT/conf/unbound/unbound.conf.d/chatmail.conf" "$Z/chatmail-resolver.conf"
	export VALIDATING_PORT
	VALIDATING_PORT=$(free_port)
	{
		echo "include: \"$Z/chatmail-resolver.conf\""
		printf 'server:\n\tport: %s\n\tdo-daemonize: no\n\tusername: ""\n\tchroot: ""\n' "$VALIDATING_PORT"
		printf '\tdirectory: "%s"\n\tuse-syslog: no\n\tlogfile: "%s"\n' "$Z" "$Z/validating.log"
		printf '\ttrust-anchor-file: "%s"\n\tdo-not-query-localhost: no\n' "$Z/anchors"
		for domain in good.example bad.example missing.example bogus.example; do
			printf 'stub-zone:\n\tname: "%s"\n\tstub-addr: 127.0.0.1@%s\n' "$domain" "$DNS_PORT"
		done
	} >"$Z/validating.conf"
	unbound-checkconf "$Z/validating.conf" >/dev/null
	unbound -d -c "$Z/validating.conf" </dev/null >/dev/null 2>&1 &
	echo $! >"$Z/validating.pid.bats"
	wait_port "$VALIDATING_PORT"
}

teardown_file() {
	local pid
	for pid in "$Z/unbound.pid.bats" "$Z/validating.pid.bats"; do
		[ -s "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
	done
}

# check's arguments, asking the validating resolver (or the authority: zone_args authority)
zone_args() {
	local port=$VALIDATING_PORT
	[ "${1:-}" != authority ] || port=$DNS_PORT
	echo --root "$Z/root" --ipv4 192.0.2.10 --ipv6 2001:db8::10 --resolver "127.0.0.1:$port" \
		--signed-name good.example --bogus-name bogus.example
}

@test "setup dns: dns prints the zone of the golden file: A/AAAA, MX, SPF, DMARC, DKIM, MTA-STS, TLSRPT, SRV (TURN too), CAA" {
	run "$BIN/chatmail-setup" dns --root "$Z/root" --domain chat.example.org --ipv4 192.0.2.10 \
		--ipv6 2001:db8::10
	[ "$status" -eq 0 ]
	diff -u "$ROOT/tests/data/dns/chat.example.org.zone" - <<<"$output"
	# the DKIM record is the public half of the key in the root
	key=$(openssl rsa -in "$Z/root/etc/dkimkeys/opendkim.private" -pubout -outform DER 2>/dev/null | base64 -w0)
	record=$(grep '^opendkim\._domainkey\.chat\.example\.org\. ' <<<"$output" | sed -e 's/^[^"]*"//' -e 's/"$//' -e 's/" "//g')
	[ "$record" = "v=DKIM1;k=rsa;p=$key" ]
	grep -q '^chat\.example\.org\. .* CAA   128 issue "letsencrypt\.org"$' <<<"$output"
}

@test "setup dns: dns without a DKIM key says where its record will come from, and touches nothing" {
	mkdir "$BATS_TEST_TMPDIR/empty"
	touch "$BATS_TEST_TMPDIR/stamp"
	run "$BIN/chatmail-setup" dns --root "$BATS_TEST_TMPDIR/empty" --domain chat.example.org \
		--ipv4 192.0.2.10
	[ "$status" -eq 0 ]
	refute grep -q 'DKIM1' <<<"$output"
	[[ "$output" == *"; DKIM: opendkim._domainkey.chat.example.org. TXT comes from the key chatmail-setup generates"* ]]
	[[ "$output" == *"$BATS_TEST_TMPDIR/empty/etc/dkimkeys/opendkim.private"* ]]
	[[ "$output" == *"; AAAA: this machine has no public IPv6 address"* ]] ||
		grep -q ' AAAA ' <<<"$output"
	[ -z "$(find "$BATS_TEST_TMPDIR/empty" -mindepth 1)" ]
}

@test "setup dns: dns refuses an IP-only relay and a missing domain" {
	run "$BIN/chatmail-setup" dns --root "$Z/root" --domain 192.0.2.10
	[ "$status" -eq 1 ]
	[[ "$output" == *"IP-only relay: it has no DNS records"* ]]
	run "$BIN/chatmail-setup" dns --root "$Z/root"
	[ "$status" -eq 2 ]
	[[ "$output" == *"--domain is needed"* ]]
}

validates_line() {
	echo "chatmail-setup: 127.0.0.1:$VALIDATING_PORT validates DNSSEC (good.example authenticated, bogus.example refused)"
}

@test "setup dns: the resolvers of the test: the validating one authenticates the signed zones and refuses the tampered one" {
	run dig +dnssec @127.0.0.1 -p "$VALIDATING_PORT" good.example SOA
	[[ "$output" == *"status: NOERROR"* ]]
	grep -q '^;; flags: qr rd ra ad;' <<<"$output"
	run dig +dnssec @127.0.0.1 -p "$VALIDATING_PORT" bogus.example SOA
	[[ "$output" == *"status: SERVFAIL"* ]]
	grep -q 'validation failure bogus.example. SOA IN' "$Z/validating.log"
	# the authority answers both, and authenticates neither
	run dig +dnssec @127.0.0.1 -p "$DNS_PORT" bogus.example SOA
	[[ "$output" == *"status: NOERROR"* ]]
	refute grep -q '^;; flags: .* ad;' <<<"$output"
	# the drop-in as chatmail-setup renders it for a machine without IPv6: loopback only
	grep -qxF $'\tinterface: 127.0.0.1' "$Z/chatmail-resolver.conf"
	grep -qxF $'\tdo-ip6: no' "$Z/chatmail-resolver.conf"
	[ "$(grep -c 'interface:' "$Z/chatmail-resolver.conf")" -eq 2 ]
}

@test "setup dns: check fails against a resolver that does not validate, naming what it saw" {
	# shellcheck disable=SC2046
	run "$BIN/chatmail-setup" check --domain good.example $(zone_args authority)
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "dnssec: 127.0.0.1:$DNS_PORT does not validate: good.example SOA answered without the AD flag" ]
	[ "${lines[1]}" = "dnssec: 127.0.0.1:$DNS_PORT does not validate: it answers bogus.example SOA (NOERROR), whose signatures are broken; a validating resolver refuses it (SERVFAIL)" ]
	# the records themselves are right
	[ "${lines[2]}" = "chatmail-setup: 18 right, 0 missing, 0 wrong" ]
	[ "${#lines[@]}" -eq 3 ]
}

@test "setup dns: check fails when the signed name does not validate (tampered signatures)" {
	# shellcheck disable=SC2046
	run "$BIN/chatmail-setup" check --domain good.example $(zone_args) --signed-name bogus.example
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "dnssec: 127.0.0.1:$VALIDATING_PORT fails on the signed name bogus.example SOA (SERVFAIL): trust anchor, clock, or the name's signatures" ]
	[ "${lines[1]}" = "chatmail-setup: 18 right, 0 missing, 0 wrong" ]
}

@test "setup dns: check finds every record of a zone published right, through a CNAME and beside a foreign TXT record" {
	# shellcheck disable=SC2046
	run "$BIN/chatmail-setup" check --domain good.example $(zone_args)
	[ "$status" -eq 0 ]
	[ "$output" = "$(validates_line)
chatmail-setup: 18 right, 0 missing, 0 wrong" ]
}

@test "setup dns: check reports exactly the one wrong record" {
	# shellcheck disable=SC2046
	run "$BIN/chatmail-setup" check --domain bad.example $(zone_args)
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "$(validates_line)" ]
	[ "${lines[1]}" = "wrong: bad.example. MX: want 10 bad.example., found 10 mx.elsewhere.example." ]
	[ "${lines[2]}" = "chatmail-setup: 17 right, 0 missing, 1 wrong" ]
	[ "${#lines[@]}" -eq 3 ]
}

@test "setup dns: check reports a record that is not published as missing" {
	# shellcheck disable=SC2046
	run "$BIN/chatmail-setup" check --domain missing.example $(zone_args)
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "$(validates_line)" ]
	[[ "${lines[1]}" == "missing: opendkim._domainkey.missing.example. TXT v=DKIM1;k=rsa;p=MIIB"* ]]
	[ "${lines[2]}" = "chatmail-setup: 17 right, 1 missing, 0 wrong" ]
	[ "${#lines[@]}" -eq 3 ]
}

@test "setup dns: check names a resolver it cannot reach" {
	run "$BIN/chatmail-setup" check --domain good.example --root "$Z/root" --ipv4 192.0.2.10 \
		--resolver "127.0.0.1:$(free_port)"
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot ask 127.0.0.1:"*"no servers could be reached"* ]]
}
