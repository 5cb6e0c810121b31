#!/usr/bin/env bats
# chatmail-expire beside a real Dovecot: the quota hook the relay's dovecot.conf installs,
# called by Dovecot on LMTP delivery, and the daily expiry while mail arrives and is read.

load lib/common
load lib/dovecot
load lib/expire

teardown() {
	dovecot_stop
}

# mailbox_count ADDR [MAILBOX]: how many messages Dovecot sees.
mailbox_count() {
	doveadm -c "$DOVECOT_CONF" -f flow mailbox status -u "$1" messages "${2:-INBOX}" |
		sed -n 's/.*messages=\([0-9]*\).*/\1/p'
}

@test "expire-dovecot: over 75 % Dovecot's hook removes the oldest mails and every delivery succeeds" {
	relay_dir "max_mailbox_size = 100K"
	dovecot_start_with_quota
	A=quotauser@example.org
	imap_login $A 'password 123' >/dev/null
	# five old mails of 10 KiB, oldest first: old-1 is 9 days old
	for i in 1 2 3 4 5; do
		mail_file $A/cur/100000000$i.M1P1.old-$i,S=10240:2,S "$((10 - i)) days ago" 10240
	done
	chown -R 65534:65534 "$T/mail/$A"
	# Six deliveries of 10.4 KiB: the 3rd crosses 75 % (two old mails go, down to 70 %),
	# the 5th crosses again, and each fits only because Dovecot counted the mailbox again.
	for i in 1 2 3 4 5 6; do
		[[ "$(lmtp_deliver $A "delivery $i" 105)" == "250 2.0.0 "*Saved* ]]
	done
	[ "$(mails | grep -c old-)" -eq 1 ]
	[ -f "$T/mail/$A/cur/1000000005.M1P1.old-5,S=10240:2,S" ]
	[ "$(mails | grep -vc old-)" -eq 6 ]
	[ "$(grep -c "quota-expire: removed 2 message(s) from $A" "$T/dovecot/log")" -eq 2 ]
	# Dovecot's own view agrees with the files, and IMAP clients see the same
	[ "$(mailbox_count $A)" -eq 7 ]
	[[ "$(imap_examine $A 'password 123')" == *"7 EXISTS"* ]]
	used=$(doveadm -c "$DOVECOT_CONF" -f flow quota get -u $A | grep -o 'Type=STORAGE Value=[0-9]*' | grep -o '[0-9]*$')
	[ "$used" -le 100 ] # KiB
}

@test "expire-dovecot: mails of the last day are never removed for the quota; a full mailbox then refuses" {
	relay_dir "max_mailbox_size = 100K"
	dovecot_start_with_quota
	A=quotauser@example.org
	imap_login $A 'password 123' >/dev/null
	for i in 1 2 3 4 5 6 7 8 9; do
		[[ "$(lmtp_deliver $A "delivery $i" 105)" == "250 2.0.0 "*Saved* ]]
	done
	# nothing is older than a day: nothing may go, and the tenth does not fit
	[[ "$(lmtp_deliver $A "delivery 10" 105)" == "552 "* ]]
	[ "$(mailbox_count $A)" -eq 9 ]
	grep -q "in mails younger than 24 hours" "$T/dovecot/log"
}

@test "expire-dovecot: expiry while Dovecot delivers and serves IMAP loses nothing that is not due" {
	relay_dir
	dovecot_start_with_quota
	users="aaaaaaaaa bbbbbbbbb ccccccccc"
	for u in $users; do
		imap_login $u@example.org 'password 123' >/dev/null
		for i in $(seq 1 20); do
			mail_file $u@example.org/cur/17000000$i.M$i.seed-old-$i:2,S "30 days ago" 500
			mail_file $u@example.org/cur/17000001$i.M$i.seed-young-$i:2,S "2 days ago" 500
			mail_file "$u@example.org/.Sent/cur/17000002$i.M$i.sent-old-$i:2,S" "25 days ago" 500
			mail_file "$u@example.org/.Sent/cur/17000003$i.M$i.sent-young-$i:2,S" "1 hour ago" 500
		done
		mail_file $u@example.org/cur/1700000999.M9.large:2,S "8 days ago" 300000
		chown -R 65534:65534 "$T/mail/$u@example.org"
	done
	# deliveries, one writer per user, and IMAP readers that open (and so move) new mail
	pids=""
	for u in $users; do
		(for i in $(seq 1 30); do
			lmtp_deliver $u@example.org "live $u $i"
		done >"$T/deliveries-$u") &
		pids+=" $!"
		(for i in $(seq 1 10); do
			curl -sS --insecure --max-time 20 --user "$u@example.org:password 123" \
				"imaps://127.0.0.1:$IMAPS_PORT/INBOX" -X 'FETCH 1:* (FLAGS)' >/dev/null &&
				echo ok || echo failed
		done >"$T/imap-$u") &
		pids+=" $!"
	done
	# expiry runs again and again for as long as mail arrives and is read
	runs=0
	while kill -0 $pids 2>/dev/null; do
		"$BIN/chatmail-expire" >>"$T/expire-output"
		runs=$((runs + 1))
	done
	wait
	"$BIN/chatmail-expire" >>"$T/expire-output"
	[ "$runs" -ge 3 ]
	for u in $users; do
		[ "$(grep -c '^250 2.0.0 .*Saved' "$T/deliveries-$u")" -eq 30 ]
		[ "$(grep -c '^ok$' "$T/imap-$u")" -eq 10 ]
		# every live delivery, every young seed is there; no old or large seed is
		for i in $(seq 1 30); do
			grep -lq "^Subject: live $u $i\$" "$T/mail/$u@example.org"/{cur,new}/*
		done
		[ "$(mails | grep "^$u@example.org/" | grep -c 'seed-young\|sent-young')" -eq 40 ]
		[ "$(mails | grep "^$u@example.org/" | grep -c 'old-\|large')" -eq 0 ]
		[ "$(mailbox_count $u@example.org)" -eq 50 ]
		[ "$(mailbox_count $u@example.org Sent)" -eq 20 ]
	done
	[ "$(grep -c ' 0 errors' "$T/expire-output")" -eq $((runs + 1)) ]
}

@test "expire-dovecot: an inactive account the expiry deletes gets no more mail from Dovecot's cache" {
	relay_dir
	dovecot_start_with_quota
	A=idleuser1@example.org
	imap_login $A 'password 123' >/dev/null
	# a delivery puts the address into Dovecot's auth cache
	[[ "$(lmtp_deliver $A "cached")" == "250 2.0.0 "*Saved* ]]
	sqlite3 "$PASSDB" "UPDATE users SET last_login = $(($(today) - 100 * 86400))"
	run "$BIN/chatmail-expire"
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 accounts scanned, 1 removed;"* ]]
	[ "$(accounts)" = "" ]
	# the next delivery is refused at RCPT, and no new maildir appears
	[[ "$(lmtp_rcpt $A)" == "550 5.1.1 "* ]]
	[ ! -e "$T/mail/$A" ]
}
