# A real Postfix for a bats file, wired to filtermail by the relay's own master.cf template
# (conf/postfix/master.cf: smtpd_proxy_filter to spawn(8) services, reinject smtpd services),
# with a main.cf of the test's own that delivers every queued message to a recording sink.
# SASL comes from a Dovecot that only authenticates, with doveauth as its passdb.
# Needs lib/common and lib/filtermail. Sets PF (the test's directory), SUBMISSION_PORT,
# SMTP_PORT and SINK_PORT.
# shellcheck shell=bash

pf_ini() {
	{
		# the account database in a directory of the mail user, who creates accounts
		printf '%s\n' "passdb_path = $PF/vmail/passdb.sqlite" "mailboxes_dir = $PF/mail" \
			"nocreate_file = $PF/nocreate" "state_dir = $PF/state" "vmail_user = 65534:65534"
		relay_ini_test_relay
		printf '%s\n' "filtermail_smtp_port = $FILTER_PORT" \
			"filtermail_smtp_port_incoming = $FILTER_IN_PORT" \
			"postfix_reinject_port = $REINJECT_PORT" \
			"postfix_reinject_port_incoming = $REINJECT_IN_PORT"
	} | relay_ini "$PF/chatmail.ini" example.org
	chmod 644 "$PF/chatmail.ini"
}

pf_dovecot() {
	local d=$PF/dovecot
	mkdir -p "$d/run" "$d/state"
	cat >"$d/dovecot.conf" <<EOF
base_dir = $d/run
state_dir = $d/state
log_path = $d/log
protocols = none
ssl = no
auth_mechanisms = plain login
auth_username_format = %Lu
default_vsz_limit = 0
import_environment = TZ CHATMAIL_INI CHATMAIL_LOG ASAN_OPTIONS UBSAN_OPTIONS
passdb {
  driver = checkpassword
  args = $BIN/doveauth
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$PF/mail/%u
}
service auth {
  user = nobody
  unix_listener $PF/postfix/spool/private/auth {
    mode = 0660
    user = postfix
    group = postfix
  }
}
service auth-worker {
  user = nobody
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
EOF
	CHATMAIL_INI=$PF/chatmail.ini CHATMAIL_LOG=$PF/doveauth.log dovecot -c "$d/dovecot.conf"
}

# Port 25 here tests encryption and addresses, not DKIM (filtermail.bats and the federation
# test bed do): filtermail gets FILTERMAIL_SKIP_DKIM=1.
pf_main_cf() {
	cat >"$PF/etc/postfix/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF/postfix/spool
data_directory = $PF/postfix/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $PF/postfix.log
maillog_file_prefixes = /var, /dev/stdout, $PF
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C FILTERMAIL_SKIP_DKIM=1 CHATMAIL_INI=$PF/chatmail.ini CHATMAIL_LOG=$PF/filtermail.log ASAN_OPTIONS=log_path=$PF/sanitizer UBSAN_OPTIONS=log_path=$PF/sanitizer:print_stacktrace=1
export_environment = TZ MAIL_CONFIG LANG FILTERMAIL_SKIP_DKIM CHATMAIL_INI CHATMAIL_LOG ASAN_OPTIONS UBSAN_OPTIONS
myhostname = relay.example.org
myorigin = example.org
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
alias_maps =
alias_database =
local_recipient_maps =
message_size_limit = 10485760
# Every queued message goes to the sink, which records it.
relay_domains = example.org
relayhost = [127.0.0.1]:$SINK_PORT
transport_maps =
smtp_tls_security_level = none
smtpd_tls_cert_file = $PF/tls/cert.pem
smtpd_tls_key_file = $PF/tls/key.pem
smtpd_tls_security_level = may
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination
mua_client_restrictions = permit_sasl_authenticated, reject
mua_sender_restrictions = reject_sender_login_mismatch, permit_sasl_authenticated, reject
mua_helo_restrictions = permit_mynetworks, permit
smtpd_sender_login_maps = regexp:$PF/etc/postfix/login_map
# No OpenDKIM here: its milter on the reinject ports is skipped.
milter_default_action = accept
EOF
}

postfix_start() {
	PF=$BATS_FILE_TMPDIR
	open_path_to "$PF"
	local ports=() port
	while [ ${#ports[@]} -lt 10 ]; do
		port=$(listen_port)
		[[ " ${ports[*]} " == *" $port "* ]] || ports+=("$port")
	done
	SUBMISSION_PORT=${ports[0]} SMTP_PORT=${ports[1]} SMTPS_PORT=${ports[2]}
	FILTER_PORT=${ports[3]} FILTER_IN_PORT=${ports[4]}
	REINJECT_PORT=${ports[5]} REINJECT_IN_PORT=${ports[6]} SINK_PORT=${ports[7]}
	MXDELIV_FALLBACK_PORT=${ports[8]}
	SMTPS_PROXY_PORT=${ports[9]} # port 443's SMTPS (README "Port 443"), unused here
	mkdir -p "$PF"/{etc,mail,state,sink,tls,vmail} "$PF"/postfix/{spool/private,data}
	chown postfix:postfix "$PF/postfix/data" "$PF/postfix/spool/private"
	chmod 700 "$PF/postfix/spool/private"
	chown 65534:65534 "$PF/mail" "$PF/state" "$PF/vmail"
	touch "$PF/filtermail.log" "$PF/doveauth.log"
	chown 65534:65534 "$PF/filtermail.log" "$PF/doveauth.log"
	pf_ini
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=relay.example.org" \
		-keyout "$PF/tls/key.pem" -out "$PF/tls/cert.pem" 2>/dev/null

	"$TOOLS/smtpsink" -d "$PF/sink" "$SINK_PORT" 3>&- &
	echo $! >"$PF/sink.pid"
	pf_dovecot

	# The relay's own master.cf and the maps it names, rendered as the relay renders them.
	mkdir -p "$PF/etc/postfix"
	local file
	for file in master.cf login_map submission_header_cleanup; do
		CHATMAIL_INI=$PF/chatmail.ini "$BIN/chatmail-render" \
			-D "smtp_port=$SMTP_PORT" -D "submission_port=$SUBMISSION_PORT" \
			-D "smtps_port=$SMTPS_PORT" -D "smtps_proxy_port=$SMTPS_PROXY_PORT" -D "sasl_socket=$PF/postfix/spool/private/auth" \
			-D "vmail_user_name=nobody" -D "bin_dir=$BIN" -D "conf_dir=$PF/etc" \
			-D "opendkim_socket=$PF/postfix/spool/opendkim.sock" \
			-D "mxdeliv_fallback_port=$MXDELIV_FALLBACK_PORT" \
			"$ROOT/conf/postfix/$file" "$PF/etc/postfix/$file"
	done
	pf_main_cf
	# what filtermail must read exactly as Postfix does, from the same definitions
	printf 'recipient_delimiter = {recipient_delimiter}\nheader_size_limit = {header_size_limit}\n' \
		>"$PF/shared.cf.in"
	CHATMAIL_INI=$PF/chatmail.ini "$BIN/chatmail-render" "$PF/shared.cf.in" "$PF/shared.cf"
	cat "$PF/shared.cf" >>"$PF/etc/postfix/main.cf"
	postfix -c "$PF/etc/postfix" start 2>"$PF/postfix-start.log"
	for port in $SINK_PORT $SUBMISSION_PORT $SMTP_PORT $FILTER_PORT $REINJECT_PORT; do
		wait_port "$port" 20
	done
	export PF SUBMISSION_PORT SMTP_PORT SINK_PORT
}

postfix_stop() {
	[ -n "${PF:-}" ] || return 0
	postfix -c "$PF/etc/postfix" stop >/dev/null 2>&1 || true
	doveadm -c "$PF/dovecot/dovecot.conf" stop 2>/dev/null || true
	[ -s "$PF/sink.pid" ] && kill "$(cat "$PF/sink.pid")" 2>/dev/null || true
}

# pf_account ADDR [open]: an account as doveauth makes it on a first login (row, maildir,
# enforceE2EEincoming), owned by the mail user; "open" then removes the file.
pf_account() {
	printf '%s\0%s\0\0' "$1" 'password 123' |
		CHATMAIL_INI="$PF/chatmail.ini" CHATMAIL_LOG="$PF/doveauth-test.log" \
			"$BIN/doveauth" /bin/true 3<&0
	[ "${2:-}" != open ] || rm "$PF/mail/$1/enforceE2EEincoming"
	chown -R 65534:65534 "$PF/vmail" "$PF/mail"
}

# corpus_message NAME FROM TO: a message of tests/data/eml with its From: and To: replaced.
corpus_message() {
	sed -e '/^X-Test-Purpose:/d' -e "s/^From: <.*/From: <$2>\r/" -e "s/^To: .*/To: <$3>\r/" \
		"$ROOT/tests/data/eml/$1" | tr -d '\r'
}

# submit USER PASSWORD FROM TO FILE: through submission with STARTTLS and SASL PLAIN, as
# Delta Chat does; curl -v output goes to stdout. curl stuffs dots only after CRLF: the file
# goes with CRLF line ends.
submit() {
	crlf "$5" >"$5.crlf"
	curl -sS -v --insecure --ssl-reqd --max-time 30 --url "smtp://127.0.0.1:$SUBMISSION_PORT" \
		--user "$1:$2" --mail-from "$3" --mail-rcpt "$4" --upload-file "$5.crlf" 2>&1
}

# deliver FROM TO FILE: as another server delivers on port 25.
deliver() {
	crlf "$3" >"$3.crlf"
	curl -sS -v --max-time 30 --url "smtp://127.0.0.1:$SMTP_PORT" \
		--mail-from "$1" --mail-rcpt "$2" --upload-file "$3.crlf" 2>&1
}

# wait_sink N: waits up to 20 s until the sink holds N messages.
wait_sink() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(find "$PF/sink" -name '*.eml' | wc -l)" -ge "$1" ] && return 0
		sleep 0.1
	done
	echo "the sink holds $(find "$PF/sink" -name '*.eml' | wc -l) messages, not $1" >&2
	return 1
}

# The sink's message that holds TEXT.
sink_with() {
	grep -l -F -- "$1" "$PF/sink"/*.eml 2>/dev/null
}
