#!/usr/bin/env bats
# doveauth inside a real Dovecot with the relay's accounts section: create-on-login over IMAP,
# the same user again, deliveries through Dovecot's auth cache, and what flushes it.

load lib/common
load lib/dovecot
load lib/expire

setup() {
	relay_dir
	# auth_debug: the tests count what Dovecot asked doveauth and its cache
	DOVECOT_EXTRA=$(dovecot_auth_debug) dovecot_start_with_quota
}

teardown() {
	dovecot_stop
}

stored_hash() {
	sqlite3 "$PASSDB" "SELECT password FROM users WHERE addr = '$1'"
}

@test "IMAP login with a new address creates the account, its maildir, and logs in" {
	run imap_login newuser01@example.org 'first-password'
	[ "$status" -eq 0 ]
	[[ "$output" == *INBOX* ]]
	[ -n "$(stored_hash newuser01@example.org)" ]
	run imap_examine newuser01@example.org 'first-password'
	[[ "$output" == *"0 EXISTS"* ]]
	[ -d "$T/mail/newuser01@example.org/cur" ]
	[ "$(stat -c %u "$T/mail/newuser01@example.org/cur")" -eq 65534 ]
	[ -f "$T/mail/newuser01@example.org/enforceE2EEincoming" ]
}

@test "IMAP login again succeeds; a wrong password is refused and changes nothing" {
	imap_login newuser01@example.org 'first-password'
	before=$(stored_hash newuser01@example.org)
	run imap_login newuser01@example.org 'first-password'
	[ "$status" -eq 0 ]
	run imap_login newuser01@example.org 'wrong-password'
	[ "$status" -ne 0 ]
	[ "$(stored_hash newuser01@example.org)" = "$before" ]
	run imap_login newuser01@example.org 'first-password'
	[ "$status" -eq 0 ]
}

@test "doveadm user answers for a known address and not for an unknown one" {
	imap_login newuser01@example.org 'first-password'
	run doveadm -c "$DOVECOT_CONF" user newuser01@example.org
	[ "$status" -eq 0 ]
	[[ "$output" == *"home"*"$T/mail/newuser01@example.org"* ]]
	[[ "$output" == *"uid"*"65534"* ]]
	# max_mailbox_size, 500M, under the quota setting of each Dovecot generation
	if [ "$(relay_dovecot_version)" = 2.3 ]; then
		[[ "$output" == *"quota_rule"*"*:storage=524288000B"* ]]
	else
		[[ "$output" == *"quota_storage_size"*"524288000B"* ]]
	fi
	run doveadm -c "$DOVECOT_CONF" user nosuchone@example.org
	[ "$status" -eq 67 ]  # EX_NOUSER: Dovecot read our exit 3 as "user unknown"
}

@test "a user name in capitals reaches doveauth lower-cased, as one account" {
	run imap_login NewUser01@Example.ORG 'first-password'
	[ "$status" -eq 0 ]
	[ "$(sqlite3 "$PASSDB" 'SELECT addr FROM users')" = newuser01@example.org ]
}

# execs USER: how often Dovecot ran doveauth as the passdb of USER (auth debug lines).
execs() {
	dovecot_auth_count doveauth "$1"
}

@test "each login runs doveauth once, a wrong password too; deliveries come from Dovecot's cache" {
	A=cacheusr1@example.org
	imap_login $A 'right-password' >/dev/null
	imap_login $A 'right-password' >/dev/null
	imap_login $A 'right-password' >/dev/null
	run imap_login $A 'wrong-password'
	[ "$status" -ne 0 ]
	run imap_login $A 'right-password'
	[ "$status" -eq 0 ]
	# no login is answered from a cache: each one is doveauth's verdict on the stored hash,
	# and the session takes its userdb fields from that answer (no second run)
	[ "$(execs $A)" -eq 5 ]
	refute grep -q 'passdb cache hit' "$T/dovecot/log"
	[ "$(dovecot_auth_count prefetch $A)" -eq 4 ]
	# three deliveries: one database lookup, then Dovecot's cache; doveauth never runs
	for i in 1 2 3; do
		[[ "$(lmtp_deliver $A "delivery $i")" == "250 2.0.0 "*Saved* ]]
	done
	[ "$(dovecot_auth_count miss $A)" -eq 1 ]
	[ "$(dovecot_auth_count hit $A)" -eq 2 ]
	[ "$(execs $A)" -eq 5 ]
}

@test "chatmailctl delete reaches Dovecot's cache: the address gets no more mail, logs in no more" {
	A=deleteme1@example.org B=forgotten@example.org
	for u in $A $B; do
		imap_login $u 'right-password' >/dev/null
		[[ "$(lmtp_deliver $u "before")" == "250 2.0.0 "*Saved* ]]
	done
	# what is at stake: a row deleted behind Dovecot's back still gets mail from the cache
	sqlite3 "$PASSDB" "DELETE FROM users WHERE addr = '$B'"
	[[ "$(lmtp_deliver $B "after")" == "250 2.0.0 "*Saved* ]]
	"$BIN/chatmailctl" block
	run "$BIN/chatmailctl" delete $A
	[ "$status" -eq 0 ]
	[ "$output" = "deleted $A" ]
	[[ "$(lmtp_rcpt $A)" == "550 5.1.1 "* ]]
	[ ! -e "$T/mail/$A" ]
	run imap_login $A 'right-password'
	[ "$status" -ne 0 ]
	[ -z "$(sqlite3 "$PASSDB" "SELECT addr FROM users WHERE addr = '$A'")" ]
}

@test "a wrong password is answered only after Dovecot's failure delay, each time" {
	[ "$(doveconf -c "$DOVECOT_CONF" -h auth_failure_delay)" = "2 secs" ]
	imap_login slowuser1@example.org 'right-password' >/dev/null
	start=$(date +%s%N)
	run imap_login slowuser1@example.org 'right-password'
	right_ms=$((($(date +%s%N) - start) / 1000000))
	[ "$status" -eq 0 ]
	start=$(date +%s%N)
	for i in 1 2 3; do
		run imap_login slowuser1@example.org "wrong-password-$i"
		[ "$status" -ne 0 ]
	done
	wrong_ms=$((($(date +%s%N) - start) / 1000000))
	echo "right: $right_ms ms, three wrong: $wrong_ms ms"
	[ "$right_ms" -lt 2000 ]
	[ "$wrong_ms" -ge 6000 ]
}
