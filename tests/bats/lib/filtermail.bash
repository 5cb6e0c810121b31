# filtermail under test: a recording sink as the reinject port, a spawn(8)-like driver, and
# small messages written for the tests. Call relay_dir first.
# shellcheck shell=bash

TOOLS="$BIN/tools"

# A free port below the kernel's ephemeral range (ip_local_port_range), so that no outgoing
# connection takes it between this check and the listener's bind.
listen_port() {
	local low port
	read -r low _ </proc/sys/net/ipv4/ip_local_port_range
	while :; do
		port=$((20000 + RANDOM % (low - 20000)))
		ss -Hltn "sport = :$port" | grep -q . || break
	done
	echo "$port"
}

# sink_start [smtpsink options]: a sink on a free port that records into $T/sink, wired as
# both reinject ports. Sets SINK_PORT and SINK_PID. Should another listener take the port
# first, another is tried.
sink_start() {
	local try i
	mkdir -p "$T/sink"
	for try in 1 2 3 4 5; do
		SINK_PORT=$(listen_port)
		"$TOOLS/smtpsink" -d "$T/sink" "$@" "$SINK_PORT" 3>&- &
		SINK_PID=$!
		for ((i = 0; i < 200; i++)); do
			ss -Hltn "sport = :$SINK_PORT" | grep -q . && break 2
			kill -0 "$SINK_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill "$SINK_PID" 2>/dev/null || true
		SINK_PID=
	done
	[ -n "$SINK_PID" ] || return 1
	{
		echo "postfix_reinject_port = $SINK_PORT"
		echo "postfix_reinject_port_incoming = $SINK_PORT"
	} >>"$CHATMAIL_INI"
}

sink_stop() {
	[ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null || true
}

# account ADDR [open]: an account as doveauth makes it on a first login (row, maildir home,
# enforceE2EEincoming); "open" then removes the file, as a user who opted out.
account() {
	printf '%s\0%s\0\0' "$1" 'password 123' | "$BIN/doveauth" /bin/true 3<&0
	[ "${2:-}" != open ] || rm "$T/mail/$1/enforceE2EEincoming"
}

# chat DIRECTION [smtpchat options]: runs the script on stdin against filtermail spawned as
# Postfix's spawn(8) does (the socket on stdin, stdout and stderr).
chat() {
	local direction=$1
	shift
	"$TOOLS/smtpchat" "$@" -- "$BIN/filtermail" "$direction"
}

# The messages the sink accepted, and what they hold.
sink_messages() {
	find "$T/sink" -name '*.eml' | wc -l
}

sink_message() {
	cat "$T/sink"/*.eml
}

sink_session() {
	cat "$T/sink"/*.session 2>/dev/null
}

# Random bytes as OpenPGP framing (RFC 4880 new format): one PKESK of 32 octets and one SEIPD
# of $1 octets with a five-octet length. Only the framing is checked, not the cryptography.
pgp_packets() {
	local size=$1
	printf '\xc1\x20'
	head -c 32 /dev/urandom
	printf '\xd2\xff'
	printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((size >> 24 & 255)) $((size >> 16 & 255)) \
		$((size >> 8 & 255)) $((size & 255)))"
	head -c "$size" /dev/urandom
}

# encrypted_message FROM TO [SEIPD_OCTETS]: an RFC 3156 PGP/MIME message, LF line ends.
encrypted_message() {
	local from=$1 to=$2 size=${3:-300}
	cat <<EOF
From: <$from>
To: <$to>
Subject: [...]
MIME-Version: 1.0
Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";
 boundary="frontier"

--frontier
Content-Type: application/pgp-encrypted

Version: 1

--frontier
Content-Type: application/octet-stream; name="encrypted.asc"

-----BEGIN PGP MESSAGE-----

$(pgp_packets "$size" | base64 -w 64)
-----END PGP MESSAGE-----

--frontier--
EOF
}

# plain_message FROM TO: a cleartext message, LF line ends, with a line that starts with a dot.
plain_message() {
	cat <<EOF
From: <$1>
To: <$2>
Subject: hello

cleartext
.a line that starts with a dot
EOF
}

# as_data FILE: the file as SMTP DATA: CRLF line ends, dots stuffed, the final dot line.
as_data() {
	sed -e 's/^\./../' -e 's/$/\r/' "$1"
	printf '.\r\n'
}

# crlf FILE: the file with CRLF line ends, as the sink must have received it.
crlf() {
	sed -e 's/$/\r/' "$1"
}

# Sanitizer reports of every program a test runs go to files under $T, so that a report from
# a process whose output nobody reads still fails the test (in teardown).
sanitizer_to_files() {
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$T/sanitizer"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$T/sanitizer:print_stacktrace=1"
}

no_sanitizer_reports() {
	local report
	for report in "$T"/sanitizer*; do
		[ -e "$report" ] || continue
		cat "$report" >&2
		return 1
	done
}
