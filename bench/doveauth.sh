#!/bin/sh
# What a login and a delivery's userdb lookup cost. doveauth run as Dovecot runs it, beside one
# bare crypt call (each login hashes once: that is this design's limit); then a real Dovecot
# with the relay's accounts section, its auth cache on and off: logins of known addresses
# (the sql passdb, Dovecot checking the hash; doveauth only creates) and userdb lookups (the
# database through an auth worker, then the auth cache). Figures: README, "Accounts".
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
bin=${CHATMAIL_BIN:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d)
holder=
cleanup() {
	[ -z "$holder" ] || kill "$holder" 2>/dev/null || true
	[ ! -f "$dir/dovecot.conf" ] || doveadm -c "$dir/dovecot.conf" stop 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT
. "$root/bench/lib/ini.sh"
bench_ini "$dir" "$(relay_ini_test_relay)"
"$bin/bench/crypt-time" 300
echo "creations (each a new address):"
"$bin/bench/login-load" "$bin/doveauth" 1000 1 acct "bench-password"
"$bin/bench/login-load" "$bin/doveauth" 1000 2 acc2 "bench-password"
# Dovecot's userdb keeps the database open, so no doveauth is its last user: hold it open too.
mkfifo "$dir/hold"
sqlite3 "$dir/passdb.sqlite" <"$dir/hold" >/dev/null &
holder=$!
exec 9>"$dir/hold"
printf ".timeout 30000\nSELECT count(*) FROM users;\n" >&9
echo "logins of existing accounts:"
"$bin/bench/login-load" "$bin/doveauth" 1000 1 acct "bench-password"
"$bin/bench/login-load" "$bin/doveauth" 1000 2 acct "bench-password"
echo "userdb lookups through doveauth (a checkpassword userdb, as deliveries paid before):"
"$bin/bench/login-load" "$bin/doveauth" 1000 1 acct --lookup
"$bin/bench/login-load" "$bin/doveauth" 1000 2 acct --lookup
echo "peak RSS of one doveauth login:"
printf 'acct00001@example.org\0bench-password\0\0' >"$dir/request"
/usr/bin/time -f "  %M KiB" "$bin/doveauth" /bin/true 3<"$dir/request"

if [ "$(id -u)" != 0 ] || ! command -v dovecot >/dev/null; then
	echo "through Dovecot: skipped (needs root and Dovecot)"
	exit 0
fi
mkdir -p "$dir/run" "$dir/lib" "$dir/etc/dovecot"
sed -n '/^# --- Accounts/,/^# --- end of accounts/p' "$root/conf/dovecot/dovecot.conf" >"$dir/accounts.in"
for f in "$root/conf/dovecot/dovecot-sql.conf.ext" "$dir/accounts.in"; do
	"$bin/chatmail-render" -D "bin_dir=$bin" -D "conf_dir=$dir/etc" -D vmail_user_name=root \
		"$f" "$dir/etc/dovecot/${f##*/}"
done
cat >"$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/lib
log_path = $dir/dovecot.log
protocols =
ssl = no
disable_plaintext_auth = no
import_environment = TZ CHATMAIL_INI CHATMAIL_LOG
# the benchmark's database belongs to root
service auth {
  user = root
}
CONF
cat "$dir/etc/dovecot/accounts.in" >>"$dir/dovecot.conf"
# run_dovecot EXTRA: (re)starts the benchmark's Dovecot with EXTRA appended to its config.
run_dovecot() {
	doveadm -c "$dir/dovecot.conf" stop 2>/dev/null || true
	sed -i '/^# bench extra$/,$d' "$dir/dovecot.conf"
	printf '# bench extra\n%s\n' "$1" >>"$dir/dovecot.conf"
	dovecot -c "$dir/dovecot.conf"
	sleep 1
}
run_dovecot ""
echo "through Dovecot, one connection, auth cache on (the relay's settings):"
printf '  logins (sql passdb: the hash read from the database, then from the cache):\n'
"$bin/bench/auth-load" login "$dir/run/auth-client" 1000 acct "bench-password"
"$bin/bench/auth-load" login "$dir/run/auth-client" 1000 acct "bench-password"
printf '  userdb lookups (a delivery), then the same addresses again from the cache:\n'
"$bin/bench/auth-load" lookup "$dir/state/dovecot-auth-master" 1000 acct
"$bin/bench/auth-load" lookup "$dir/state/dovecot-auth-master" 1000 acct
run_dovecot "auth_cache_size = 0"
echo "through Dovecot, auth cache off:"
"$bin/bench/auth-load" login "$dir/run/auth-client" 1000 acct "bench-password"
"$bin/bench/auth-load" lookup "$dir/state/dovecot-auth-master" 1000 acct
echo "(bare crypt: the first line above; goal: cached login <= 1.2x, uncached < 2x)"
