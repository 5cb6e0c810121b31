#!/usr/bin/env bats
# chatmailctl as an operator runs it: what it shows (for people and, with --json, for jq),
# what delete, block and unblock change, and its exit codes.

load lib/common
load lib/expire

setup() {
	relay_dir "max_mailbox_size = 1M"
}

ctl() {
	"$BIN/chatmailctl" "$@"
}

@test "chatmailctl list: accounts with last login and mailbox size, for people and for jq" {
	account aaaaaaaaa@example.org 0
	account bbbbbbbbb@example.org 3
	mail_file aaaaaaaaa@example.org/cur/1 "1 day ago" 1000
	mail_file "aaaaaaaaa@example.org/.Sent/new/2" "1 day ago" 24
	rm -rf "$T/mail/bbbbbbbbb@example.org"
	run ctl list
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | head -1 | tr -s ' ')" = "ADDRESS LAST LOGIN MAILS SIZE" ]
	[[ "$(echo "$output" | sed -n 2p | tr -s ' ')" == "aaaaaaaaa@example.org $(date -u +%F) 2 1.0 KiB" ]]
	[[ "$(echo "$output" | sed -n 3p | tr -s ' ')" == "bbbbbbbbb@example.org $(date -u -d '3 days ago' +%F) 0 0 B (no maildir)" ]]
	run ctl --json list
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq length)" -eq 2 ]
	[ "$(echo "$output" | jq -r '.[0].addr')" = aaaaaaaaa@example.org ]
	[ "$(echo "$output" | jq '.[0].mails')" -eq 2 ]
	[ "$(echo "$output" | jq '.[0].bytes')" -eq 1024 ]
	[ "$(echo "$output" | jq '.[0].last_login')" -eq "$(today)" ]
	[ "$(echo "$output" | jq '.[1].last_login')" -eq "$(($(today) - 3 * 86400))" ]
	[ "$(echo "$output" | jq -r '.[1].last_login_day')" = "$(date -u -d '3 days ago' +%F)" ]
	[ "$(echo "$output" | jq '.[1].maildir')" = false ]
}

@test "chatmailctl list --json: an empty relay is an empty array, and nothing is made" {
	rmdir "$T/mail"
	run ctl --json list
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c .)" = "[]" ]
	[ ! -e "$T/passdb.sqlite" ]
	[ ! -e "$T/mail" ]
}

@test "chatmailctl --json: hostile bytes in the database come out as valid JSON, and harmless for a terminal" {
	account aaaaaaaaa@example.org 0
	# a quote, a backslash, a newline, a terminal escape and a byte that is not UTF-8
	sqlite3 "$T/passdb.sqlite" "INSERT INTO users VALUES ('q\"uo\\te' || char(10) || char(27) || '[31m' || CAST(X'FF' AS TEXT) || '@example.org', 'x', 0)"
	run ctl --json list
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.[0].addr')" = "aaaaaaaaa@example.org" ]
	[ "$(echo "$output" | jq -r '.[1].addr')" = "$(printf 'q"uo\\te\n\033[31m\xef\xbf\xbd@example.org')" ]
	[ "$(echo "$output" | jq -r '.[1].last_login_day')" = never ]
	run ctl list
	[ "$status" -eq 0 ]
	[[ "$output" != *$'\033'* ]]
	[ "$(echo "$output" | wc -l)" -eq 3 ]
}

@test "chatmailctl show: one account in detail; unknown is exit 1, not an address exit 2" {
	account aaaaaaaaa@example.org 8
	mail_file aaaaaaaaa@example.org/cur/1 "1 day ago" 262144
	run ctl show AAAAAAAAA@example.org
	[ "$status" -eq 0 ]
	[[ "$output" == *"address:     aaaaaaaaa@example.org"* ]]
	[[ "$output" == *"last login:  $(date -u -d '8 days ago' +%F)"* ]]
	[[ "$output" == *"mails:       1"* ]]
	[[ "$output" == *"size:        256.0 KiB of 1.0 MiB (25%)"* ]]
	[[ "$output" == *"encryption:  required for incoming mail"* ]]
	run ctl --json show aaaaaaaaa@example.org
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c '[.addr, .account, .mails, .bytes, .quota_bytes, .quota_percent, .encryption_enforced]')" = \
		'["aaaaaaaaa@example.org",true,1,262144,1048576,25,true]' ]
	run ctl show nobody123@example.org
	[ "$status" -eq 1 ]
	[[ "$output" == *"no account nobody123@example.org"* ]]
	run ctl show ../../etc
	[ "$status" -eq 2 ]
	run ctl show someone12@other.org
	[ "$status" -eq 2 ]
}

@test "chatmailctl show: a maildir without an account is shown as such" {
	mail_file orphan123@example.org/cur/1 "1 day ago" 10
	run ctl --json show orphan123@example.org
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq '.account')" = false ]
	[ "$(echo "$output" | jq '.maildir')" = true ]
}

@test "chatmailctl delete: row and maildir go; a new account at the address starts empty" {
	account aaaaaaaaa@example.org 0
	account bbbbbbbbb@example.org 0
	mail_file aaaaaaaaa@example.org/cur/secret "1 hour ago"
	run ctl delete aaaaaaaaa@example.org
	[ "$status" -eq 0 ]
	[ "$output" = "deleted aaaaaaaaa@example.org" ]
	[ "$(accounts)" = bbbbbbbbb@example.org ]
	[ ! -e "$T/mail/aaaaaaaaa@example.org" ]
	[ -d "$T/mail/bbbbbbbbb@example.org" ]
	run ctl delete aaaaaaaaa@example.org
	[ "$status" -eq 1 ]
	account aaaaaaaaa@example.org 0
	[ -z "$(mails | grep aaaaaaaaa)" ]
	run ctl --json delete bbbbbbbbb@example.org
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c .)" = '{"addr":"bbbbbbbbb@example.org","deleted":true}' ]
}

@test "chatmailctl delete: a home that is a link goes as the link; what it points to stays" {
	mkdir -p "$T/outside/cur" && echo sentinel >"$T/outside/cur/mail"
	account aaaaaaaaa@example.org 0
	rm -rf "$T/mail/aaaaaaaaa@example.org" && ln -s "$T/outside" "$T/mail/aaaaaaaaa@example.org"
	run ctl delete aaaaaaaaa@example.org
	[ "$status" -eq 0 ]
	[ ! -L "$T/mail/aaaaaaaaa@example.org" ]
	[ "$(cat "$T/outside/cur/mail")" = sentinel ]
	run ctl delete ../outside
	[ "$status" -eq 2 ]
	[ -d "$T/outside" ]
}

@test "chatmailctl block and unblock: the nocreate file, which doveauth obeys" {
	run ctl block
	[ "$status" -eq 0 ]
	[[ "$output" == "account creation blocked"* ]]
	[ -f "$T/nocreate" ]
	run ctl --json stats
	[ "$(echo "$output" | jq .creation_blocked)" = true ]
	refute sh -c "printf 'newuser12@example.org\0password 123\0\0' | '$BIN/doveauth' /bin/true 3<&0"
	[ -z "$(accounts 2>/dev/null)" ]
	run ctl block # twice is fine
	[ "$status" -eq 0 ]
	run ctl --json unblock
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq .blocked)" = false ]
	[ ! -e "$T/nocreate" ]
	printf 'newuser12@example.org\0password 123\0\0' | "$BIN/doveauth" /bin/true 3<&0
	[ "$(accounts)" = newuser12@example.org ]
	run ctl unblock
	[ "$status" -eq 0 ]
}

@test "chatmailctl stats: accounts, active in the last day, week and month, disk used" {
	account aaaaaaaaa@example.org 0
	account bbbbbbbbb@example.org 1
	account ccccccccc@example.org 6
	account ddddddddd@example.org 29
	account eeeeeeeee@example.org 60
	mail_file aaaaaaaaa@example.org/cur/1 "1 day ago" 1000
	mail_file ccccccccc@example.org/new/1 "1 day ago" 2000
	mail_file orphan123@example.org/cur/1 "1 day ago" 500
	run ctl --json stats
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c '[.accounts, .active_day, .active_week, .active_month, .maildirs, .maildirs_without_account, .mails, .bytes, .creation_blocked]')" = \
		'[5,2,3,4,6,1,3,3500,false]' ]
	[ "$(echo "$output" | jq '.free_bytes > 0')" = true ]
	run ctl stats
	[ "$status" -eq 0 ]
	[[ "$output" == *"accounts:          5"* ]]
	[[ "$output" == *"active last day:   2"* ]]
	[[ "$output" == *"active last week:  3"* ]]
	[[ "$output" == *"active last month: 4"* ]]
	[[ "$output" == *"maildirs:          6 (1 without account)"* ]]
	[[ "$output" == *"disk used:         3.4 KiB (3500 bytes)"* ]]
	[[ "$output" == *"account creation:  allowed"* ]]
}

@test "chatmailctl: bad usage is exit 2, an unreadable chatmail.ini exit 111" {
	run ctl
	[ "$status" -eq 2 ]
	run ctl frobnicate
	[ "$status" -eq 2 ]
	run ctl show
	[ "$status" -eq 2 ]
	run ctl list extra
	[ "$status" -eq 2 ]
	run ctl delete "$(printf 'a%.0s' $(seq 1 300))@example.org"
	[ "$status" -eq 2 ]
	CHATMAIL_INI=$T/missing.ini run ctl list
	[ "$status" -eq 111 ]
}

@test "chatmailctl: run as root it reads and deletes as the vmail user" {
	relay_dir "vmail_user = 65534:65534"
	account aaaaaaaaa@example.org 0
	account bbbbbbbbb@example.org 0
	chown -R 65534:65534 "$T/mail" "$T/passdb.sqlite"* && chown 65534:65534 "$T"
	open_path_to "$T"
	run ctl delete aaaaaaaaa@example.org
	[ "$status" -eq 0 ]
	run ctl --json list
	[ "$(echo "$output" | jq -r '.[].addr')" = bbbbbbbbb@example.org ]
	[ -z "$(find "$T/mail" "$T"/passdb.sqlite* ! -uid 65534)" ]
}
