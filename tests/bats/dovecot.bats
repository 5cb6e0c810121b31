#!/usr/bin/env bats
# doveauth inside a real Dovecot: create-on-login over IMAP, then the same user again.

load lib/common
load lib/dovecot

setup() {
	relay_dir
	dovecot_start
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
	[[ "$output" == *"quota_rule"*"*:storage=524288000B"* ]]  # max_mailbox_size, 500M
	run doveadm -c "$DOVECOT_CONF" user nosuchone@example.org
	[ "$status" -eq 67 ]  # EX_NOUSER: Dovecot read our exit 3 as "user unknown"
}

@test "a user name in capitals reaches doveauth lower-cased, as one account" {
	run imap_login NewUser01@Example.ORG 'first-password'
	[ "$status" -eq 0 ]
	[ "$(sqlite3 "$PASSDB" 'SELECT addr FROM users')" = newuser01@example.org ]
}
