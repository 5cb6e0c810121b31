#!/bin/sh
# filtermail's cost per message as Postfix pays it: each message on its own TCP connection to
# bench/spawner, which forks and execs filtermail on the socket as spawn(8) does (filtermail
# hands the message on to a sink). Beside it, alternating, the floor (a static responder that
# answers SMTP and looks at nothing, behind the same spawner) and the ceiling (the sink alone,
# one long-running process). For each: messages per second, latency p50/p99, CPU per message
# (the spawned children's rusage, or the sink's own CPU; the spawner's fork apart) and the peak
# RSS of a child. Medians of ROUNDS (3) alternating rounds. FILTERMAIL_BEFORE=path/to/another
# filtermail adds its row ("before"), run in the same rounds.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
bin=${CHATMAIL_BIN:-build}
rounds=${ROUNDS:-3}
dir=$(mktemp -d)
sink_pid=
cleanup() {
	[ -n "$sink_pid" ] && kill "$sink_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

free_port() {
	local port=$((30000 + RANDOM % 20000))
	while ss -Hltn "sport = :$port" | grep -q .; do port=$((port + 1)); done
	echo "$port"
}
listening() { # PORT: waits until something listens there
	local i=0
	while ! ss -Hltn "sport = :$1" | grep -q . && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
}
sink_port=$(free_port)
# another program may take a free port first: try another
for _ in 1 2 3 4 5; do
	"$bin/tools/smtpsink" "$sink_port" 2>/dev/null &
	sink_pid=$!
	listening "$sink_port"
	kill -0 "$sink_pid" 2>/dev/null && break
	sink_port=$(free_port)
done
. "$(dirname "$0")/lib/ini.sh"
# the limiter is consulted for every message but never refuses one here
bench_ini "$dir" "postfix_reinject_port = $sink_port" "max_user_send_per_minute = 1000000" \
	"max_user_send_burst_size = 1000000"

# An RFC 3156 message whose SEIPD packet has $1 octets (only the framing is checked).
encrypted() {
	size=$1
	cat <<EOF2
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

EOF2
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
cleartext() { # 10 KB of text to another relay: refused (523) by filtermail outgoing
	printf 'From: <sender001@example.org>\nTo: <rcpt00001@example.org>\nSubject: hi\n\n'
	head -c 7500 /dev/urandom | base64 -w 76
}
encrypted 7300 >"$dir/10k.eml"
encrypted 760000 >"$dir/1m.eml"
cleartext >"$dir/plain.eml"

cpu_ns() { # PID: the nanoseconds a process ran on a CPU
	awk '{ print $1 }' "/proc/$1/schedstat"
}
# through NAME CONNS COUNT FILE EXPECTED COMMAND...: one run behind a fresh spawner
through() {
	local name=$1 conns=$2 count=$3 file=$4 expected=$5 port out stats
	shift 5
	rm -f "$dir/spawner.out"
	"$bin/bench/spawner" "$@" >"$dir/spawner.out" &
	local spawner=$! i=0
	while ! [ "$(cat "$dir/spawner.out" 2>/dev/null | wc -l)" = 1 ] && [ $i -lt 100 ]; do
		sleep 0.02
		i=$((i + 1))
	done
	port=$(head -1 "$dir/spawner.out")
	out=$("$bin/bench/smtpload" -c "$conns" -n "$count" -f sender001@example.org \
		-r rcpt00001@example.org -e "$expected" -p "$port" "$file") || true
	kill -TERM "$spawner"
	wait "$spawner" || true
	stats=$(sed -n 2p "$dir/spawner.out")
	echo "$name $(echo "$out" | awk '{ print $1, $4, $7, $10 }') \
$(echo "$stats" | awk '{ print $4, $7, $11 }')"
}
# sink CONNS COUNT FILE: the same load straight to the sink
sink() {
	local before after out
	before=$(cpu_ns "$sink_pid")
	out=$("$bin/bench/smtpload" -c "$1" -n "$2" -f sender001@example.org \
		-r rcpt00001@example.org -p "$sink_port" "$3") || true
	after=$(cpu_ns "$sink_pid")
	echo "sink $(echo "$out" | awk '{ print $1, $4, $7, $10 }') \
$(awk -v t=$((after - before)) -v n="$2" 'BEGIN { printf "%.2f", t / 1e6 / n }') - -"
}

# workload LABEL CONNS COUNT FILE EXPECTED: alternating rounds, then the medians
workload() {
	local label=$1 conns=$2 count=$3 file=$4 expected=$5
	: >"$dir/runs"
	for _ in $(seq "$rounds"); do
		sink "$conns" "$count" "$file" >>"$dir/runs"
		through floor "$conns" "$count" "$file" 250 "$bin/bench/responder" >>"$dir/runs"
		through filtermail "$conns" "$count" "$file" "$expected" "$bin/filtermail" outgoing \
			>>"$dir/runs"
		[ -z "${FILTERMAIL_BEFORE:-}" ] || through before "$conns" "$count" "$file" \
			"$expected" "$FILTERMAIL_BEFORE" outgoing >>"$dir/runs"
	done
	echo "$label:"
	for name in sink floor filtermail ${FILTERMAIL_BEFORE:+before}; do
		local m=()
		for col in 2 3 4 5 6 7 8; do
			m[col]=$(awk -v c="$col" -v n="$name" '$1 == n { print $c }' "$dir/runs" |
				sort -g | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }')
		done
		printf '  %-10s %7.1f msg/s  p50 %6.2f ms  p99 %6.2f ms  CPU %5s ms/msg' \
			"$name" "${m[2]}" "${m[3]}" "${m[4]}" "${m[6]}"
		[ "$name" = sink ] || printf ' (+ spawner %s)  peak RSS %s KiB' "${m[7]}" "${m[8]}"
		[ "${m[5]}" = 0 ] || printf '  FAILED %s' "${m[5]}"
		echo
	done
}

workload "10 KB encrypted, 1 client" 1 500 "$dir/10k.eml" 250
workload "10 KB encrypted, 20 clients" 20 1000 "$dir/10k.eml" 250
workload "1 MB encrypted, 1 client" 1 50 "$dir/1m.eml" 250
workload "10 KB cleartext refused, 1 client" 1 500 "$dir/plain.eml" 523
echo "send rate limiter (the table under state_dir, 1000 senders):"
"$bin/bench/ratelimit-cost" "$dir/state" 2000
