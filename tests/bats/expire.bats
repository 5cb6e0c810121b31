#!/usr/bin/env bats
# chatmail-expire on maildirs built for each test: which mails and accounts go, which stay,
# and what bad input does to it (nothing outside mailboxes_dir, the rest still processed).

load lib/common
load lib/expire

setup() {
	relay_dir
}

expire() {
	"$BIN/chatmail-expire" "$@"
}

@test "expire: mails older than delete_mails_after days go from every folder, younger stay" {
	account abcdefghi@example.org 0
	A=abcdefghi@example.org
	mail_file $A/cur/old-cur "21 days ago"
	mail_file $A/new/old-new "20 days ago - 1 hour"
	mail_file $A/cur/young "20 days ago + 1 hour"
	mail_file $A/new/today "now"
	mail_file "$A/.Sent/cur/old-sent" "30 days ago"
	mail_file "$A/.Sent/new/young-sent" "19 days ago"
	mail_file "$A/.Sent Messages/cur/old" "400 days ago"
	mail_file "$A/.Trash/new/young" "1 day ago"
	run expire
	[ "$status" -eq 0 ]
	[ "$(mails)" = "$A/.Sent/new/young-sent
$A/.Trash/new/young
$A/cur/young
$A/new/today" ]
	[[ "$output" == *"4 mails (400 bytes) removed"* ]]
	grep -q "expired 4 mail(s), 400 bytes, from $A" "$T/log"
}

@test "expire: mails over 200 KiB go after delete_large_after days; 200 KiB and less stay" {
	account abcdefghi@example.org 0
	A=abcdefghi@example.org
	mail_file $A/cur/large-old "8 days ago" 204801
	mail_file $A/cur/large-young "6 days ago" 204801
	mail_file $A/cur/limit-old "8 days ago" 204800
	mail_file $A/new/small-old "19 days ago" 1
	mail_file "$A/.Sent/cur/large-old" "7 days ago - 1 minute" 300000
	run expire
	[ "$status" -eq 0 ]
	[ "$(mails)" = "$A/cur/large-young
$A/cur/limit-old
$A/new/small-old" ]
	[[ "$output" == *"2 mails (504801 bytes) removed"* ]]
}

@test "expire: the ages come from chatmail.ini" {
	relay_dir "delete_mails_after = 2" "delete_large_after = 1"
	account abcdefghi@example.org 0
	A=abcdefghi@example.org
	mail_file $A/cur/three-days "3 days ago"
	mail_file $A/cur/one-day "1 day ago + 1 hour"
	mail_file $A/cur/large-two-days "2 days ago + 1 hour" 300000
	run expire
	[ "$status" -eq 0 ]
	[ "$(mails)" = "$A/cur/one-day" ]
}

@test "expire: an account without login for delete_inactive_users_after days loses row and maildir" {
	account inactive1@example.org 91
	account boundary1@example.org 90
	account active123@example.org 1
	mail_file inactive1@example.org/cur/mail "1 day ago"
	mail_file boundary1@example.org/cur/mail "1 day ago"
	run expire
	[ "$status" -eq 0 ]
	[ "$(accounts)" = "active123@example.org
boundary1@example.org" ]
	[ ! -e "$T/mail/inactive1@example.org" ]
	[ -f "$T/mail/boundary1@example.org/cur/mail" ]
	[ -f "$T/mail/boundary1@example.org/enforceE2EEincoming" ]
	[[ "$output" == *"3 accounts scanned, 1 removed"* ]]
	grep -q "removed inactive account inactive1@example.org (last login .*, 1 mails, 100 bytes)" "$T/log"
	# the trash it went through is empty
	[ -z "$(ls -A "$T/mail/.deleted")" ]
}

@test "expire: a new account at the address of a removed one never sees the old mail" {
	account reused123@example.org 100
	mail_file reused123@example.org/cur/secret "1 hour ago"
	mail_file "reused123@example.org/.Sent/cur/secret" "1 hour ago"
	expire
	[ -z "$(accounts)" ]
	printf 'reused123@example.org\0another password\0\0' | "$BIN/doveauth" /bin/true 3<&0
	[ "$(accounts)" = reused123@example.org ]
	[ -z "$(mails)" ]
	[ -f "$T/mail/reused123@example.org/enforceE2EEincoming" ]
}

@test "expire: an account whose login day is unknown is kept" {
	account unknown12@example.org 0
	sqlite3 "$T/passdb.sqlite" "UPDATE users SET last_login = NULL"
	expire
	[ "$(accounts)" = unknown12@example.org ]
	[ -d "$T/mail/unknown12@example.org" ]
}

@test "expire: --dry-run prints what is due and changes nothing" {
	account inactive1@example.org 200
	account abcdefghi@example.org 0
	mail_file abcdefghi@example.org/cur/old "30 days ago" 10
	mail_file abcdefghi@example.org/cur/large "10 days ago" 300000
	mail_file abcdefghi@example.org/cur/young "1 day ago" 10
	mail_file inactive1@example.org/cur/any "1 day ago" 5
	snapshot() {
		(cd "$T/mail" && find . -printf '%p %s %T@\n' | sort)
		sqlite3 "$T/passdb.sqlite" 'SELECT * FROM users ORDER BY addr'
	}
	before=$(snapshot)
	run expire --dry-run
	[ "$status" -eq 0 ]
	[[ "$output" == *"would remove account inactive1@example.org (last login "*", 1 mails, 5 bytes)"* ]]
	[[ "$output" == *"would remove abcdefghi@example.org/cur/old (10 bytes, old)"* ]]
	[[ "$output" == *"would remove abcdefghi@example.org/cur/large (300000 bytes, large)"* ]]
	[[ "$output" != *young* ]]
	[[ "$output" == *"dry run: 2 accounts scanned, 1 inactive;"*"3 mails (300015 bytes) due"* ]]
	[ "$(snapshot)" = "$before" ]
}

@test "expire: the summary counts accounts, maildirs, mails and bytes" {
	account aaaaaaaaa@example.org 0
	account bbbbbbbbb@example.org 95
	mail_file aaaaaaaaa@example.org/cur/1 "25 days ago" 1000
	mail_file aaaaaaaaa@example.org/cur/2 "1 day ago" 1000
	mail_file bbbbbbbbb@example.org/cur/1 "1 day ago" 7
	run expire
	[ "$status" -eq 0 ]
	[[ "$output" =~ "chatmail-expire: 2 accounts scanned, 1 removed; 1 maildirs, 2 mails scanned, 2 mails (1007 bytes) removed; 0 skipped, 0 errors; "[0-9.]+" s, peak RSS "[0-9]+" KiB" ]]
}

@test "expire: Dovecot's quota file goes with the mails, so Dovecot counts the maildir again" {
	account abcdefghi@example.org 0
	mail_file abcdefghi@example.org/cur/old "30 days ago"
	account other1234@example.org 0
	mail_file other1234@example.org/cur/young "1 day ago"
	echo "524288000S" >"$T/mail/abcdefghi@example.org/maildirsize"
	echo "524288000S" >"$T/mail/other1234@example.org/maildirsize"
	expire
	[ ! -e "$T/mail/abcdefghi@example.org/maildirsize" ]
	# nothing removed there: its count stays
	[ -e "$T/mail/other1234@example.org/maildirsize" ]
}

@test "expire: links, foreign files and names that are not addresses are skipped; nothing outside mailboxes_dir changes" {
	mkdir -p "$T/outside/cur" "$T/outside/dir"
	echo sentinel >"$T/outside/sentinel"
	echo sentinel >"$T/outside/cur/old-mail"
	touch -d "400 days ago" "$T/outside/sentinel" "$T/outside/cur/old-mail"
	outside_before=$(cd "$T/outside" && find . -printf '%p %s %T@\n' | sort)
	account abcdefghi@example.org 0
	A=$T/mail/abcdefghi@example.org
	mail_file abcdefghi@example.org/cur/old "30 days ago"
	ln -s "$T/outside/sentinel" "$A/cur/link-to-file"
	ln -s "$T/outside/dir" "$A/cur/link-to-dir"
	ln -s "$T/outside" "$A/.Evil"
	ln -s "$T/outside/cur" "$A/.Other"
	mkdir -p "$A/.Weird/cur" && ln -s "$T/outside/cur" "$A/.Weird/new"
	mkfifo "$A/cur/fifo"
	mkdir "$A/cur/a-directory"
	echo "not a mail" >"$A/notes.txt" && touch -d "400 days ago" "$A/notes.txt"
	# homes that are links, files, or not addresses of this relay
	ln -s "$T/outside" "$T/mail/evil12345@example.org"
	echo x >"$T/mail/afile6789@example.org"
	mkdir -p "$T/mail/not-an-address/cur" "$T/mail/someone12@other.org/cur" "$T/mail/UPPER1234@example.org/cur"
	for d in not-an-address someone12@other.org UPPER1234@example.org; do
		mail_file "$d/cur/old" "400 days ago"
	done
	run expire
	[ "$status" -eq 0 ]
	[ ! -e "$A/cur/old" ]
	[ "$(cd "$T/outside" && find . -printf '%p %s %T@\n' | sort)" = "$outside_before" ]
	[ -L "$A/cur/link-to-file" ]
	[ -L "$A/.Evil" ]
	[ -p "$A/cur/fifo" ]
	[ -f "$A/notes.txt" ]
	[ -L "$T/mail/evil12345@example.org" ]
	[ -f "$T/mail/afile6789@example.org" ]
	for d in not-an-address someone12@other.org UPPER1234@example.org; do
		[ -f "$T/mail/$d/cur/old" ]
	done
	grep -q "skipping abcdefghi@example.org/cur/link-to-file: not a regular file" "$T/log"
	grep -q "skipping abcdefghi@example.org/.Evil: a symbolic link" "$T/log"
	grep -q "skipping abcdefghi@example.org/.Weird/new: a symbolic link" "$T/log"
	grep -q "skipping evil12345@example.org: a symbolic link" "$T/log"
	grep -q "skipping afile6789@example.org: not a directory" "$T/log"
	grep -q "skipping not-an-address: not an address of this relay" "$T/log"
	grep -q "skipping someone12@other.org: not an address of this relay" "$T/log"
	grep -q "skipping UPPER1234@example.org: not an address of this relay" "$T/log"
}

@test "expire: removing an inactive account whose home is a link removes the link only" {
	mkdir -p "$T/outside/cur"
	echo sentinel >"$T/outside/cur/mail"
	account inactive1@example.org 100
	rm -rf "$T/mail/inactive1@example.org"
	ln -s "$T/outside" "$T/mail/inactive1@example.org"
	run expire
	[ "$status" -eq 0 ]
	[ -z "$(accounts)" ]
	[ ! -e "$T/mail/inactive1@example.org" ]
	[ ! -L "$T/mail/inactive1@example.org" ]
	[ "$(cat "$T/outside/cur/mail")" = sentinel ]
}

@test "expire: an account row without a maildir and a maildir without a row are logged; old mail goes" {
	account nomaildir@example.org 0
	rm -rf "$T/mail/nomaildir@example.org"
	account gone12345@example.org 0
	sqlite3 "$T/passdb.sqlite" "DELETE FROM users WHERE addr = 'gone12345@example.org'"
	mail_file gone12345@example.org/cur/old "30 days ago"
	mail_file gone12345@example.org/cur/young "1 day ago"
	account inactive1@example.org 100
	rm -rf "$T/mail/inactive1@example.org"
	run expire
	[ "$status" -eq 0 ]
	[ "$(mails)" = gone12345@example.org/cur/young ]
	[ "$(accounts)" = nomaildir@example.org ]
	grep -q "gone12345@example.org has no account; its mails still expire by age" "$T/log"
	grep -q "removed inactive account inactive1@example.org (last login .*, 0 mails, 0 bytes)" "$T/log"
}

@test "expire: an unreadable directory is logged and skipped, the rest is processed" {
	relay_dir "vmail_user = 65534:65534"
	account abcdefghi@example.org 0
	account jklmnopqr@example.org 0
	mail_file abcdefghi@example.org/cur/old "30 days ago"
	mail_file abcdefghi@example.org/.Sent/cur/old "30 days ago"
	mail_file jklmnopqr@example.org/cur/old "30 days ago"
	mail_file jklmnopqr@example.org/.Sent/cur/old "30 days ago"
	chown -R 65534:65534 "$T/mail" "$T/passdb.sqlite"* && chown 65534:65534 "$T"
	chmod 000 "$T/mail/abcdefghi@example.org/cur"
	touch "$T/log" && chown 65534:65534 "$T/log"
	open_path_to "$T"
	# as the vmail user: root would read the directory anyway
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN/chatmail-expire"
	[ "$status" -eq 1 ]
	chmod 700 "$T/mail/abcdefghi@example.org/cur"
	[ "$(mails)" = abcdefghi@example.org/cur/old ]
	[[ "$output" == *"3 mails (300 bytes) removed; 0 skipped, 1 errors"* ]]
	grep -q "cannot read abcdefghi@example.org/cur: Permission denied" "$T/log"
}

@test "expire: run as root it works as the vmail user" {
	relay_dir "vmail_user = 65534:65534"
	account abcdefghi@example.org 0
	account inactive1@example.org 100
	mail_file abcdefghi@example.org/cur/old "30 days ago"
	chown -R 65534:65534 "$T/mail" "$T/passdb.sqlite"* && chown 65534:65534 "$T"
	open_path_to "$T"
	run expire
	[ "$status" -eq 0 ]
	[ -z "$(mails)" ]
	[ "$(accounts)" = abcdefghi@example.org ]
	# whatever it made (the trash, the database's journal) belongs to the vmail user
	[ -z "$(find "$T/mail" "$T"/passdb.sqlite* ! -uid 65534)" ]
}

@test "expire: what an interrupted run left in the trash is removed by the next" {
	account abcdefghi@example.org 0
	mkdir -p "$T/mail/.deleted/1700000000-42-1/cur" "$T/mail/.deleted/1700000000-42-1/.Sent/cur"
	echo old >"$T/mail/.deleted/1700000000-42-1/cur/mail"
	run expire
	[ "$status" -eq 0 ]
	[ -z "$(ls -A "$T/mail/.deleted")" ]
	[ -d "$T/mail/abcdefghi@example.org" ]
}

@test "expire: a mailbox that stays over the quota warning level is shrunk by the daily run" {
	relay_dir "max_mailbox_size = 100K"
	account abcdefghi@example.org 0
	A=abcdefghi@example.org
	# 9 mails of 10 KiB = 90 KiB, over 75 KiB: the two oldest go, down to 70 KiB
	for i in 1 2 3 4 5; do mail_file $A/cur/old-$i "$((10 - i)) days ago" 10240; done
	for i in 1 2 3 4; do mail_file $A/new/recent-$i "$i hours ago" 10240; done
	run expire
	[ "$status" -eq 0 ]
	[ "$(mails)" = "$A/cur/old-3
$A/cur/old-4
$A/cur/old-5
$A/new/recent-1
$A/new/recent-2
$A/new/recent-3
$A/new/recent-4" ]
	grep -q "quota-expire: removed 2 message(s) from $A (20480 bytes; 71680 of 102400 bytes in use)" "$T/log"
}

@test "expire --quota: the oldest mails go, from every folder, until 70 % is reached" {
	relay_dir "max_mailbox_size = 100K"
	account abcdefghi@example.org 0
	A=abcdefghi@example.org
	mail_file $A/cur/old-1 "3 days ago" 20480
	mail_file "$A/.Sent/cur/old-2" "2 days ago" 20480
	mail_file $A/new/old-3 "25 hours ago" 10240
	for i in 1 2 3 4 5; do mail_file $A/new/recent-$i "$i hours ago" 10240; done
	echo "102400S" >"$T/mail/$A/maildirsize"
	# 100 KiB in use, 70 KiB wanted: the two oldest (40 KiB) are enough
	run expire --quota $A
	[ "$status" -eq 0 ]
	[ "$(mails)" = "$A/new/old-3
$A/new/recent-1
$A/new/recent-2
$A/new/recent-3
$A/new/recent-4
$A/new/recent-5" ]
	[ ! -e "$T/mail/$A/maildirsize" ]
	grep -q "quota-expire: removed 2 message(s) from $A (40960 bytes; 61440 of 102400 bytes in use)" "$T/log"
}

@test "expire --quota: mails of the last 24 hours are spared even when the mailbox stays over" {
	relay_dir "max_mailbox_size = 100K"
	account abcdefghi@example.org 0
	A=abcdefghi@example.org
	mail_file $A/cur/old-1 "3 days ago" 10240
	mail_file $A/cur/old-2 "25 hours ago" 10240
	for i in 1 2 3 4 5 6 7 8; do mail_file $A/new/recent-$i "$i hours ago - 30 minutes" 10240; done
	run expire --quota $A
	[ "$status" -eq 0 ]
	[ "$(mails | grep -c recent)" -eq 8 ]
	[ "$(mails | grep -c old)" -eq 0 ]
	grep -q "quota-expire: removed 2 message(s) from $A" "$T/log"
	grep -q "$A holds 81920 bytes, over 71680, in mails younger than 24 hours" "$T/log"
}

@test "expire --quota: a mailbox of recent mails only is left alone, and that is logged" {
	relay_dir "max_mailbox_size = 100K"
	account abcdefghi@example.org 0
	for i in 1 2 3 4 5 6 7 8; do mail_file abcdefghi@example.org/new/recent-$i "$i hours ago" 10240; done
	run expire --quota abcdefghi@example.org
	[ "$status" -eq 0 ]
	[ "$(mails | wc -l)" -eq 8 ]
	grep -q "abcdefghi@example.org holds 81920 bytes, over 71680, in mails younger than 24 hours" "$T/log"
	refute grep -q "removed" "$T/log"
}

@test "expire --quota: under the target nothing goes; --dry-run lists and keeps" {
	relay_dir "max_mailbox_size = 100K"
	account abcdefghi@example.org 0
	mail_file abcdefghi@example.org/cur/old "3 days ago" 60000
	run expire --quota abcdefghi@example.org
	[ "$status" -eq 0 ]
	[ "$(mails)" = abcdefghi@example.org/cur/old ]
	mail_file abcdefghi@example.org/cur/old2 "4 days ago" 30000
	run expire --dry-run --quota abcdefghi@example.org
	[ "$status" -eq 0 ]
	[[ "$output" == *"would remove abcdefghi@example.org/cur/old2 (30000 bytes, over quota)"* ]]
	[[ "$output" == *"dry run: 1 message(s) (30000 bytes) of abcdefghi@example.org due"* ]]
	[ "$(mails | wc -l)" -eq 2 ]
}

@test "expire --quota: names that are not addresses, and links, are refused" {
	mkdir -p "$T/outside/cur"
	echo x >"$T/outside/cur/old" && touch -d "400 days ago" "$T/outside/cur/old"
	ln -s "$T/outside" "$T/mail/linked123@example.org"
	run expire --quota ../outside
	[ "$status" -eq 2 ]
	run expire --quota "linked123@example.org"
	[ "$status" -eq 1 ]
	run expire --quota "nobody123@example.org"
	[ "$status" -eq 0 ]
	[ -f "$T/outside/cur/old" ]
	grep -q "'../outside' is not an address of this relay" "$T/log"
}

@test "expire: bad arguments are exit 2; an unreadable chatmail.ini is exit 111 and changes nothing" {
	run expire --bogus
	[ "$status" -eq 2 ]
	run expire --quota
	[ "$status" -eq 2 ]
	account inactive1@example.org 100
	CHATMAIL_INI=$T/missing.ini run expire
	[ "$status" -eq 111 ]
	grep -q "cannot open $T/missing.ini" "$T/log"
	printf '[params]\nmail_domain = example.org\ndelete_mails_after = soon\n' >"$T/bad.ini"
	CHATMAIL_INI=$T/bad.ini run expire
	[ "$status" -eq 111 ]
	grep -q "delete_mails_after has a value that does not parse" "$T/log"
	[ "$(accounts)" = inactive1@example.org ]
	run expire --config "$T/missing.ini"
	[ "$status" -eq 111 ]
}

@test "expire: no database and no maildirs yet is no error, and makes neither" {
	rmdir "$T/mail"
	run expire
	[ "$status" -eq 0 ]
	[ ! -e "$T/mail" ]
	[ ! -e "$T/passdb.sqlite" ]
	mkdir "$T/mail"
	run expire
	[ "$status" -eq 0 ]
	[ ! -e "$T/passdb.sqlite" ]
}

@test "expire: a terminal gets a progress line, a pipe does not" {
	account abcdefghi@example.org 0
	run script -qec "$BIN/chatmail-expire" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\r'"chatmail-expire: 1 of ~1 maildirs, 0 mails scanned, 0 removed"* ]]
	run expire
	[[ "$output" != *$'\r'* ]]
}
