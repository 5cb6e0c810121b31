# shellcheck shell=bash
# Shared by the benchmarks (sourced, bash): bench_ini DIR [LINE...] writes, with the relay's one
# chatmail.ini writer (layout/relay-common.sh), a chatmail.ini for a relay of example.org that
# keeps everything below DIR, each LINE appended ("key = value"), and points the programs at it
# and their logs at DIR/log.
LAYOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../layout" && pwd)
# shellcheck source=layout/relay-common.sh
. "$LAYOUT/relay-common.sh"

bench_ini() {
	bench_dir=$1
	shift
	mkdir -p "$bench_dir/mail" "$bench_dir/state"
	{
		relay_ini_below "$bench_dir" "$(id -u):$(id -g)"
		[ $# = 0 ] || printf '%s\n' "$@"
	} | relay_ini "$bench_dir/chatmail.ini" example.org
	export CHATMAIL_INI="$bench_dir/chatmail.ini" CHATMAIL_LOG="$bench_dir/log"
}
