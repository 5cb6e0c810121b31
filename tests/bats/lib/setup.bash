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

# setup_start R: starts every daemon of the installation below R by hand, as scripts/relay
# does, with the command lines of the units for OpenDKIM and newemail.
setup_start() {
	SETUP_R=$1 SETUP_UNITS=$1/etc/systemd/system
	SETUP_LOGS=$(sed -n 's/^log_dir=//p' "$1/etc/chatmail/setup.conf")
	relay_daemons_start "$1/etc" "$SETUP_LOGS/nginx-error.log" setup_start_opendkim \
		setup_start_web_apps
}

setup_start_web_apps() {
	setup_start_newemail
	setup_start_mxdeliv
}

setup_start_opendkim() {
	# shellcheck disable=SC2046
	$(exec_start "$SETUP_UNITS/opendkim.service.d/chatmail.conf")
}

setup_start_newemail() {
	local -a environment
	mapfile -t environment < <(sed -n 's/^Environment=//p' "$SETUP_UNITS/chatmail-newemail.service")
	# shellcheck disable=SC2046
	setsid env "${environment[@]}" CHATMAIL_LOG="$SETUP_LOGS/newemail.log" \
		$(exec_start "$SETUP_UNITS/chatmail-newemail.service") </dev/null >/dev/null 2>&1 &
	echo $! >"$SETUP_R/run/chatmail/newemail.pid"
}

# mxdeliv the same way; its runtime directory is systemd's (RuntimeDirectory=) otherwise.
setup_start_mxdeliv() {
	local -a environment
	mkdir -p "$SETUP_R/run/chatmail-mxdeliv"
	mapfile -t environment < <(sed -n 's/^Environment=//p' "$SETUP_UNITS/chatmail-mxdeliv.service")
	# shellcheck disable=SC2046
	setsid env "${environment[@]}" CHATMAIL_LOG="$SETUP_LOGS/mxdeliv.log" \
		$(exec_start "$SETUP_UNITS/chatmail-mxdeliv.service") </dev/null >/dev/null 2>&1 &
	echo $! >"$SETUP_R/run/chatmail-mxdeliv/mxdeliv.pid"
}

setup_stop() {
	local r=$1
	[ -n "$r" ] && [ -d "$r/etc" ] || return 0
	relay_daemons_stop "$r/etc" /dev/null "$r/run/chatmail/newemail.pid" \
		"$r/run/chatmail-mxdeliv/mxdeliv.pid" "$r/run/opendkim/opendkim.pid"
	local i
	for ((i = 0; i < 100; i++)); do
		pgrep -f "$r/" >/dev/null || break
		sleep 0.05
	done
	rm -f "$r/run/chatmail/newemail.pid" "$r/run/chatmail-mxdeliv/mxdeliv.pid"
}
