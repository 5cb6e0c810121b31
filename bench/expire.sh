#!/bin/sh
# chatmail-expire over ACCOUNTS accounts and ACCOUNTS x MAILS mail files (default 10 000 x
# 100 = 1 000 000; mostly empty files, a large one is sparse): time and peak RSS of a dry
# run, the real run (a third of the mails and 1 % of the accounts are due) and a second run
# with nothing due. Builds everything below a temp dir and removes it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu
bin=${CHATMAIL_BIN:-build}
accounts=${EXPIRE_BENCH_ACCOUNTS:-10000}
mails=${EXPIRE_BENCH_MAILS:-100}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/lib/ini.sh"
bench_ini "$dir"

start=$(date +%s%N)
"$bin/bench/expire-gen" "$dir/mail" "$accounts" "$mails" example.org
# every 100th account last logged in 100 days ago, the rest today
today=$(($(date +%s) / 86400 * 86400))
sqlite3 "$dir/passdb.sqlite" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
CREATE TABLE users (addr TEXT PRIMARY KEY, password TEXT NOT NULL, last_login INTEGER);
PRAGMA user_version = 1;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $accounts)
INSERT INTO users SELECT printf('u%08d@example.org', i), 'x',
	CASE WHEN i % 100 = 0 THEN $today - 100 * 86400 ELSE $today END FROM n;
SQL
echo "built $accounts accounts, $((accounts * mails)) mail files in" \
	"$(awk "BEGIN { printf \"%.1f\", ($(date +%s%N) - $start) / 1e9 }") s;" \
	"disk $(du -sh "$dir/mail" | cut -f1)"

# Cold caches are not ours to make on a shared machine: every figure is with warm ones.
echo "dry run:"
"$bin/chatmail-expire" --dry-run | tail -1
echo "expiry:"
"$bin/chatmail-expire"
echo "again, nothing due:"
"$bin/chatmail-expire"
echo "chatmailctl stats over what is left:"
/usr/bin/time -f "  %e s, peak RSS %M KiB" "$bin/chatmailctl" stats 2>&1 | grep -E 'mails|accounts:|s, peak'
