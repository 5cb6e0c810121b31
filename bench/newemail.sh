#!/bin/sh
# POST /new through nginx over HTTPS (keep-alive, ab): requests per second, p50/p99 latency and
# the app's peak RSS, for the native FastCGI app under spawn-fcgi and for fcgiwrap running it
# as a CGI program. Every request hashes one password and stores one account.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

ROOT=$(pwd)
REQUESTS=${NEWEMAIL_BENCH_REQUESTS:-1000}
CONCURRENCY=${NEWEMAIL_BENCH_CONCURRENCY:-8}
command -v ab >/dev/null || { echo "newemail: ab (apache2-utils) is missing"; exit 1; }

# The test helpers start nginx, spawn-fcgi and fcgiwrap exactly as the bats suites do.
BATS_TEST_DIRNAME=$ROOT/tests/bats
BATS_TEST_TMPDIR=$(mktemp -d)
# shellcheck source=../tests/bats/lib/common.bash
. "$ROOT/tests/bats/lib/common.bash"
# shellcheck source=../tests/bats/lib/newemail.bash
. "$ROOT/tests/bats/lib/newemail.bash"
trap 'newemail_stop; rm -rf "$BATS_TEST_TMPDIR"' EXIT

# peak_rss PIDFILE: the largest peak RSS (VmHWM) of the processes named in PIDFILE, in KiB.
peak_rss() {
	local pid max=0 kib
	for pid in $(cat "$1"); do
		kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		[ "${kib:-0}" -gt "$max" ] && max=$kib
	done
	echo "$max"
}

# load LABEL: ab against the running nginx; prints one line of figures.
load() {
	local out="$T/ab.out" failed
	ab -q -k -n "$REQUESTS" -c "$CONCURRENCY" -p /dev/null \
		-T application/x-www-form-urlencoded "https://127.0.0.1:$HTTPS_PORT/new" \
		>"$out" 2>&1 || { echo "  $1: ab failed: $(tail -1 "$out")"; return; }
	# ab counts answers of another length than the first as failed: JSON-escaped passwords vary.
	failed=$(awk '/^Non-2xx responses:/ { n += $3 }
		/\(Connect:/ { gsub(/[(),]/, " "); n += $2 + $4 + $8 } END { print n + 0 }' "$out")
	printf '  %-34s %7s req/s   p50 %4s ms   p99 %4s ms   failed or non-2xx %s\n' "$1" \
		"$(awk '/^Requests per second:/ { print $4 }' "$out")" \
		"$(awk '$1 == "50%" { print $2 }' "$out")" \
		"$(awk '$1 == "99%" { print $2 }' "$out")" "$failed"
}

echo "POST /new, $REQUESTS requests, $CONCURRENCY at a time, HTTPS keep-alive to nginx on loopback"

for children in 1 2; do
	relay_dir
	NEWEMAIL_CHILDREN=$children newemail_app_start
	newemail_nginx_start fastcgi
	load "native FastCGI, $children process(es)"
	echo "    peak RSS of an app process: $(peak_rss "$T/newemail.pid") KiB;" \
		"accounts stored: $(sqlite3 "$T/passdb.sqlite" 'SELECT count(*) FROM users')"
	newemail_stop
	rm -rf "$T/nginx" "$T/mail" "$T"/passdb.sqlite*
done

for children in 1 2; do
	relay_dir
	NEWEMAIL_CHILDREN=$children newemail_fcgiwrap_start
	newemail_nginx_start fcgiwrap
	load "fcgiwrap CGI, $children fcgiwrap(s)"
	echo "    peak RSS of fcgiwrap: $(peak_rss "$T/fcgiwrap.pid") KiB;" \
		"accounts stored: $(sqlite3 "$T/passdb.sqlite" 'SELECT count(*) FROM users')"
	newemail_stop
	rm -rf "$T/nginx" "$T/mail" "$T"/passdb.sqlite*
done

# Each CGI request is its own process: its peak RSS, measured on one run.
relay_dir
env REQUEST_METHOD=POST /usr/bin/time -f "%M" -o "$T/rss" "$BIN/newemail" </dev/null >/dev/null
echo "  peak RSS of one CGI run of newemail: $(cat "$T/rss") KiB"
