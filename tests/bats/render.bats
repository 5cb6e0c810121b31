#!/usr/bin/env bats
# chatmail-render: settings for shell (--get, defaults and derived values), a profile's values
# (--values), and the two profiles of layout/ against the templates.

load lib/common

setup() {
	relay_dir
	unset CHATMAIL_LOG # errors on stderr
}

@test "render: --get prints settings with their defaults and the derived values, one a line" {
	run "$BIN/chatmail-render" --get mail_domain max_load_1m max_mailbox_size_mb passdb_dir ip_only \
		virtual_mailbox_domains delete_mails_after vmail_uid
	[ "$status" -eq 0 ]
	[ "$output" = "example.org
100000
500
$T

example.org
20
$(id -u)" ]
	relay_ini "$T/ip.ini" 192.0.2.1 </dev/null
	[ "$(CHATMAIL_INI=$T/ip.ini relay_get ip_only virtual_mailbox_domains address_domain)" = $'yes\n\n[192.0.2.1]' ]
}

@test "render: --get of an unknown name, or of a bad chatmail.ini, fails naming it" {
	run "$BIN/chatmail-render" --get mail_domain no_such_key
	[ "$status" -eq 1 ]
	[[ "$output" == *"unknown setting no_such_key"* ]]
	echo "max_message_size = lots" >>"$T/chatmail.ini"
	run "$BIN/chatmail-render" --get mail_domain
	[ "$status" -eq 1 ]
	[[ "$output" == *"max_message_size"* ]]
}

@test "render: a profile's values fill templates; -D wins over them, and they may not replace a setting" {
	printf '%s\n' 'dir = {run_dir}/x' '[if ip_only]' 'dir = ip' '[end]' 'name = {dir}/{mail_domain}' >"$T/p.values"
	run "$BIN/chatmail-render" --values "$T/p.values" -D run_dir=/r --get dir name
	[ "$output" = $'/r/x\n/r/x/example.org' ]
	run "$BIN/chatmail-render" --values "$T/p.values" -D run_dir=/r -D dir=/given --get dir name
	[ "$output" = $'/given\n/given/example.org' ]
	echo '{name} {max_message_size}' >"$T/in"
	"$BIN/chatmail-render" --values "$T/p.values" -D run_dir=/r "$T/in" "$T/out"
	[ "$(cat "$T/out")" = "/r/x/example.org 31457280" ]
	echo 'max_message_size = 1' >>"$T/p.values"
	run "$BIN/chatmail-render" --values "$T/p.values" -D run_dir=/r --get name
	[ "$status" -eq 1 ]
	[[ "$output" == *"max_message_size is a setting of chatmail.ini"* ]]
	printf '%s\n' 'a = 1' '[if nothing]' '[end]' >"$T/q.values"
	run "$BIN/chatmail-render" --values "$T/q.values" --get a
	[ "$status" -eq 1 ]
	[[ "$output" == *"q.values:2: unknown name nothing"* ]]
}

# Every placeholder of conf/ and www/ has a value in each profile, with the inputs its script
# gives: a name missing from a profile fails here, not at a first setup.
@test "render: the local and production profiles fill every template of conf/ and www/" {
	relay_ports 20000
	relay_software
	local -a local=(-D run_dir=/r -D bin_dir=/b -D listen=127.0.0.1)
	local -a production=(-D root=/x -D bin_dir=/b -D fqdn=host.test -D ipv6= -D listen_address=
		-D log_files_dir=)
	for profile in local production; do
		local -n inputs=$profile
		for tree in conf www; do
			"$BIN/chatmail-render" --values "$LAYOUT/$profile.values" "${inputs[@]}" \
				"${PORT_DEFINES[@]}" "${SOFTWARE_DEFINES[@]}" "$ROOT/$tree" "$T/$profile-$tree"
		done
		# and the templates of Dovecot 2.4 (conf/dovecot@2.4) in place of conf/dovecot
		"$BIN/chatmail-render" --values "$LAYOUT/$profile.values" "${inputs[@]}" \
			"${PORT_DEFINES[@]}" -D dovecot_version=2.4 "${SOFTWARE_DEFINES[@]}" "$ROOT/conf" \
			"$T/$profile-conf-2.4"
		[ "$(head -1 "$T/$profile-conf-2.4/dovecot/dovecot.conf")" = "dovecot_config_version = 2.4.0" ]
		[ -f "$T/$profile-conf-2.4/dovecot/doveauth.lua" ]
		# both Dovecots run the one push script, rendered once beside their templates
		grep -q "{conf_dir}/dovecot-push/push_notification.lua" "$ROOT/conf/dovecot/dovecot.conf"
		grep -q "{conf_dir}/dovecot-push/push_notification.lua" "$ROOT/conf/dovecot@2.4/dovecot.conf"
		[ -f "$T/$profile-conf-2.4/dovecot-push/push_notification.lua" ]
		[ ! -e "$T/$profile-conf-2.4/dovecot/push_notification.lua" ]
		[ ! -e "$T/$profile-conf/dovecot/push_notification.lua" ]
		[ ! -e "$T/$profile-conf-2.4/dovecot/dovecot-sql.conf.ext" ]
		[ ! -e "$T/$profile-conf-2.4/dovecot@2.4" ]
		[ ! -e "$T/$profile-conf/dovecot@2.4" ]
		[ ! -e "$T/$profile-conf/dovecot/doveauth.lua" ]
	done
	grep -qx 'listen = 127.0.0.1' "$T/local-conf/dovecot/dovecot.conf"
	grep -qx 'listen = \*' "$T/production-conf/dovecot/dovecot.conf"
	grep -qx 'log_path = syslog' "$T/production-conf/dovecot/dovecot.conf"
	grep -q '^20002 *inet' "$T/production-conf/postfix/master.cf"
	grep -q "^queue_directory = /x/var/spool/postfix$" "$T/production-conf/postfix/main.cf"
	grep -q "^queue_directory = /r/postfix/spool$" "$T/local-conf/postfix/main.cf"
}

# README "Port 443": the page's way to an account follows the certificate Delta Chat can check.
@test "render: self_signed is POST /new's; the page offers dcaccount: to a public name, else its dclogin: button" {
	run "$BIN/chatmail-render" --get self_signed
	[ "$status" -eq 0 ]
	[ "$output" = "" ]
	local domain expected
	for domain in 192.0.2.1 _chat.test; do
		relay_ini "$T/$domain.ini" "$domain" </dev/null
		[ "$(CHATMAIL_INI=$T/$domain.ini relay_get self_signed)" = yes ]
	done
	relay_ports 20000
	local -a production=(--values "$LAYOUT/production.values" -D root=/x -D bin_dir=/b
		-D fqdn=host.test -D ipv6= -D listen_address= -D log_files_dir= "${PORT_DEFINES[@]}")
	for domain in example.org:dcaccount 192.0.2.1:dclogin _chat.test:dclogin; do
		expected=${domain#*:} domain=${domain%%:*}
		relay_ini "$T/p.ini" "$domain" </dev/null
		[ "$(CHATMAIL_INI=$T/p.ini "$BIN/chatmail-render" "${production[@]}" --get web_signup)" = "$expected" ]
	done
	# the operator's certificate: Delta Chat checks it
	printf 'tls_external_cert_and_key = /c.pem /k.pem\n' | relay_ini "$T/p.ini" 192.0.2.1
	[ "$(CHATMAIL_INI=$T/p.ini "$BIN/chatmail-render" "${production[@]}" --get web_signup)" = dcaccount ]
	# the local relay's certificate is self-signed whatever its name
	local -a local=(--values "$LAYOUT/local.values" -D run_dir=/r -D bin_dir=/b -D listen=127.0.0.1
		"${PORT_DEFINES[@]}")
	[ "$("$BIN/chatmail-render" "${local[@]}" --get web_signup)" = dclogin ]
	"$BIN/chatmail-render" "${local[@]}" "$ROOT/www/index.html" "$T/index.html"
	grep -q '<body class="signup-dclogin">' "$T/index.html"
	grep -q 'data-imap-port="20001" data-smtp-port="20004"' "$T/index.html"
}

@test "render: a folder NAME@VARIANT takes the place of NAME when the value NAME_version is VARIANT" {
	mkdir -p "$T/src/a" "$T/src/a@2" "$T/src/b"
	echo 'one {mail_domain}' >"$T/src/a/f"
	echo 'two {mail_domain}' >"$T/src/a@2/g"
	echo 'b' >"$T/src/b/h"
	"$BIN/chatmail-render" "$T/src" "$T/none"
	[ "$(ls "$T/none")" = $'a\nb' ]
	[ "$(cat "$T/none/a/f")" = "one example.org" ]
	"$BIN/chatmail-render" -D a_version=2 "$T/src" "$T/two"
	[ "$(ls "$T/two")" = $'a\nb' ]
	[ "$(ls "$T/two/a")" = g ]
	[ "$(cat "$T/two/a/g")" = "two example.org" ]
	# a version without a folder of its own keeps NAME
	"$BIN/chatmail-render" -D a_version=3 "$T/src" "$T/three"
	[ "$(ls "$T/three/a")" = f ]
	# a file's '@' is part of its name: systemd's template units keep theirs, whatever version
	echo 'unit {mail_domain}' >"$T/src/b/x@.service"
	"$BIN/chatmail-render" -D x_version=2 "$T/src" "$T/four"
	[ "$(cat "$T/four/b/x@.service")" = "unit example.org" ]
}
