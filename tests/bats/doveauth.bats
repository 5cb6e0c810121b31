#!/usr/bin/env bats
# doveauth run exactly as Dovecot runs it: request on fd 3, reply program as argv, exit codes.

load lib/common

setup() {
	relay_dir
}

# login USER PASSWORD [reply program...]: a passdb authentication.
login() {
	local user=$1 password=$2
	shift 2
	printf '%s\0%s\0\0' "$user" "$password" | "$BIN/doveauth" "${@:-/bin/true}" 3<&0
}

# lookup USER [reply program...]: a userdb lookup, as Dovecot makes it.
lookup() {
	local user=$1
	shift
	printf '%s\0\0\0' "$user" | AUTHORIZED=1 "$BIN/doveauth" "${@:-/bin/true}" 3<&0
}

stored_hash() {
	sqlite3 "$T/passdb.sqlite" "SELECT password FROM users WHERE addr = '$1'"
}

@test "first login creates the account and hands the reply program USER, HOME and EXTRA" {
	run login abcdefghi@example.org 'pass word 1' /usr/bin/env
	[ "$status" -eq 0 ]
	[[ "$output" == *"USER=abcdefghi@example.org"* ]]
	[[ "$output" == *"HOME=$T/mail/abcdefghi@example.org"* ]]
	[[ "$output" == *"EXTRA=userdb_uid userdb_gid userdb_quota_rule"* ]]
	[[ "$output" == *"userdb_uid=$(id -u)"* ]]
	[[ "$output" == *"userdb_quota_rule=*:storage=512000K"* ]]
	[[ "$output" != *"pass word 1"* ]]
	[[ "$(stored_hash abcdefghi@example.org)" == '{SHA512-CRYPT}$6$'* ]]
	[ -f "$T/mail/abcdefghi@example.org/enforceE2EEincoming" ]
	grep -q 'Created address: abcdefghi@example.org' "$T/log"
}

@test "second login with the same password succeeds and records the login day" {
	login abcdefghi@example.org 'pass word 1'
	sqlite3 "$T/passdb.sqlite" "UPDATE users SET last_login = 86400"
	run login abcdefghi@example.org 'pass word 1'
	[ "$status" -eq 0 ]
	today=$(($(date +%s) / 86400 * 86400))
	[ "$(sqlite3 "$T/passdb.sqlite" 'SELECT last_login FROM users')" -eq "$today" ]
}

@test "wrong password never replaces the stored hash" {
	login abcdefghi@example.org 'pass word 1'
	before=$(stored_hash abcdefghi@example.org)
	run login abcdefghi@example.org 'pass word 2'
	[ "$status" -eq 1 ]
	[ "$(stored_hash abcdefghi@example.org)" = "$before" ]
}

@test "userdb lookup of a known user answers with AUTHORIZED=2 and records no login" {
	login abcdefghi@example.org 'pass word 1'
	sqlite3 "$T/passdb.sqlite" "UPDATE users SET last_login = 86400"
	run lookup abcdefghi@example.org /usr/bin/env
	[ "$status" -eq 0 ]
	[[ "$output" == *"AUTHORIZED=2"* ]]
	[[ "$output" == *"HOME=$T/mail/abcdefghi@example.org"* ]]
	[ "$(sqlite3 "$T/passdb.sqlite" 'SELECT last_login FROM users')" -eq 86400 ]
}

@test "userdb lookup of an unknown or invalid user is 'user unknown' (3)" {
	run lookup nosuchone@example.org
	[ "$status" -eq 3 ]
	run lookup 'bad/user@example.org'
	[ "$status" -eq 3 ]
	[ ! -e "$T/passdb.sqlite" ] || [ "$(sqlite3 "$T/passdb.sqlite" 'SELECT count(*) FROM users')" -eq 0 ]
}

@test "a short password creates nothing" {
	run login abcdefghi@example.org 'short'
	[ "$status" -eq 1 ]
	[ "$(sqlite3 "$T/passdb.sqlite" 'SELECT count(*) FROM users')" -eq 0 ]
}

@test "a password longer than the hasher takes is a failed login (1), never a temporary failure" {
	# Dovecot sends at most 512 bytes: with this 21-byte user name, passwords up to 488 bytes
	for length in 257 300 488; do
		: >"$T/log"
		run login abcdefghi@example.org "$(head -c "$length" /dev/zero | tr '\0' p)"
		[ "$status" -eq 1 ]
		grep -q '^doveauth: info: not creating abcdefghi@example.org: password longer than 256$' "$T/log"
		[ "$(wc -l <"$T/log")" -eq 1 ]
	done
	[ "$(sqlite3 "$T/passdb.sqlite" 'SELECT count(*) FROM users')" -eq 0 ]
	# the longest password the hasher takes creates the account and logs in again
	run login abcdefghi@example.org "$(head -c 256 /dev/zero | tr '\0' p)"
	[ "$status" -eq 0 ]
	run login abcdefghi@example.org "$(head -c 256 /dev/zero | tr '\0' p)"
	[ "$status" -eq 0 ]
	run login abcdefghi@example.org "$(head -c 300 /dev/zero | tr '\0' p)"
	[ "$status" -eq 1 ]
}

@test "the nocreate file blocks new accounts but not existing ones" {
	login abcdefghi@example.org 'pass word 1'
	touch "$T/nocreate"
	run login bcdefghij@example.org 'pass word 1'
	[ "$status" -eq 1 ]
	run login abcdefghi@example.org 'pass word 1'
	[ "$status" -eq 0 ]
	[ "$(sqlite3 "$T/passdb.sqlite" 'SELECT count(*) FROM users')" -eq 1 ]
}

@test "resource limits block new accounts" {
	relay_dir "min_available_memory = 1000000G"
	run login abcdefghi@example.org 'pass word 1'
	[ "$status" -eq 1 ]
	grep -q 'too little free memory' "$T/log"
}

@test "bad input gets exit 1, one log line, and no database write" {
	for user in 'abcdefghi@EXAMPLE.ORG' 'abcdefghi@example.org@x' 'abc/efghi@example.org' \
		'abc..fghi@example.org' "$(printf 'abc\001efghi@example.org')" \
		"$(printf 'abc\303\251fgh@example.org')" 'abcdefghi' 'abcdefghi@other.org'; do
		: >"$T/log"
		run login "$user" 'pass word 1'
		[ "$status" -eq 1 ]
		[ "$(wc -l <"$T/log")" -eq 1 ]
	done
	run login abcdefghi@example.org ''
	[ "$status" -eq 1 ]
	[ "$(sqlite3 "$T/passdb.sqlite" 'SELECT count(*) FROM users')" -eq 0 ]
}

@test "over-long or malformed fd 3 data is refused" {
	long=$(head -c 600 /dev/zero | tr '\0' a)
	run login "$long@example.org" 'pass word 1'
	[ "$status" -eq 1 ]
	run sh -c 'printf "abcdefghi@example.org" | "$1" /bin/true 3<&0' _ "$BIN/doveauth"
	[ "$status" -eq 1 ]
	run sh -c 'printf "abcdefghi@example.org\0pass word 1" | "$1" /bin/true 3<&0' _ "$BIN/doveauth"
	[ "$status" -eq 1 ]
	run sh -c '"$1" /bin/true 3<&-' _ "$BIN/doveauth"
	[ "$status" -eq 1 ]
	[ ! -e "$T/passdb.sqlite" ] || [ "$(sqlite3 "$T/passdb.sqlite" 'SELECT count(*) FROM users')" -eq 0 ]
}

@test "no password or hash ever reaches the log" {
	login abcdefghi@example.org 'secret-pass-1'
	refute login abcdefghi@example.org 'secret-pass-2'
	refute login bcdefghij@example.org 'sec'
	hash=$(stored_hash abcdefghi@example.org)
	refute grep -q 'secret-pass' "$T/log"
	refute grep -qF "${hash#\{SHA512-CRYPT\}}" "$T/log"
	refute grep -q 'sec$' "$T/log"
}

@test "unreadable config or database is a temporary failure (111)" {
	CHATMAIL_INI=$T/missing.ini run login abcdefghi@example.org 'pass word 1'
	[ "$status" -eq 111 ]
	echo "max_message_size = lots" >>"$T/chatmail.ini"
	run login abcdefghi@example.org 'pass word 1'
	[ "$status" -eq 111 ]
	grep -q 'max_message_size' "$T/log"
	relay_dir "passdb_path = $T/no/such/dir/passdb.sqlite"
	run login abcdefghi@example.org 'pass word 1'
	[ "$status" -eq 111 ]
	run lookup abcdefghi@example.org
	[ "$status" -eq 111 ]
}

@test "without a reply program doveauth says how to call it" {
	run sh -c 'printf "a\0b\0\0" | "$1" 3<&0' _ "$BIN/doveauth"
	[ "$status" -eq 2 ]
	grep -q usage "$T/log"
}

@test "100 processes x 5 first logins create 500 accounts, none locked out" {
	for p in $(seq 100); do
		(
			for i in 1 2 3 4 5; do
				printf 'u%03d%05d@example.org\0pass word %d\0\0' "$p" "$i" "$p" |
					"$BIN/doveauth" /bin/true 3<&0 || echo "fail $p $i $?"
			done
		) >"$T/out.$p" 2>&1 &
	done
	wait
	[ -z "$(cat "$T"/out.*)" ]
	[ "$(sqlite3 "$T/passdb.sqlite" 'SELECT count(DISTINCT addr) FROM users')" -eq 500 ]
	refute grep -qi 'locked' "$T/log"
	[ "$(grep -c 'Created address' "$T/log")" -eq 500 ]
}

@test "50 simultaneous first logins of one address: one account, one winning password" {
	for p in $(seq 50); do
		(printf 'contested@example.org\0password-%02d\0\0' "$p" |
			"$BIN/doveauth" /bin/true 3<&0; echo "$p $?" >"$T/rc.$p") &
	done
	wait
	[ "$(sqlite3 "$T/passdb.sqlite" "SELECT count(*) FROM users")" -eq 1 ]
	[ "$(grep -c 'Created address' "$T/log")" -eq 1 ]
	refute grep -qi 'locked' "$T/log"
	winners=$(awk '$2 == 0 {print $1}' "$T"/rc.*)
	[ "$(echo "$winners" | wc -l)" -eq 1 ]
	[ "$(awk '$2 != 0 && $2 != 1' "$T"/rc.* | wc -l)" -eq 0 ]
	# only the winner's password logs in afterwards
	for p in $(seq 50); do
		run login contested@example.org "$(printf 'password-%02d' "$p")"
		if [ "$p" = "$winners" ]; then [ "$status" -eq 0 ]; else [ "$status" -eq 1 ]; fi
	done
}

# reply_of PROGRAM USER [PASSWORD]: what doveauth, with PROGRAM as its reply program, hands
# Dovecot on fd 4, a pipe as Dovecot makes it (a lookup without PASSWORD), then its exit code.
reply_of() {
	local env=(ORIG_UID="$(id -u)") request="$2\0${3:-}\0\0"
	[ $# -eq 3 ] || env+=(AUTHORIZED=1)
	{
		printf "$request" | env "${env[@]}" "$BIN/doveauth" "$1" 3<&0 4>&1 >/dev/null
		echo "exit $?"
	} | cat
}

@test "for Dovecot's checkpassword-reply doveauth writes the very answer that program would" {
	reply=/usr/lib/dovecot/checkpassword-reply
	[ -x "$reply" ]
	# the same program under another name is run, not imitated
	cp "$reply" "$T/reply-program"
	login abcdefghi@example.org 'pass word 1'
	real=$(reply_of "$T/reply-program" abcdefghi@example.org 'pass word 1')
	ours=$(reply_of "$reply" abcdefghi@example.org 'pass word 1')
	[[ "$real" == "user=abcdefghi@example.org"$'\t'"userdb_home=$T/mail/abcdefghi@example.org"$'\t'*$'\t'"exit 0" ]]
	[ "$ours" = "$real" ]
	real=$(reply_of "$T/reply-program" abcdefghi@example.org)
	ours=$(reply_of "$reply" abcdefghi@example.org)
	[[ "$real" == *"userdb_quota_rule=*:storage=512000K"$'\t'"exit 2" ]]
	[ "$ours" = "$real" ]
	# fd 4 that is not Dovecot's pipe (closed, or any file) is never written: the program runs.
	# Closed, the number goes to doveauth's log file, which must not get the answer.
	run sh -c 'printf "abcdefghi@example.org\0pass word 1\0\0" | ORIG_UID=$(id -u) "$1" "$2" 3<&0 4>&-' _ "$BIN/doveauth" "$reply"
	[ "$status" -eq 0 ]
	refute grep -q 'user=' "$T/log"
	printf 'abcdefghi@example.org\0pass word 1\0\0' | ORIG_UID=$(id -u) "$BIN/doveauth" "$T/reply-program" 3<&0 4>"$T/fd4"
	[[ "$(cat "$T/fd4")" == "user=abcdefghi@example.org"$'\t'* ]]
	[ "$(sqlite3 "$T/passdb.sqlite" 'SELECT count(*) FROM users')" -eq 1 ]
}
