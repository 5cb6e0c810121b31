# What scripts/relay (the local relay) and chatmail-setup (a public relay) share, and the tests
# and benchmarks with them: the port map, the one chatmail.ini writer, settings read through
# chatmail-render, the reachability check, and the daemons started and stopped by hand.
# Sourced by bash; LAYOUT is this folder (layout/ of the tree, share/chatmail/layout/ when
# installed) and BIN the folder of chatmail-render.
# shellcheck shell=bash

# relay_get NAME...: settings, one a line: chatmail.ini's keys with their defaults and the
# values chatmail-render derives (passdb_dir, ip_only ...). Shell never reads the ini itself.
relay_get() {
	"$BIN/chatmail-render" --get "$@"
}

# relay_layout NAME...: the same for the render values of the script's profile too: needs
# LAYOUT_ARGS, the script's "--values FILE -D input=value..." for chatmail-render.
relay_layout() {
	"$BIN/chatmail-render" "${LAYOUT_ARGS[@]}" --get "$@"
}

# relay_render SOURCE DEST: conf/ or www/ (a file or a tree) filled in for the script's profile
# and the installed daemons (relay_software).
relay_render() {
	relay_software
	"$BIN/chatmail-render" "${LAYOUT_ARGS[@]}" "${SOFTWARE_DEFINES[@]}" "$1" "$2"
}

# relay_software: sets SOFTWARE_DEFINES, the -D inputs of the templates that depend on the
# installed daemons (Debian 12 or 13): dovecot_version (2.4: conf/dovecot@2.4 takes the place of
# conf/dovecot); how nginx turns HTTP/2 on, nginx_listen_http2 (" http2" on the listen line, up
# to nginx 1.25.0, Debian 12's 1.22) or nginx_http2 (the directive "http2 on;" from 1.25.1,
# Debian 13's 1.26, which warns about the other).
relay_software() {
	local nginx
	nginx=$(nginx -v 2>&1 | sed -n 's|.*nginx/\([0-9.]*\).*|\1|p')
	SOFTWARE_DEFINES=(-D "dovecot_version=$(relay_dovecot_version)")
	if [ -n "$nginx" ] && [ "$(printf '1.25.1\n%s\n' "$nginx" | sort -V | head -1)" = 1.25.1 ]; then
		SOFTWARE_DEFINES+=(-D "nginx_listen_http2=" -D "nginx_http2=http2 on;")
	else
		SOFTWARE_DEFINES+=(-D "nginx_listen_http2= http2" -D "nginx_http2=")
	fi
}

# relay_dovecot_version: the generation of the installed Dovecot whose templates the relay uses,
# "2.3" (Debian 12) or "2.4" (Debian 13, and any later one); 2.3 when none is installed.
relay_dovecot_version() {
	local version
	version=$(dovecot --version 2>/dev/null) || version=2.3
	case $version in
	1.* | 2.[0-3] | 2.[0-3].*) echo 2.3 ;;
	*) echo 2.4 ;;
	esac
}

# relay_dovecot_templates: the folder of conf/ with the installed Dovecot's templates (tests
# cut the relay's sections from its dovecot.conf).
relay_dovecot_templates() {
	if [ "$(relay_dovecot_version)" = 2.3 ]; then
		echo "$LAYOUT/../conf/dovecot"
	else
		echo "$LAYOUT/../conf/dovecot@$(relay_dovecot_version)"
	fi
}

# relay_ports [BASE]: the port map (layout/ports). Sets each listener's variable (IMAP_PORT,
# IMAPS_PORT ... HTTP_PORT, named in LISTENER_PORTS), PORT_DEFINES (the same as -D name=port
# for chatmail-render), INI_PORTS (the names chatmail.ini sets), INI_PORT_LINES (their
# "key = port" lines for a block) and PORT_COUNT (the size of a block: the highest offset + 1).
# With BASE, the port of offset N is BASE + N.
relay_ports() {
	local name standard offset port
	PORT_DEFINES=() INI_PORTS=() INI_PORT_LINES=() LISTENER_PORTS=() PORT_COUNT=0
	while read -r name standard offset; do
		case $name in '' | '#'*) continue ;; esac
		# a block spans up to the highest offset, gaps included
		[ "$offset" -lt "$PORT_COUNT" ] || PORT_COUNT=$((offset + 1))
		port=$standard
		[ -z "${1:-}" ] || port=$(($1 + offset))
		if [ "$standard" = - ]; then
			INI_PORTS+=("$name")
			[ -z "${1:-}" ] || INI_PORT_LINES+=("$name = $port")
		else
			PORT_DEFINES+=(-D "$name=$port")
			LISTENER_PORTS+=("${name^^}")
			printf -v "${name^^}" '%s' "$port"
		fi
	done <"$LAYOUT/ports"
}

# relay_ini FILE DOMAIN [COMMENT...]: the one chatmail.ini writer. FILE gets each COMMENT as a
# "# " line, the [params] section with mail_domain = DOMAIN, then the lines read from stdin
# ("key = value" or "# comment"; a later line of a key wins).
relay_ini() {
	local file=$1 domain=$2
	shift 2
	{
		[ $# = 0 ] || printf '# %s\n' "$@"
		echo "[params]"
		echo "mail_domain = $domain"
		cat
	} >"$file.tmp"
	mv -f "$file.tmp" "$file"
}

# relay_ini_below DIR VMAIL: the lines of a relay whose account database, maildirs, nocreate
# file and state lie below DIR, for the mail user VMAIL (a user name or uid:gid).
relay_ini_below() {
	printf '%s\n' "passdb_path = $1/passdb.sqlite" "mailboxes_dir = $1/mail" \
		"nocreate_file = $1/nocreate" "state_dir = $1/state" "vmail_user = $2"
}

# relay_ini_test_relay: the lines of a relay for tests and development (make run, the test
# suites): it never refuses an account because the machine it runs on is busy or full.
relay_ini_test_relay() {
	printf '%s\n' "# A test relay: the load, memory and disk of a developer's or test machine say" \
		"# nothing about it, so no account is ever refused for them (see max_load_1m, SPEC §1)." \
		"max_load_1m = 100000" "min_available_memory = 0" "min_free_disk_space = 0"
}

# relay_unreachable DIR: the daemons run as their own users (postfix, dovecot, www-data, the
# mail user), neither owner nor group of the directories above DIR, so each of them must be
# searchable by others: the o+x bit. Prints the first one that is not, and fails.
relay_unreachable() {
	local dir=$1
	while [ "$dir" != / ] && [ "$dir" != . ]; do
		if [ -d "$dir" ] && ! (($(stat -c '0%a' "$dir") & 1)); then
			echo "$dir"
			return 1
		fi
		dir=$(dirname "$dir")
	done
}

# relay_pid_alive PIDFILE: whether the process of a pid file runs.
relay_pid_alive() {
	[ -s "$1" ] && kill -0 "$(head -1 "$1" | tr -d ' ')" 2>/dev/null
}

# relay_daemons_start CONF_DIR NGINX_ERROR_LOG START_OPENDKIM START_NEWEMAIL: starts Dovecot,
# OpenDKIM, Postfix, the /new app and nginx from the rendered configs below CONF_DIR, in that
# order (each one's peers are up before it); the caller's commands START_OPENDKIM and
# START_NEWEMAIL start those two as the local relay or a unit file does.
relay_daemons_start() {
	local conf=$1
	dovecot -c "$conf/dovecot/dovecot.conf"
	"$3"
	postfix -c "$conf/postfix" check 2>&1 | grep -v 'not owned by\|group or other writable' >&2 || true
	postfix -c "$conf/postfix" start 2>/dev/null || return 1
	"$4"
	nginx -c "$conf/nginx/nginx.conf" -e "$2"
}

# relay_daemons_stop CONF_DIR NGINX_ERROR_LOG PIDFILE...: stops nginx, Postfix and Dovecot of
# the configs below CONF_DIR and the processes of the pid files (OpenDKIM, the /new app).
relay_daemons_stop() {
	local conf=$1 nginx_log=$2 pidfile
	shift 2
	if [ -f "$conf/nginx/nginx.conf" ]; then
		nginx -c "$conf/nginx/nginx.conf" -e "$nginx_log" -s quit 2>/dev/null || true
	fi
	if [ -f "$conf/postfix/main.cf" ]; then
		postfix -c "$conf/postfix" stop >/dev/null 2>&1 || true
	fi
	for pidfile in "$@"; do
		if relay_pid_alive "$pidfile"; then
			kill "$(head -1 "$pidfile" | tr -d ' ')" 2>/dev/null || true
		fi
	done
	if [ -f "$conf/dovecot/dovecot.conf" ]; then
		doveadm -c "$conf/dovecot/dovecot.conf" stop 2>/dev/null || true
	fi
}

# relay_turn_conf FILE SECRET: completes coturn's rendered config FILE with the TURN secret
# (chatmail-metadata --turn-secret); FILE then holds a secret: readable by root only until the
# caller gives it to coturn's group.
relay_turn_conf() {
	chmod 600 "$1"
	echo "static-auth-secret=$2" >>"$1"
}

# relay_kernel_limits FILE [raise]: the kernel settings of a rendered sysctl drop-in
# (conf/sysctl.d/90-chatmail.conf) against the running kernel. Prints "key live wanted" for each
# one below what FILE wants and fails when there is one; with "raise", sets each of those with
# sysctl -w (until the next boot; a higher value is never lowered), prints "key live -> wanted"
# and fails only when the kernel refused one (a container). SYSCTL: another sysctl (tests).
relay_kernel_limits() {
	local key eq wanted live low=0
	while read -r key eq wanted; do
		case $key in '' | '#'*) continue ;; esac
		[ "$eq" = = ] || continue
		live=$("${SYSCTL:-sysctl}" -n "$key" 2>/dev/null) || live=0
		[ "$live" -ge "$wanted" ] && continue
		if [ "${2:-}" = raise ]; then
			if "${SYSCTL:-sysctl}" -q -w "$key=$wanted" >/dev/null 2>&1; then
				echo "$key $live -> $wanted"
				continue
			fi
		fi
		echo "$key $live $wanted"
		low=1
	done <"$1"
	[ "$low" = 0 ]
}
