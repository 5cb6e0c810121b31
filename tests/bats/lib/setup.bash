# An installation by `make install` and `chatmail-setup --root` below a temporary directory, and
# its daemons started by hand from the installed configs, as systemd would start them.
# shellcheck shell=bash

# The non-sanitizer build beside CHATMAIL_BIN (build/asan -> build): what an operator installs.
install_build_dir() {
	local bin
	bin=$(cd "$BIN" && pwd)
	echo "${bin%/asan}"
}

# make_install DESTDIR [PREFIX]: make install of this tree, without rebuilding what is built.
make_install() {
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$ROOT" BUILD="$(install_build_dir)" \
		DESTDIR="$1" PREFIX="${2:-/usr/local}" install
}

# A root directory the daemons (postfix, vmail, www-data) can reach.
new_root() {
	local dir
	dir=$(mktemp -d /tmp/chatmail-setup-test.XXXXXX)
	chmod 755 "$dir"
	echo "$dir"
}

# exec_start UNIT-FILE: the ExecStart= command line of a unit (the last non-empty one).
exec_start() {
	sed -n 's/^ExecStart=\(.\+\)$/\1/p' "$1" | tail -1
}

# setup_start R: starts every daemon of the installation below R by hand.
setup_start() {
	local r=$1 units=$1/etc/systemd/system logs
	logs=$(sed -n 's/^log_dir=//p' "$r/etc/chatmail/setup.conf")
	dovecot -c "$r/etc/dovecot/dovecot.conf"
	# OpenDKIM and newemail with the command lines of their units
	# shellcheck disable=SC2046
	$(exec_start "$units/opendkim.service.d/chatmail.conf")
	postfix -c "$r/etc/postfix" start 2>/dev/null
	local -a environment
	mapfile -t environment < <(sed -n 's/^Environment=//p' "$units/chatmail-newemail.service")
	# shellcheck disable=SC2046
	setsid env "${environment[@]}" CHATMAIL_LOG="$logs/newemail.log" \
		$(exec_start "$units/chatmail-newemail.service") </dev/null >/dev/null 2>&1 &
	echo $! >"$r/run/chatmail/newemail.pid"
	nginx -c "$r/etc/nginx/nginx.conf" -e "$logs/nginx-error.log"
}

setup_stop() {
	local r=$1
	[ -n "$r" ] && [ -d "$r/etc" ] || return 0
	nginx -c "$r/etc/nginx/nginx.conf" -e /dev/null -s quit 2>/dev/null || true
	[ -s "$r/run/chatmail/newemail.pid" ] && kill "$(cat "$r/run/chatmail/newemail.pid")" 2>/dev/null
	postfix -c "$r/etc/postfix" stop >/dev/null 2>&1 || true
	[ -s "$r/run/opendkim/opendkim.pid" ] && kill "$(cat "$r/run/opendkim/opendkim.pid")" 2>/dev/null
	doveadm -c "$r/etc/dovecot/dovecot.conf" stop 2>/dev/null || true
	local i
	for ((i = 0; i < 100; i++)); do
		pgrep -f "$r/" >/dev/null || break
		sleep 0.05
	done
	rm -f "$r/run/chatmail/newemail.pid"
}
