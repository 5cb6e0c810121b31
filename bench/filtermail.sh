#!/bin/sh
# filtermail throughput and latency: encrypted messages of 10 KB and 1 MB, over 1 and 20
# connections at once, each message on its own connection to a filtermail started as Postfix
# spawn(8) starts it (which hands it on to a sink), beside the same load sent straight to the
# sink; peak RSS per filtermail process; the cost of the shared send rate per message.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
bin=${CHATMAIL_BIN:-build}
load=$bin/bench/smtpload
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
# the limiter is consulted for every message but never refuses one here
bench_ini "$dir" "postfix_reinject_port = $port" "max_user_send_per_minute = 1000000" \
	"max_user_send_burst_size = 1000000"

"$bin/tools/smtpsink" "$port" &
sink_pid=$!
i=0
while ! ss -Hltn "sport = :$port" | grep -q . && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done

# An RFC 3156 message whose SEIPD packet has $1 octets (only the framing is checked).
message() {
	size=$1
	cat <<EOF
From: <sender001@example.org>
To: <rcpt00001@example.org>
Subject: [...]
MIME-Version: 1.0
Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="b"

--b
Content-Type: application/pgp-encrypted

Version: 1

--b
Content-Type: application/octet-stream

-----BEGIN PGP MESSAGE-----

EOF
	{
		printf '\301\040'
		head -c 32 /dev/urandom
		printf '\322\377'
		printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((size >> 24 & 255)) $((size >> 16 & 255)) \
			$((size >> 8 & 255)) $((size & 255)))"
		head -c "$size" /dev/urandom
	} | base64 -w 76
	printf -- '-----END PGP MESSAGE-----\n\n--b--\n'
}
message 7300 >"$dir/10k.eml"
message 760000 >"$dir/1m.eml"

run() { # label connections messages file [command...]
	label=$1 conns=$2 count=$3 file=$4
	shift 4
	out=$("$load" -c "$conns" -n "$count" -f sender001@example.org -r rcpt00001@example.org \
		"$file" "$@") || out="$out  (some messages failed: see $CHATMAIL_LOG)"
	printf '  %-22s c=%-2s n=%-5s%s\n' "$label" "$conns" "$count" "$out"
	# "p50 X ms  p99 Y ms" of this run
	p50=$(echo "$out" | sed -n 's/.*p50 *\([0-9.]*\) ms.*/\1/p')
	p99=$(echo "$out" | sed -n 's/.*p99 *\([0-9.]*\) ms.*/\1/p')
}

for size in 10k 1m; do
	bytes=$(wc -c <"$dir/$size.eml")
	echo "encrypted message of $bytes bytes:"
	if [ "$size" = 10k ]; then n1=1000 n20=3000; else n1=100 n20=300; fi
	for conns in 1 20; do
		n=$n1
		[ "$conns" = 20 ] && n=$n20
		run "straight to the sink" "$conns" "$n" "$dir/$size.eml" -p "$port"
		sink50=$p50 sink99=$p99
		run "through filtermail" "$conns" "$n" "$dir/$size.eml" -- "$bin/filtermail" outgoing
		echo "$p50 $sink50 $p99 $sink99" |
			awk '{ printf "  %-33s added p50 %7.2f ms  added p99 %7.2f ms\n", "", $1 - $2, $3 - $4 }'
	done
done
echo "send rate limiter (sqlite under state_dir, 1000 senders):"
"$bin/bench/ratelimit-cost" "$dir/state" 2000
