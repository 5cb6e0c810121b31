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
	if [ "$(relay_dovecot_version)" = 2.3 ]; then
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
	else
		# the same in Dovecot 2.4's words
		cat >"$DOVECOT_CONF" <<CONF
dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
base_dir = $d/run
state_dir = $d/state
log_path = $d/log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_server_cert_file = $d/cert.pem
ssl_server_key_file = $d/key.pem
mail_driver = maildir
mail_path = %{home}
first_valid_uid = 1
default_vsz_limit = unlimited
import_environment {
  TZ = %{env:TZ}
  CHATMAIL_INI = %{env:CHATMAIL_INI}
  CHATMAIL_LOG = %{env:CHATMAIL_LOG}
  ASAN_OPTIONS = %{env:ASAN_OPTIONS}
  UBSAN_OPTIONS = %{env:UBSAN_OPTIONS}
}
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
protocol imap {
  mail_plugins {
    last_login = yes
  }
}
CONF
	fi
	dovecot_accounts_section >>"$DOVECOT_CONF" || return 1
	# a test's own lines, e.g. auth_debug = yes
	echo "${DOVECOT_EXTRA:-}" >>"$DOVECOT_CONF"
	dovecot -c "$DOVECOT_CONF"
	wait_port "$IMAPS_PORT"
	export DOVECOT_CONF IMAPS_PORT PASSDB
}

# dovecot_accounts_section: the relay's own passdb, userdb and auth cache, cut from the
# dovecot.conf of the installed Dovecot's templates (conf/dovecot, conf/dovecot@2.4) and
# rendered with the files beside it (the sql file; the Lua passdb), so the tests run the
# relay's text.
dovecot_accounts_section() {
	local d="$T/dovecot" templates f
	templates=$(relay_dovecot_templates)
	mkdir -p "$d/etc/dovecot"
	sed -n '/^# --- Accounts/,/^# --- end of accounts/p' "$templates/dovecot.conf" \
		>"$d/accounts-section.in"
	[ -s "$d/accounts-section.in" ] || return 1
	# (auth_vsz_limit: Dovecot 2.4's section limits the workers that run doveauth, here a
	# sanitizer build)
	local values=(-D "bin_dir=$BIN" -D "conf_dir=$d/etc" -D vmail_user_name=nobody
		-D auth_vsz_limit=unlimited)
	for f in "$templates"/*; do
		[ "${f##*/}" = dovecot.conf ] ||
			"$BIN/chatmail-render" "${values[@]}" "$f" "$d/etc/dovecot/${f##*/}" || return 1
	done
	"$BIN/chatmail-render" "${values[@]}" "$d/accounts-section.in" "$d/accounts-section.conf" &&
		cat "$d/accounts-section.conf"
}

# dovecot_auth_debug: the setting that logs what the auth process does (the tests count it).
dovecot_auth_debug() {
	if [ "$(relay_dovecot_version)" = 2.3 ]; then
		echo "auth_debug = yes"
	else
		echo "log_debug = category=auth"
	fi
}

# dovecot_auth_count EVENT USER: how many auth debug lines of $T/dovecot/log say EVENT for
# USER: "doveauth" (Dovecot ran doveauth as its passdb), "prefetch" (a login's userdb fields
# came from doveauth's answer), "miss" and "hit" (a userdb lookup of the sql userdb, missing or
# hitting the auth cache), "passdb-hit" (a login of the sql passdb answered from the auth
# cache), "mismatch" (the sql passdb refused a password, cached or read). Dovecot 2.4 words
# these lines its own way.
dovecot_auth_count() {
	local pattern
	case "$(relay_dovecot_version) $1" in
	"2.3 doveauth") pattern="checkpassword($2,.*): execute: " ;;
	"2.3 prefetch") pattern="prefetch($2,.*): success" ;;
	"2.3 miss") pattern="sql($2,.*): userdb cache miss" ;;
	"2.3 hit") pattern="sql($2,.*): userdb cache hit" ;;
	"2.3 passdb-hit") pattern="sql($2,.*): cache hit" ;;
	"2.3 mismatch") pattern="sql($2,.*): cached password mismatch\|sql($2,.*): Password mismatch" ;;
	*" doveauth") pattern="auth-worker($2,.*: db-lua: execute: " ;;
	*" prefetch") pattern="auth($2,.*: prefetch: success" ;;
	*" miss") pattern="auth($2,.*: sql: userdb cache miss" ;;
	*" hit") pattern="auth($2,.*: sql: userdb cache hit" ;;
	*" passdb-hit") pattern="auth($2,.*: sql: cache hit" ;;
	*" mismatch") pattern="auth($2,.*: sql: cached password mismatch\|auth-worker($2,.*: sql: Password mismatch" ;;
	esac
	grep -c "$pattern" "$T/dovecot/log" || true
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
