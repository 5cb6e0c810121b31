#!/usr/bin/env bats
# Metrics (README "Metrics"): the whole local relay with mtail_address set. mtail counts over
# its logs and Dovecot answers OpenMetrics, each on its port of the relay's port block; the
# expiry writes the gauge file. Each counter must move by exactly what the test did.

load lib/common
load lib/relay
load lib/setup

setup_file() {
	# A send budget of two messages a minute makes the third one a rate-limit refusal; a
	# 100 KiB mailbox lets the daily expiry make room in it.
	export INI_EXTRA="mtail_address = 127.0.0.1
max_user_send_per_minute = 1
max_user_send_burst_size = 2
max_mailbox_size = 100K"
	relay_start chat.test
}

teardown_file() {
	relay_stop
}

SETUP_USER=chatmail-mtest

# what the chatmail-setup test made
teardown() {
	[ -z "${SETUP_ROOT:-}" ] || rm -rf "$SETUP_ROOT"
	userdel $SETUP_USER 2>/dev/null || true
}

# exposition PORT: the samples of http://127.0.0.1:PORT/metrics as "series value" lines (the
# Prometheus text format: "# " lines are comments, a sample is a series and a value); fails
# when a sample line does not have that form.
exposition() {
	curl -sS --max-time 10 "http://127.0.0.1:$1/metrics" | awk '
		/^#/ || /^$/ { next }
		NF != 2 && NF != 3 { print "not a sample: " $0 > "/dev/stderr"; bad = 1; next }
		{ print $1, $2 }
		END { exit bad }'
}

# counters: mtail's counters of our program, "name value", for each name declared a counter.
counters() {
	local text types
	text=$(curl -sS --max-time 10 "http://127.0.0.1:$MTAIL_PORT/metrics")
	types=$(sed -n 's/^# TYPE \([a-z_]*\) counter$/\1/p' <<<"$text")
	exposition "$MTAIL_PORT" | sed -n 's/^\([a-z_]*\){prog="chatmail.mtail"} \([0-9]*\)$/\1 \2/p' |
		while read -r name value; do
			grep -qx "$name" <<<"$types" && echo "$name $value"
		done
}

# value NAME: a counter's value from COUNTERS (counters' output); fails when absent.
value() {
	awk -v name="$1" '$1 == name { print $2; found = 1 } END { exit !found }' <<<"$COUNTERS"
}

# local_layout INI NAME...: values of the local relay's layout for chatmail.ini INI.
local_layout() {
	local ini=$1
	shift
	relay_ports "$PORT_BASE"
	CHATMAIL_INI=$ini "$BIN/chatmail-render" --values "$LAYOUT/local.values" \
		-D "run_dir=$RUN_DIR" -D "bin_dir=$BIN" -D listen=127.0.0.1 "${PORT_DEFINES[@]}" --get "$@"
}

# The files mtail reads (the local layout's mtail_logs).
logs() {
	local_layout "$RUN_DIR/chatmail.ini" mtail_logs | tr , '\n'
}

# wait_mtail: until mtail has read every line of every log file (its own count per file).
wait_mtail() {
	local i file want have all
	for ((i = 0; i < 100; i++)); do
		all=1
		while read -r file; do
			want=$(wc -l <"$file")
			have=$(exposition "$MTAIL_PORT" |
				awk -v s="mtail_log_lines_total{logfile=\"$file\"}" '$1 == s { print $2 }')
			[ "${have:-0}" = "$want" ] || all=0
		done < <(logs)
		[ "$all" = 1 ] && return 0
		sleep 0.1
	done
	echo "mtail did not read every log line" >&2
	return 1
}

# matching REGEX: how many lines of the files mtail reads match REGEX (grep -E).
matching() {
	local file total=0 n
	while read -r file; do
		n=$(grep -cE "$1" "$file") || true
		total=$((total + n))
	done < <(logs)
	echo "$total"
}

@test "every counter of the program is exported, at 0 before anything happened" {
	run "$ROOT/scripts/relay" status
	[[ "$output" == *"mtail: running (pid "* ]]
	wait_mtail
	COUNTERS=$(counters)
	local name
	for name in created_accounts rejected_registrations delivered_mail quota_exceeded \
		dkim_signed outgoing_encrypted_mail_count outgoing_unencrypted_mail_count \
		incoming_encrypted_mail_count incoming_unencrypted_mail_count \
		incoming_mailer_daemon_mail_count rejected_unencrypted_mail_count quota_expire_runs \
		quota_expire_removed_files postfix_timeouts postfix_noqueue warning_count \
		rejected_dkim_none_mail_count rejected_dkim_invalid_mail_count \
		rejected_dkim_tempfail_mail_count rate_limited_mail_count push_notifications_sent \
		push_notifications_failed push_notifications_dropped mxdeliv_incoming_mail_count \
		mxdeliv_outgoing_mail_count expire_runs expire_removed_accounts expire_removed_mails; do
		value "$name" >/dev/null || { echo "no counter $name" >&2; return 1; }
	done
	[ "$(value created_accounts)" = 0 ]
	[ "$(value delivered_mail)" = 0 ]
	[ "$(value outgoing_encrypted_mail_count)" = 0 ]
	[ "$(value expire_runs)" = 0 ]
}

@test "each counter moves by exactly what happened" {
	local a pa b pb m=$BATS_TEST_TMPDIR/message.eml old i
	# two accounts by POST /new; a third is refused while nocreate_file exists
	read -r a pa < <(new_account)
	read -r b pb < <(new_account)
	echo "$b $pb" >"$BATS_FILE_TMPDIR/b"
	touch "$RUN_DIR/vmail/nocreate"
	run curl -sS --insecure --max-time 20 -o /dev/null -w '%{http_code}' -X POST \
		"https://127.0.0.1:$HTTPS_PORT/new"
	rm "$RUN_DIR/vmail/nocreate"
	[ "$output" = 503 ]
	# an encrypted message is delivered, a cleartext one refused (523), the third MAIL is over
	# the send budget (450)
	encrypted_message "$a" "$b" >"$m"
	send_smtps "$a" "$pa" "$a" "$b" "$m"
	plain_message "$a" "$b" >"$m"
	run send_smtps "$a" "$pa" "$a" "$b" "$m"
	[ "$status" -ne 0 ]
	encrypted_message "$a" "$b" >"$m"
	run send_smtps "$a" "$pa" "$a" "$b" "$m"
	[ "$status" -ne 0 ]
	grep -q "Too much mail from $a" "$RUN_DIR/log/filtermail.log"
	# from another server: encrypted, but without a DKIM signature, then with a broken one
	encrypted_message someone@example.org "$b" >"$m"
	run send_port25 someone@example.org "$b" "$m"
	[ "$status" -ne 0 ]
	{ printf 'DKIM-Signature: broken\r\n' && encrypted_message someone@example.org "$b"; } >"$m"
	run send_port25 someone@example.org "$b" "$m"
	[ "$status" -ne 0 ]
	# a bounce in clear text, let through by the policy, then unsigned too (554)
	sed -e '/^X-Test-Purpose:/d' -e "s/^To: .*/To: <$b>/" "$ROOT/tests/data/eml/bounce.eml" >"$m"
	# the null sender written "<>": curl 8 (Debian 13) refuses an empty --mail-from
	run send_port25 "<>" "$b" "$m"
	[ "$status" -ne 0 ]
	for ((i = 0; i < 100; i++)); do
		grep -q 'saved mail to INBOX' "$RUN_DIR/log/dovecot.log" && break
		sleep 0.1
	done
	# an old 90 KiB mail puts b's mailbox over 75 %: the daily expiry removes it
	old=$RUN_DIR/vmail/mail/$b/cur/1700000000.M1P1.test:2,S
	head -c 92160 /dev/zero >"$old"
	touch -d '2 days ago' "$old"
	chown nobody "$old"
	"$ROOT/scripts/relay" expire
	[ ! -e "$old" ]

	wait_mtail
	COUNTERS=$(counters)
	echo "$COUNTERS"
	[ "$(value created_accounts)" = 2 ]
	[ "$(value created_nonci_accounts)" = 2 ]
	[ "$(value created_ci_accounts)" = 0 ]
	[ "$(value rejected_registrations)" = 1 ]
	[ "$(value outgoing_encrypted_mail_count)" = 1 ]
	[ "$(value outgoing_unencrypted_mail_count)" = 1 ]
	[ "$(value filtered_outgoing_mail_count)" = 2 ]
	[ "$(value rejected_unencrypted_mail_count)" = 1 ]
	[ "$(value rate_limited_mail_count)" = 1 ]
	[ "$(value delivered_mail)" = 1 ]
	[ "$(value incoming_encrypted_mail_count)" = 2 ]
	[ "$(value incoming_unencrypted_mail_count)" = 0 ]
	[ "$(value incoming_mailer_daemon_mail_count)" = 1 ]
	[ "$(value filtered_incoming_mail_count)" = 3 ]
	[ "$(value rejected_dkim_none_mail_count)" = 2 ]
	[ "$(value rejected_dkim_invalid_mail_count)" = 1 ]
	[ "$(value rejected_dkim_tempfail_mail_count)" = 0 ]
	[ "$(value quota_exceeded)" = 0 ]
	[ "$(value quota_expire_runs)" = 1 ]
	[ "$(value quota_expire_removed_files)" = 1 ]
	[ "$(value expire_runs)" = 1 ]
	[ "$(value expire_removed_accounts)" = 0 ]
	[ "$(value expire_removed_mails)" = 1 ]
	# OpenDKIM logs only to syslog, which the local relay does not read (README "Metrics")
	[ "$(value dkim_signed)" = 0 ]
	local name
	for name in push_notifications_sent push_notifications_failed push_notifications_dropped \
		mxdeliv_incoming_mail_count mxdeliv_outgoing_mail_count; do
		[ "$(value "$name")" = 0 ]
	done
	# mtail started with the logs empty: these count every line of the logs that match
	[ "$(value postfix_noqueue)" = "$(matching 'postfix/.*NOQUEUE')" ]
	[ "$(value postfix_noqueue)" -ge 5 ] # a client line for each of the five messages
	[ "$(value postfix_timeouts)" = "$(matching 'timeout after DATA')" ]
	[ "$(value warning_count)" = "$(matching warning)" ]
}

@test "Dovecot's endpoint answers with IMAP and delivery metrics" {
	local samples i b pb
	read -r b pb <"$BATS_FILE_TMPDIR/b"
	[ "$(inbox_count "$b" "$pb")" = 1 ] # one IMAP login, one EXAMINE
	for ((i = 0; i < 50; i++)); do
		samples=$(exposition "$DOVECOT_METRICS_PORT")
		grep -q '^dovecot_imap_command_total{cmd_name="EXAMINE"' <<<"$samples" && break
		sleep 0.1
	done
	echo "$samples"
	grep -qx 'dovecot_mail_delivery_total 1' <<<"$samples"
	grep -qx 'dovecot_mail_delivery_failed_total 0' <<<"$samples"
	# three logins of the sender over SMTPS, one of the recipient over IMAPS
	grep -qx 'dovecot_auth_request_total{success="yes"} 4' <<<"$samples"
	grep -q '^dovecot_imap_command_total{cmd_name="EXAMINE",tagged_reply_state="OK"} 1$' <<<"$samples"
}

@test "the expiry's gauge file holds the figures of chatmailctl stats" {
	local file=$RUN_DIR/metrics/chatmail.prom stats
	[ -f "$file" ]
	[ "$(stat -c %a "$file")" = 644 ]
	stats=$(CHATMAIL_INI=$RUN_DIR/chatmail.ini "$BIN/chatmailctl" --json stats)
	gauge() { awk -v s="$1" '$1 == s { print $2 }' "$file"; }
	[ "$(gauge 'chatmail_accounts{kind="all"}')" = "$(jq .accounts <<<"$stats")" ]
	[ "$(gauge 'chatmail_accounts{kind="all"}')" = 2 ]
	[ "$(gauge 'chatmail_accounts_active{days="1"}')" = "$(jq .active_day <<<"$stats")" ]
	[ "$(gauge 'chatmail_accounts_active{days="7"}')" = "$(jq .active_week <<<"$stats")" ]
	[ "$(gauge 'chatmail_accounts_active{days="30"}')" = "$(jq .active_month <<<"$stats")" ]
	[ "$(gauge chatmail_maildirs)" = "$(jq .maildirs <<<"$stats")" ]
	[ "$(gauge chatmail_mails)" = "$(jq .mails <<<"$stats")" ]
	[ "$(gauge chatmail_mails)" = 1 ] # the delivered message; the old one went
	[ "$(gauge 'chatmail_storage_bytes{kind="messages"}')" = "$(jq .bytes <<<"$stats")" ]
	grep -qx '# TYPE chatmail_storage_bytes gauge' "$file"
}

@test "without mtail_address the layout keeps Dovecot's metrics listener and stats writer off" {
	local ini=$BATS_TEST_TMPDIR/chatmail.ini
	grep -v '^mtail_address' "$RUN_DIR/chatmail.ini" >"$ini"
	run local_layout "$ini" mtail_address dovecot_stats_writer dovecot_metrics_listen_port
	[ "$status" -eq 0 ]
	[ "$output" = $'\n\n0' ]
	# with it (this file's relay), every process writes to the stats process
	run local_layout "$RUN_DIR/chatmail.ini" dovecot_stats_writer
	[ "$output" = stats-writer ]
	[ "$(doveconf -c "$RUN_DIR/etc/dovecot/dovecot.conf" -h stats_writer_socket_path)" = stats-writer ]
}

@test "chatmail-setup with mtail_address installs the mtail unit, the gauges and Dovecot's listener; without, removes the unit" {
	local r user=$SETUP_USER units
	r=$(new_root)
	SETUP_ROOT=$r
	units=$r/etc/systemd/system
	make_install "$r"
	"$r/usr/local/bin/chatmail-setup" --domain chat.test --root "$r" --vmail-user $user >/dev/null
	[ ! -e "$units/chatmail-mtail.service" ]
	grep -qx "ExecStart=$r/usr/local/bin/chatmail-expire " "$units/chatmail-expire.service"
	echo "mtail_address = 127.0.0.1" >>"$r/etc/chatmail/chatmail.ini"
	"$r/usr/local/bin/chatmail-setup" --root "$r" >"$BATS_TEST_TMPDIR/out"
	cat "$BATS_TEST_TMPDIR/out"
	cmp "$ROOT/conf/mtail/chatmail.mtail" "$r/etc/mtail/chatmail.mtail"
	grep -qF -- "--address 127.0.0.1 --port 3903 --logs /dev/stdin'" "$units/chatmail-mtail.service"
	run systemd-analyze verify "$units/chatmail-mtail.service" "$units/chatmail-expire.service"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	grep -qx "ExecStart=$r/usr/local/bin/chatmail-expire --textfile $r/var/lib/prometheus/node-exporter/chatmail.prom" \
		"$units/chatmail-expire.service"
	grep -q "^ReadWritePaths=.* $r/var/lib/prometheus/node-exporter$" "$units/chatmail-expire.service"
	[ "$(stat -c '%a %U %G' "$r/var/lib/prometheus/node-exporter")" = "1775 root $user" ]
	run doveconf -c "$r/etc/dovecot/dovecot.conf" -h service/stats/inet_listener/http/port
	[ "$output" = 3904 ]
	# (Dovecot 2.4 calls a listener's address "listen")
	run doveconf -c "$r/etc/dovecot/dovecot.conf" -h "service/stats/inet_listener/http/$(
		[ "$(relay_dovecot_version)" = 2.3 ] && echo address || echo listen)"
	[ "$output" = 127.0.0.1 ]
	sed -i '/^mtail_address/d' "$r/etc/chatmail/chatmail.ini"
	run "$r/usr/local/bin/chatmail-setup" --root "$r"
	[[ "$output" == *"removed chatmail-mtail.service"* ]]
	[ ! -e "$units/chatmail-mtail.service" ]
	run doveconf -c "$r/etc/dovecot/dovecot.conf" -h service/stats/inet_listener/http/port
	[ "$output" = 0 ]
}

@test "a delivery over /mxdeliv counts as received mxdeliv mail and as incoming encrypted mail" {
	local c pc m=$BATS_TEST_TMPDIR/message.eml received encrypted code
	wait_mtail
	COUNTERS=$(counters)
	received=$(value mxdeliv_incoming_mail_count)
	encrypted=$(value incoming_encrypted_mail_count)
	read -r c pc < <(new_account)
	# another relay's POST; an address-literal sender needs no DKIM (README "/mxdeliv")
	encrypted_message 'x@[192.0.2.1]' "$c" >"$m"
	code=$(curl -sS --insecure --max-time 30 -o /dev/null -w '%{http_code}' --data-binary "@$m" \
		-H 'X-Mail-From: x@[192.0.2.1]' -H "X-Mail-To: $c" "https://127.0.0.1:$HTTPS_PORT/mxdeliv")
	[ "$code" = 200 ]
	wait_inbox "$c" "$pc" 1
	wait_mtail
	COUNTERS=$(counters)
	[ "$(value mxdeliv_incoming_mail_count)" = $((received + 1)) ]
	[ "$(value incoming_encrypted_mail_count)" = $((encrypted + 1)) ]
	[ "$(value mxdeliv_outgoing_mail_count)" = 0 ]
}
