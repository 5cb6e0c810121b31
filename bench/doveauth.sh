#!/bin/sh
# Logins per second through doveauth, for creations and for existing accounts, beside the
# time of one bare crypt call (each login hashes once: that is this design's limit).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
bin=${CHATMAIL_BIN:-build}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib/ini.sh"
bench_ini "$dir" "$(relay_ini_test_relay)"
"$bin/bench/crypt-time" 300
echo "creations (each a new address):"
"$bin/bench/login-load" "$bin/doveauth" 1000 1 acct "bench-password"
"$bin/bench/login-load" "$bin/doveauth" 1000 2 acc2 "bench-password"
echo "logins of existing accounts:"
"$bin/bench/login-load" "$bin/doveauth" 1000 1 acct "bench-password"
"$bin/bench/login-load" "$bin/doveauth" 1000 2 acct "bench-password"
echo "peak RSS of one doveauth login:"
printf 'acct00001@example.org\0bench-password\0\0' >"$dir/request"
/usr/bin/time -f "  %M KiB" "$bin/doveauth" /bin/true 3<"$dir/request"
