#!/bin/sh
# filtermail's cost in CPU instructions per message, counted by callgrind for one whole
# spawn(8)-style session (start-up, SMTP, the policy, the hand-over to a sink, exit): exact and
# repeatable whatever else the machine does, so a parser change can be compared to the figure
# of the build before it. FILTERMAIL_BEFORE=path/to/older/filtermail prints both.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
bin=${CHATMAIL_BIN:-build}
command -v valgrind >/dev/null || { echo "valgrind is not installed: skipped"; exit 0; }
dir=$(mktemp -d)
sink_pid=
cleanup() {
	[ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

port=$((30000 + $$ % 20000))
while ss -Hltn "sport = :$port" | grep -q .; do port=$((port + 1)); done
. "$(dirname "$0")/lib/ini.sh"
bench_ini "$dir" "postfix_reinject_port = $port" "max_user_send_per_minute = 1000000" \
	"max_user_send_burst_size = 1000000"
"$bin/tools/smtpsink" "$port" &
sink_pid=$!
i=0
while ! ss -Hltn "sport = :$port" | grep -q . && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

message() { # NAME: the corpus message NAME from sender001 to rcpt00001
	sed -e '/^X-Test-Purpose:/d' -e 's/^From: .*/From: <sender001@example.org>\r/' \
		-e 's/^To: .*/To: <rcpt00001@example.org>\r/' tests/data/eml/"$1"
}
session() { # FILE
	printf '> EHLO bench\n<\n> MAIL FROM:<sender001@example.org>\n<\n'
	printf '> RCPT TO:<rcpt00001@example.org>\n<\n> DATA\n<\n@ %s\n<\n> QUIT\n<\n' "$1"
}
data() { # EML: the message as DATA (dot-stuffed, CRLF, final dot)
	tr -d '\r' <"$1" | sed -e 's/^\./../' -e 's/$/\r/'
	printf '.\r\n'
}
message encrypted.eml >"$dir/encrypted.eml"
message plain.eml >"$dir/plain.eml"
# 1 MB: the encrypted message with a 1 MB preamble in its multipart (read, never shown)
{ sed '/^\r\?$/q' "$dir/encrypted.eml"; head -c 1000000 /dev/zero | tr '\0' 'p' | fold -w 76;
  echo; sed '1,/^\r\?$/d' "$dir/encrypted.eml"; } >"$dir/large.eml"
for m in encrypted plain large; do data "$dir/$m.eml" >"$dir/$m.data"; done

count() { # FILTERMAIL DATA: instructions of one session
	rm -f "$dir"/cg.*
	session "$2" | "$bin/tools/smtpchat" -t 60 -- valgrind --tool=callgrind \
		--log-file="$dir/vg.log" --callgrind-out-file="$dir/cg.%p" "$1" outgoing \
		>"$dir/replies" 2>&1
	grep -q "^250 2.0.0\|^523 " "$dir/replies" || { echo "no answer"; return; }
	sed -n 's/^summary: //p' "$dir"/cg.* | head -1
}
# one session first, so the send-rate database exists before anything is counted
session "$dir/plain.data" | "$bin/tools/smtpchat" -- "$bin/filtermail" outgoing >/dev/null 2>&1
for m in encrypted plain large; do
	printf '  %-10s %8s bytes: %12s instructions' "$m" "$(wc -c <"$dir/$m.data")" \
		"$(count "$bin/filtermail" "$dir/$m.data")"
	[ -n "${FILTERMAIL_BEFORE:-}" ] &&
		printf ', before: %12s' "$(count "$FILTERMAIL_BEFORE" "$dir/$m.data")"
	echo
done
