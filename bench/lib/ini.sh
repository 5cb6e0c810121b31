# Shared by the benchmarks (sourced, POSIX sh): bench_ini DIR [LINE...] writes a chatmail.ini
# for a relay of example.org that keeps everything below DIR, each LINE appended ("key =
# value"), and points the programs at it and their logs at DIR/log.
bench_ini() {
	bench_dir=$1
	shift
	mkdir -p "$bench_dir/mail" "$bench_dir/state"
	{
		echo "[params]"
		echo "mail_domain = example.org"
		echo "passdb_path = $bench_dir/passdb.sqlite"
		echo "mailboxes_dir = $bench_dir/mail"
		echo "nocreate_file = $bench_dir/nocreate"
		echo "state_dir = $bench_dir/state"
		echo "vmail_user = $(id -u):$(id -g)"
		for line in "$@"; do echo "$line"; done
	} >"$bench_dir/chatmail.ini"
	export CHATMAIL_INI="$bench_dir/chatmail.ini" CHATMAIL_LOG="$bench_dir/log"
}
