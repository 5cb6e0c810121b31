# The whole relay for a bats file, started once by scripts/relay with every real daemon:
# Postfix, Dovecot, OpenDKIM, nginx and the FastCGI app, on a free block of loopback ports.
# shellcheck shell=bash

# A block of free ports for the port map (layout/ports): the relay's listeners, filtermail's
# and the reinject ports.
free_port_block() {
	local base port busy
	relay_ports
	while :; do
		base=$((20000 + (RANDOM % (12000 / PORT_COUNT)) * PORT_COUNT)) # below the ephemeral range
		busy=0
		for ((port = base; port < base + PORT_COUNT; port++)); do
			ss -Hltn "sport = :$port" | grep -q . && busy=1
		done
		[ "$busy" = 0 ] && break
	done
	echo "$base"
}

# relay_start [DOMAIN]: starts the relay in a fresh state directory. Sets RUN_DIR, PORT_BASE,
# DOMAIN and the port variables (IMAPS_PORT, SMTP_PORT, ...).
relay_start() {
	export DOMAIN=${1:-chat.test}
	RUN_DIR=$(mktemp -d /tmp/chatmail-relay-test.XXXXXX)
	chmod 755 "$RUN_DIR"
	export RUN_DIR PORT_BASE
	PORT_BASE=$(free_port_block)
	# the sanitizer builds reserve more address space than Dovecot allows by default
	AUTH_VSZ_LIMIT=0 "$ROOT/scripts/relay" start
	relay_ports "$PORT_BASE"
	export "${LISTENER_PORTS[@]}"
}

relay_stop() {
	[ -n "${RUN_DIR:-}" ] || return 0
	"$ROOT/scripts/relay" stop || true
	rm -rf "$RUN_DIR"
}

# new_account: prints "address password" of a fresh account made by POST /new, or fails
# saying what the relay answered.
new_account() {
	local answer
	answer=$(curl -sS --insecure --max-time 20 -w '\n%{http_code}' -X POST \
		"https://127.0.0.1:$HTTPS_PORT/new")
	if [ "${answer##*$'\n'}" != 200 ]; then
		echo "POST /new answered: $answer" >&2
		return 1
	fi
	jq -r '.email + " " + .password' <<<"${answer%$'\n'*}"
}

# message FROM TO [FILE]: an encrypted message (the corpus' Delta Chat style one) from FROM to TO.
encrypted_message() {
	sed -e '/^X-Test-Purpose:/d' -e "s/^From: .*/From: <$1>/" -e "s/^To: .*/To: <$2>/" \
		"$ROOT/tests/data/eml/encrypted.eml"
}

plain_message() {
	printf 'From: <%s>\r\nTo: <%s>\r\nSubject: hello\r\nMessage-ID: <%s@test>\r\n\r\nhello\r\n' \
		"$1" "$2" "$RANDOM$RANDOM"
}

# send_smtps USER PASSWORD FROM TO FILE: submits FILE over SMTPS (465) with SASL.
send_smtps() {
	curl -sS --insecure --max-time 30 --url "smtps://127.0.0.1:$SMTPS_PORT" --user "$1:$2" \
		--mail-from "$3" --mail-rcpt "$4" --upload-file "$5"
}

# send_submission USER PASSWORD FROM TO FILE: the same over submission (587) with STARTTLS.
send_submission() {
	curl -sS --insecure --ssl-reqd --max-time 30 --url "smtp://127.0.0.1:$SUBMISSION_PORT" \
		--user "$1:$2" --mail-from "$3" --mail-rcpt "$4" --upload-file "$5"
}

# send_port25 FROM TO FILE: as another server would deliver: port 25, no authentication.
send_port25() {
	curl -sS --max-time 30 --url "smtp://127.0.0.1:$SMTP_PORT" --mail-from "$1" \
		--mail-rcpt "$2" --upload-file "$3"
}

# dovecot_children NAME: how many processes called NAME the relay's Dovecot runs (imap: the
# logged-in clients that are not hibernated).
dovecot_children() {
	pgrep -c -x -P "$(cat "$RUN_DIR/run/dovecot/master.pid")" "$1" || true
}

# inbox_count USER PASSWORD: how many messages INBOX holds, over IMAPS.
inbox_count() {
	curl -sS --insecure --max-time 20 --user "$1:$2" "imaps://127.0.0.1:$IMAPS_PORT/INBOX" \
		-X 'EXAMINE INBOX' | sed -n 's/^\* \([0-9]*\) EXISTS.*/\1/p'
}

# wait_inbox USER PASSWORD N: waits up to 10 s until INBOX holds N messages.
wait_inbox() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(inbox_count "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	echo "INBOX of $1 holds $(inbox_count "$1" "$2") messages, not $3" >&2
	return 1
}
