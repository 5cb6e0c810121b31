# Maildirs with mails of chosen ages and sizes, accounts with chosen last logins, and a
# Dovecot with LMTP and the relay's quota expiry. Call relay_dir first.
# shellcheck shell=bash

# mail_file PATH AGE [SIZE]: a mail of SIZE bytes (default 100) at $T/mail/PATH whose mtime
# is AGE, in touch -d words ("21 days ago").
mail_file() {
	local path=$T/mail/$1
	mkdir -p "$(dirname "$path")"
	head -c "${3:-100}" /dev/zero | tr '\0' m >"$path"
	touch -d "$2" "$path"
}

# today: the UTC midnight doveauth records as the login day.
today() {
	echo $(($(date +%s) / 86400 * 86400))
}

# account ADDR DAYS: an account made as doveauth makes it on a first login (row, maildir
# home, enforceE2EEincoming), whose last login day lies DAYS days back.
account() {
	printf '%s\0%s\0\0' "$1" 'password 123' | "$BIN/doveauth" /bin/true 3<&0
	sqlite3 "${PASSDB:-$T/passdb.sqlite}" \
		"UPDATE users SET last_login = $(($(today) - $2 * 86400)) WHERE addr = '$1'"
}

# mails: every file in a cur/ or new/ below $T/mail, as sorted relative paths.
mails() {
	(cd "$T/mail" && find . \( -path '*/cur/*' -o -path '*/new/*' \) -type f | sed 's|^\./||' | sort)
}

# accounts: the addresses in the database, sorted.
accounts() {
	sqlite3 "${PASSDB:-$T/passdb.sqlite}" 'SELECT addr FROM users ORDER BY addr'
}

# lmtp_deliver ADDR SUBJECT [LINES]: one message of LINES (default 10) lines of 100 bytes
# to ADDR over LMTP on $LMTP_PORT, as Postfix hands it over; prints the final reply.
lmtp_deliver() {
	local i body=""
	for ((i = 0; i < ${3:-10}; i++)); do
		body+="> $(printf '%0100d' "$i")"$'\n'
	done
	printf '> LHLO test\n<\n> MAIL FROM:<sender@example.org>\n<\n> RCPT TO:<%s>\n<\n> DATA\n<\n> Subject: %s\n> \n%s> .\n<\n> QUIT\n<\n' \
		"$1" "$2" "$body" | "$BIN/tools/smtpchat" -p "$LMTP_PORT" | grep -E '^[245][0-9][0-9] ' | sed -n 5p
}

# lmtp_rcpt ADDR: Dovecot LMTP's answer to RCPT TO:<ADDR>.
lmtp_rcpt() {
	printf '> LHLO test\n<\n> MAIL FROM:<sender@example.org>\n<\n> RCPT TO:<%s>\n<\n> QUIT\n<\n' "$1" |
		"$BIN/tools/smtpchat" -p "$LMTP_PORT" | grep -E '^[245][0-9][0-9] ' | sed -n 4p
}

# dovecot_start_with_quota: lib/dovecot.bash's Dovecot, with LMTP on $LMTP_PORT and, unless
# it already runs the relay's conf/dovecot/dovecot.conf, the quota plugin and the quota
# expiry section cut from that template and rendered, so the tests run the relay's text.
dovecot_start_with_quota() {
	dovecot_start
	LMTP_PORT=$(free_port)
	if [ -z "$(doveconf -c "$DOVECOT_CONF" -h plugin/quota_warning 2>/dev/null)" ]; then
		sed -n '/^# --- Quota expiry/,/^# --- end of quota expiry/p' \
			"$ROOT/conf/dovecot/dovecot.conf" >"$T/quota-section.in"
		[ -s "$T/quota-section.in" ] || return 1
		"$BIN/chatmail-render" -D "bin_dir=$BIN" -D "chatmail_ini=$CHATMAIL_INI" \
			-D vmail_user_name=nobody "$T/quota-section.in" "$T/quota-section.conf"
		# the global line goes first: a global line after a filter would not reach into it
		sed -i '1i mail_plugins = $mail_plugins quota' "$DOVECOT_CONF"
		cat >>"$DOVECOT_CONF" <<CONF
protocol imap {
  mail_plugins = \$mail_plugins imap_quota
}
plugin {
  quota = maildir:User quota
  quota_grace = 0
}
CONF
		cat "$T/quota-section.conf" >>"$DOVECOT_CONF"
	fi
	cat >>"$DOVECOT_CONF" <<CONF
protocols = imap lmtp
lmtp_add_received_header = no
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
CONF
	doveadm -c "$DOVECOT_CONF" reload
	wait_port "$LMTP_PORT"
	export LMTP_PORT
}
