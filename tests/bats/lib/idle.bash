# An IMAP client in IDLE on INBOX of a relay started by relay.bash, as Delta Chat waits for
# mail, and deliveries timed against it: each line the server sends is logged with the time it
# arrived (microseconds), so a test or benchmark sees when a delivery woke the client.
# shellcheck shell=bash

now_us() { echo "${EPOCHREALTIME/./}"; }

# idle_start USER PASSWORD: logs in over IMAPS, selects INBOX and enters IDLE; the server's lines
# go to $IDLE_LOG as "MICROSECONDS LINE".
idle_start() {
	IDLE_DIR=$(mktemp -d "$RUN_DIR/idle.XXXXXX")
	IDLE_LOG=$IDLE_DIR/log
	mkfifo "$IDLE_DIR/in"
	: >"$IDLE_LOG"
	openssl s_client -quiet -connect "127.0.0.1:$IMAPS_PORT" <"$IDLE_DIR/in" 2>/dev/null |
		while IFS= read -r line; do echo "$(now_us) ${line%$'\r'}"; done >"$IDLE_LOG" &
	IDLE_PID=$!
	exec {IDLE_FD}>"$IDLE_DIR/in"
	# SASL PLAIN (common.bash): a password is sent as it is, whatever characters it holds
	printf 'a AUTHENTICATE PLAIN %s\r\nb SELECT INBOX\r\nc IDLE\r\n' \
		"$(plain_auth "$1" "$2")" >&"$IDLE_FD"
	idle_wait_line '^[0-9]* + idling' || { cat "$IDLE_LOG" >&2; return 1; }
}

# idle_send LINE...: more commands (after DONE ends the IDLE).
idle_send() {
	printf '%s\r\n' "$@" >&"$IDLE_FD"
}

# idle_wait_line REGEX [SECONDS]: waits (default 10 s) until a logged line matches.
idle_wait_line() {
	local i
	for ((i = 0; i < ${2:-10} * 100; i++)); do
		grep -q -- "$1" "$IDLE_LOG" && return 0
		sleep 0.01
	done
	echo "no line like '$1' from the IMAP server in ${2:-10} s" >&2
	return 1
}

# idle_exists_at N: the time the client heard "* N EXISTS".
idle_exists_at() {
	sed -n "s/^\([0-9]*\) \* $1 EXISTS\$/\1/p" "$IDLE_LOG" | head -1
}

# idle_exists_counts: every EXISTS count the client heard, in order.
idle_exists_counts() {
	sed -n 's/^[0-9]* \* \([0-9]*\) EXISTS$/\1/p' "$IDLE_LOG"
}

idle_stop() {
	[ -n "${IDLE_FD:-}" ] || return 0
	printf 'DONE\r\nz LOGOUT\r\n' >&"$IDLE_FD" || true
	exec {IDLE_FD}>&-
	wait "$IDLE_PID" 2>/dev/null || true
	IDLE_FD=
}

# message_with_id FROM TO ID: the encrypted test message with its own Message-ID.
message_with_id() {
	encrypted_message "$1" "$2" | sed "s/^Message-ID: .*/Message-ID: <$3@test>/"
}

# idle_latencies FROM PASSWORD TO N: N deliveries one after another, each awaited at the IDLE
# client (started for TO) before the next; prints for each the milliseconds from the start of
# its SMTP submission to the client's EXISTS. Each waits a second after the last EXISTS: the
# server's own sync of the last message (it moves the file from new/ to cur/) arms Dovecot's
# notify delay again, and a delivery within it would be told early.
idle_latencies() {
	local from=$1 password=$2 to=$3 n=$4 i start count
	count=$(idle_exists_counts | tail -1)
	for ((i = 1; i <= n; i++)); do
		message_with_id "$from" "$to" "latency$i.$RANDOM" >"$IDLE_DIR/m.eml"
		sleep 1
		start=$(now_us)
		send_smtps "$from" "$password" "$from" "$to" "$IDLE_DIR/m.eml" || return 1
		count=$((count + 1))
		idle_wait_line "^[0-9]* \* $count EXISTS\$" || return 1
		echo $((($(idle_exists_at "$count") - start) / 1000))
	done
}
