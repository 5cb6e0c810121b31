# A real Dovecot for a test: own config under $T/dovecot, IMAPS on a loopback port, the relay's
# accounts section (doveauth as passdb, the account database as userdb, the auth cache), run
# as the mail user (nobody) as in production, owning the account database. Call relay_dir
# first. Sets DOVECOT_CONF, IMAPS_PORT and PASSDB.
# shellcheck shell=bash

dovecot_start() {
	local d="$T/dovecot"
	mkdir -p "$d/run" "$d/state"
	IMAPS_PORT=$(free_port)
	PASSDB="$T/vmail/passdb.sqlite"
	mkdir -p "$T/vmail"
	printf 'vmail_user = 65534:65534\npassdb_path = %s\n' "$PASSDB" >>"$CHATMAIL_INI"
	chown 65534:65534 "$T/mail" "$T/vmail"
	open_path_to "$T/mail"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
		-keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
	DOVECOT_CONF="$d/dovecot.conf"
	cat >"$DOVECOT_CONF" <<CONF
base_dir = $d/run
state_dir = $d/state
log_path = $d/log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <$d/cert.pem
ssl_key = <$d/key.pem
mail_location = maildir:~
first_valid_uid = 1
# the sanitizer builds reserve more address space than the default limit allows
default_vsz_limit = 0
import_environment = TZ CHATMAIL_INI CHATMAIL_LOG ASAN_OPTIONS UBSAN_OPTIONS
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = $IMAPS_PORT
    ssl = yes
  }
}
service auth {
  user = nobody
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
# the accounts section's last_login plugin, enabled as the relay's "protocol imap" does
protocol imap {
  mail_plugins = \$mail_plugins last_login
}
CONF
	dovecot_accounts_section >>"$DOVECOT_CONF" || return 1
	# a test's own lines, e.g. auth_debug = yes
	echo "${DOVECOT_EXTRA:-}" >>"$DOVECOT_CONF"
	dovecot -c "$DOVECOT_CONF"
	wait_port "$IMAPS_PORT"
	export DOVECOT_CONF IMAPS_PORT PASSDB
}

# dovecot_accounts_section: the relay's own passdb, userdb and auth cache, cut from
# conf/dovecot/dovecot.conf and rendered with its sql file, so the tests run the relay's text.
dovecot_accounts_section() {
	local d="$T/dovecot"
	mkdir -p "$d/etc/dovecot"
	sed -n '/^# --- Accounts/,/^# --- end of accounts/p' "$ROOT/conf/dovecot/dovecot.conf" \
		>"$d/accounts-section.in"
	[ -s "$d/accounts-section.in" ] || return 1
	local values=(-D "bin_dir=$BIN" -D "conf_dir=$d/etc" -D vmail_user_name=nobody)
	local ext
	for ext in dovecot-sql.conf.ext dovecot-dict-lastlogin.conf.ext; do
		"$BIN/chatmail-render" "${values[@]}" "$ROOT/conf/dovecot/$ext" "$d/etc/dovecot/$ext" ||
			return 1
	done
		"$BIN/chatmail-render" "${values[@]}" "$d/accounts-section.in" "$d/accounts-section.conf" &&
		cat "$d/accounts-section.conf"
}

dovecot_stop() {
	[ -n "${DOVECOT_CONF:-}" ] && doveadm -c "$DOVECOT_CONF" stop 2>/dev/null || true
}

# imap_login USER PASSWORD: logs in over IMAPS and lists the mailboxes (curl speaks IMAP).
imap_login() {
	curl -sS --insecure --max-time 20 --user "$1:$2" "imaps://127.0.0.1:$IMAPS_PORT/"
}

# imap_examine USER PASSWORD: opens INBOX read-only over IMAPS and prints the answer.
imap_examine() {
	curl -sS --insecure --max-time 20 --user "$1:$2" "imaps://127.0.0.1:$IMAPS_PORT/INBOX" \
		-X 'EXAMINE INBOX'
}
