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

@test "a known address logs in on Dovecot's check of the cached hash; doveauth sees first logins and wrong passwords" {
	A=cacheusr1@example.org
	imap_login $A 'right-password' >/dev/null  # doveauth creates the account
	imap_login $A 'right-password' >/dev/null  # the sql passdb reads the hash
	imap_login $A 'right-password' >/dev/null  # ... and now the cache has it
	run imap_login $A 'wrong-password'
	[ "$status" -ne 0 ]
	run imap_login $A 'right-password'
	[ "$status" -eq 0 ]
	# doveauth ran for the creation and the wrong password only
	[ "$(execs $A)" -eq 2 ]
	# logins 3 and 5 and the wrong password were answered from the cache
	[ "$(dovecot_auth_count passdb-hit $A)" -eq 3 ]
	# the cache holds the hash, not a verdict: the wrong password was checked against it
	[ "$(dovecot_auth_count mismatch $A)" -ge 1 ]
	# three deliveries: the userdb entry the logins looked up, from Dovecot's cache; no
	# database lookup, no doveauth
	misses=$(dovecot_auth_count miss $A)
	hits=$(dovecot_auth_count hit $A)
	for i in 1 2 3; do
		[[ "$(lmtp_deliver $A "delivery $i")" == "250 2.0.0 "*Saved* ]]
	done
	# (Dovecot 2.4 keeps the IMAP logins' entry apart from the deliveries' (its auth settings
	# are per protocol): there the first delivery reads the database once, the next two hit)
	local first=0
	[ "$(relay_dovecot_version)" = 2.3 ] || first=1
	[ "$(dovecot_auth_count miss $A)" -eq $((misses + first)) ]
	[ "$(dovecot_auth_count hit $A)" -eq $((hits + 3 - first)) ]
	[ "$(execs $A)" -eq 2 ]
}

@test "a login doveauth does not see still records its time for the expiry (last_login plugin)" {
	A=lastlogn1@example.org
	imap_login $A 'right-password' >/dev/null
	sqlite3 -cmd '.timeout 5000' "$PASSDB" "UPDATE users SET last_login = 86400 WHERE addr = '$A'"
	before=$(date +%s)
	imap_login $A 'right-password' >/dev/null
	[ "$(execs $A)" -eq 1 ]
	# the plugin writes once the session has started: give it a moment
	for _ in $(seq 50); do
		last=$(sqlite3 "$PASSDB" "SELECT last_login FROM users WHERE addr = '$A'")
		[ "$last" -lt "$before" ] || break
		sleep 0.1
	done
	[ "$last" -ge "$before" ] && [ "$last" -le "$(date +%s)" ]
	# the plugin touches existing rows only: no row appears for an address without one
	[ "$(sqlite3 "$PASSDB" 'SELECT count(*) FROM users')" -eq 1 ]
}

@test "chatmailctl delete reaches Dovecot's cache: the address gets no more mail, logs in no more" {
	A=deleteme1@example.org B=forgotten@example.org
	for u in $A $B; do
		imap_login $u 'right-password' >/dev/null
		imap_login $u 'right-password' >/dev/null  # now Dovecot's cache has the hash
		[[ "$(lmtp_deliver $u "before")" == "250 2.0.0 "*Saved* ]]
	done
	# what is at stake: a row deleted behind Dovecot's back still gets mail from the cache
	sqlite3 "$PASSDB" "DELETE FROM users WHERE addr = '$B'"
	[[ "$(lmtp_deliver $B "after")" == "250 2.0.0 "*Saved* ]]
	"$BIN/chatmailctl" block
	run "$BIN/chatmailctl" delete $A
	[ "$status" -eq 0 ]
	[ "$output" = "deleted $A" ]
	run imap_login $A 'right-password'
	[ "$status" -ne 0 ]
	[[ "$(lmtp_rcpt $A)" == "550 5.1.1 "* ]]
	[ ! -e "$T/mail/$A" ]
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
