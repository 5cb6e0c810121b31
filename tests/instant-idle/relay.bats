#!/usr/bin/env bats
# The relay on the instant-IDLE Dovecot build: IDLE clients hear of a delivery at once and still
# hear of every message. Run by `make instant-idle` inside `chatmail-instant-idle run`, which
# puts the cached build's Dovecot in place of the system's for these processes alone (not by
# `make check`: the build takes long); the relay suites of tests/bats run there too.

load ../bats/lib/common
load ../bats/lib/relay
load ../bats/lib/idle

setup_file() {
	export INI_EXTRA="max_user_send_per_minute = 1000
max_user_send_burst_size = 1000"
	relay_start chat.test
}

teardown_file() {
	relay_stop
}

setup() {
	read -r A_ADDR A_PASS <<<"$(new_account)"
	read -r B_ADDR B_PASS <<<"$(new_account)"
}

teardown() {
	idle_stop
}

@test "the Dovecot running here is the instant-IDLE build" {
	[ -n "${CHATMAIL_INSTANT_ROOT:-}" ] || {
		echo "run this suite through make instant-idle (chatmail-instant-idle run)" >&2
		return 1
	}
	cmp /usr/lib/dovecot/libdovecot-storage.so.0 \
		"$CHATMAIL_INSTANT_ROOT/usr/lib/dovecot/libdovecot-storage.so.0"
	cmp /usr/sbin/dovecot "$CHATMAIL_INSTANT_ROOT/usr/sbin/dovecot"
	cmp /usr/bin/doveadm "$CHATMAIL_INSTANT_ROOT/usr/bin/doveadm"
	# and it is the build of chatmail-instant-idle, not Debian's
	zcat "$CHATMAIL_INSTANT_ROOT/usr/share/doc/dovecot-core/changelog.Debian.gz" | head -1 |
		grep -F '+chatmailinstant1)'
}

@test "a delivery wakes an IDLE client in far less than Debian's 500 ms delay" {
	idle_start "$B_ADDR" "$B_PASS"
	latencies=$(idle_latencies "$A_ADDR" "$A_PASS" "$B_ADDR" 7)
	echo "SMTP submission to EXISTS, ms: $(echo $latencies)" >&3
	median=$(sort -n <<<"$latencies" | sed -n 4p)
	# Debian's build cannot wake the client sooner than 500 ms after the delivery
	[ "$median" -lt 450 ]
}

@test "a burst of 20 reaches the IDLE client, every message, in the order Dovecot stored them" {
	idle_start "$B_ADDR" "$B_PASS"
	for i in $(seq 20); do
		message_with_id "$A_ADDR" "$B_ADDR" "burst$i.$RANDOM" >"$BATS_TEST_TMPDIR/m$i.eml"
	done
	for i in $(seq 20); do
		send_smtps "$A_ADDR" "$A_PASS" "$A_ADDR" "$B_ADDR" "$BATS_TEST_TMPDIR/m$i.eml"
	done
	idle_wait_line '^[0-9]* \* 20 EXISTS$' 30
	# the counts only grow, and every EXISTS was heard during the IDLE
	counts=$(idle_exists_counts | tr '\n' ' ')
	[ "$(idle_exists_counts | sort -n | tr '\n' ' ')" = "$counts" ]
	[ "$(idle_exists_counts | sort -nu | tr '\n' ' ')" = "$counts" ]
	idle_send DONE 'd UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])'
	idle_wait_line '^[0-9]* d OK'
	seen=$(sed -n 's/^[0-9]* Message-ID: <\(burst[^@]*\)@test>$/\1/p' "$IDLE_LOG")
	[ "$(wc -l <<<"$seen")" = 20 ]
	[ "$(sort -u <<<"$seen" | wc -l)" = 20 ]
	# UID order is the order LMTP saved them in
	stored=$(grep -F "lmtp($B_ADDR)" "$RUN_DIR/log/dovecot.log" |
		sed -n 's/.*msgid=<\(burst[^@]*\)@test>: saved mail to INBOX.*/\1/p')
	[ "$seen" = "$stored" ]
}
