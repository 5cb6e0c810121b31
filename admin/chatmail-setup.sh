#!/bin/bash
# chatmail-setup: makes this Debian 12 or 13 machine the chatmail relay of a domain from the
# installed templates, prints the DNS zone to publish and checks it, and shows the services.
#
# usage: chatmail-setup [install] --domain D [--no-packages] [--root DIR] [--vmail-user U]
#                       [--log-dir DIR] [--listen ADDR] [--port-base N] [--instant-idle]
#        chatmail-setup dns    [--domain D] [--ipv4 ADDR] [--ipv6 ADDR] [--root DIR]
#        chatmail-setup check  [--domain D] [--ipv4 ADDR] [--ipv6 ADDR] [--resolver HOST[:PORT]]
#                              [--signed-name NAME] [--bogus-name NAME] [--root DIR]
#        chatmail-setup status [--root DIR]
# exit:  0 done (check: every record right, the resolver validates; status: every service up),
#        1 failed (check: records missing or wrong, or no DNSSEC validation; status: a service
#        down), 2 bad usage.
set -euo pipefail
shopt -s inherit_errexit
umask 022
trap 'echo "chatmail-setup: failed at line $LINENO: $BASH_COMMAND" >&2' ERR

# Set by `make` for a build in the source tree; an installed copy finds ../share/chatmail.
SHARE_TREE=

PROG=chatmail-setup
EXIT_FAILED=1
EXIT_USAGE=2
# What a public relay needs from Debian (the programs' own libraries come with the build).
PACKAGES="postfix dovecot-imapd dovecot-lmtpd dovecot-sqlite nginx-light spawn-fcgi opendkim opendkim-tools
postfix-mta-sts-resolver certbot qrencode openssl ca-certificates bind9-dnsutils iproute2
libsqlite3-0 libfcgi0ldbl"
# The relay's DNSSEC-validating resolver, with Debian's root trust anchor (dns-root-data).
PACKAGES="$PACKAGES unbound dns-root-data"
# Port 443 routed by ALPN (nginx's stream module) and the page's QR encoder (README "Port 443").
PACKAGES="$PACKAGES libnginx-mod-stream node-qrcode-generator"
# Debian 13's Dovecot 2.4 runs doveauth through its Lua passdb (conf/dovecot@2.4/doveauth.lua).
[ "$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")" = bookworm ] ||
	PACKAGES="$PACKAGES dovecot-auth-lua lua-posix"
# The TURN server for Delta Chat calls (README "Push notifications, METADATA and TURN").
PACKAGES="$PACKAGES coturn"

say() { echo "$PROG: $*"; }
warn() { echo "$PROG: warning: $*" >&2; }
die() {
	echo "$PROG: $*" >&2
	exit $EXIT_FAILED
}
usage_error() {
	echo "$PROG: $*" >&2
	echo "usage: $PROG [install|dns|check|status] [--domain D] [options] (see chatmail-setup(8))" >&2
	exit $EXIT_USAGE
}

SELF_DIR=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
BIN=$SELF_DIR
if [ -n "${CHATMAIL_SHARE:-}" ]; then
	SHARE=$CHATMAIL_SHARE
elif [ -d "$SELF_DIR/../share/chatmail/conf" ]; then
	SHARE=$(cd "$SELF_DIR/../share/chatmail" && pwd)
else
	SHARE=$SHARE_TREE
fi

# The dns and check commands live in a file of their own: in admin/ of the source tree for a copy
# that make built, in ../share/chatmail for an installed one.
if [ -n "$SHARE_TREE" ]; then
	DNS_PART=$SHARE_TREE/admin/chatmail-setup-dns.sh
else
	DNS_PART=$(cd "$SELF_DIR/.." && pwd)/share/chatmail/chatmail-setup-dns.sh
fi
[ -f "$DNS_PART" ] || die "cannot find $DNS_PART, a part of chatmail-setup: install it again"
# shellcheck source=admin/chatmail-setup-dns.sh
. "$DNS_PART"
# The port map, the render values of a public relay and what scripts/relay shares with us.
LAYOUT=$SHARE/layout
[ -f "$LAYOUT/relay-common.sh" ] || die "cannot find $LAYOUT/relay-common.sh: install it again"
# shellcheck source=layout/relay-common.sh
. "$LAYOUT/relay-common.sh"
# --instant-idle: Debian's dovecot rebuilt with instant IDLE (admin/chatmail-instant-idle.sh).
INSTANT=$SELF_DIR/chatmail-instant-idle
[ -z "$SHARE_TREE" ] || INSTANT=$SHARE_TREE/admin/chatmail-instant-idle.sh

# --- options ---

COMMAND=install DOMAIN='' R='' NO_PACKAGES='' VMAIL_USER='' LOG_DIR='' LISTEN='' PORT_BASE=''
IPV4='' IPV6='' RESOLVER='' SIGNED_NAME='' BOGUS_NAME='' LOG_DIR_SET='' LISTEN_SET='' PORT_BASE_SET=
INSTANT_IDLE=''

parse_args() {
	case "${1:-}" in
	install | dns | check | status)
		COMMAND=$1
		shift
		;;
	esac
	while [ $# -gt 0 ]; do
		case "$1" in
		-h | --help)
			sed -n '4,13s/^# \{0,1\}//p' "$0"
			exit 0
			;;
		--no-packages) NO_PACKAGES=1 ;;
		--instant-idle) INSTANT_IDLE=1 ;;
		--domain | --root | --vmail-user | --log-dir | --listen | --port-base | --ipv4 | --ipv6 | --resolver | --signed-name | --bogus-name)
			[ $# -ge 2 ] || usage_error "$1 needs a value"
			option_value "$1" "$2"
			shift
			;;
		--*=*) option_value "${1%%=*}" "${1#*=}" ;;
		*) usage_error "unknown argument: $1" ;;
		esac
		shift
	done
}

option_value() {
	case "$1" in
	--domain) DOMAIN=$(tr '[:upper:]' '[:lower:]' <<<"$2") ;;
	--root) R=$2 ;;
	--vmail-user) VMAIL_USER=$2 ;;
	--log-dir) LOG_DIR=$2 LOG_DIR_SET=1 ;;
	--listen) LISTEN=$2 LISTEN_SET=1 ;;
	--port-base) PORT_BASE=$2 PORT_BASE_SET=1 ;;
	--ipv4) IPV4=$2 ;;
	--ipv6) IPV6=$2 ;;
	--resolver) RESOLVER=$2 ;;
	--signed-name) SIGNED_NAME=$2 ;;
	--bogus-name) BOGUS_NAME=$2 ;;
	*) usage_error "unknown option: $1" ;;
	esac
}

validate_args() {
	if [ -n "$R" ]; then
		[ -d "$R" ] || usage_error "--root $R is not a directory"
		R=$(cd "$R" && pwd)
		[ "$R" = / ] && R=
	fi
	[ -z "$DOMAIN" ] || [[ "$DOMAIN" =~ ^[a-z0-9_]([a-z0-9._-]*[a-z0-9])?$ ]] ||
		usage_error "--domain $DOMAIN is not a domain name or IPv4 address"
	relay_ports # PORT_COUNT: the block must end below 65536
	[ -z "$PORT_BASE" ] || { [[ "$PORT_BASE" =~ ^[0-9]+$ ]] && [ "$PORT_BASE" -ge 1 ] &&
		[ "$PORT_BASE" -le $((65536 - PORT_COUNT)) ]; } ||
		usage_error "--port-base wants a number from 1 to $((65536 - PORT_COUNT))"
	[ -z "$LOG_DIR" ] || [[ "$LOG_DIR" == /* ]] || usage_error "--log-dir wants an absolute path"
	[ -z "$LISTEN" ] || is_ipv4 "$LISTEN" || usage_error "--listen wants an IPv4 address"
	[ -z "$VMAIL_USER" ] || [[ "$VMAIL_USER" =~ ^[a-z_][a-z0-9_-]*$ ]] ||
		usage_error "--vmail-user wants a user name"
	[ -z "$IPV4" ] || [[ "$IPV4" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
		usage_error "--ipv4 wants an IPv4 address"
	[ -z "$IPV6" ] || [[ "$IPV6" =~ ^[0-9a-fA-F:]+$ ]] || usage_error "--ipv6 wants an IPv6 address"
	[ -z "$INSTANT_IDLE" ] || [ -z "$R" ] ||
		usage_error "--instant-idle rebuilds this machine's dovecot package: not with --root"
	{ [ -n "$SHARE" ] && [ -d "$SHARE/conf" ] && [ -d "$SHARE/www" ]; } ||
		die "cannot find the templates (conf/, www/) next to $0: set CHATMAIL_SHARE"
	return 0
}

# --- where things are: production paths, below --root DIR for tests ---

set_paths() {
	INI=$R/etc/chatmail/chatmail.ini
	SETUP_CONF=$R/etc/chatmail/setup.conf
	SETUP_STATE=$R/var/lib/chatmail-setup
	ETC=$R/etc
	UNIT_DIR=$R/etc/systemd/system
	LETSENCRYPT=$R/etc/letsencrypt
	export CHATMAIL_INI=$INI
}

# The choices of the last run (log dir, listen address, port base): a run without the option
# keeps them, so running again changes nothing.
load_setup_conf() {
	[ -f "$SETUP_CONF" ] || return 0
	[ -n "$LOG_DIR_SET" ] || LOG_DIR=$(sed -n 's/^log_dir=//p' "$SETUP_CONF")
	[ -n "$LISTEN_SET" ] || LISTEN=$(sed -n 's/^listen=//p' "$SETUP_CONF")
	[ -n "$PORT_BASE_SET" ] || PORT_BASE=$(sed -n 's/^port_base=//p' "$SETUP_CONF")
	return 0
}

# Tests stand in for systemctl and certbot (CHATMAIL_SETUP_SYSTEMCTL, CHATMAIL_SETUP_CERTBOT) to
# see what a setup under systemd would run; a stand-in systemctl counts as a running systemd.
SYSTEMCTL=${CHATMAIL_SETUP_SYSTEMCTL:-systemctl}
# and for sysctl (relay_kernel_limits), to show the kernel limits status checks
export SYSCTL=${CHATMAIL_SETUP_SYSCTL:-sysctl}
CERTBOT=${CHATMAIL_SETUP_CERTBOT:-certbot}

systemd_running() {
	[ -n "${CHATMAIL_SETUP_SYSTEMCTL:-}" ] || { [ -z "$R" ] && [ -d /run/systemd/system ]; }
}

is_ipv4() {
	[[ "$1" =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]]
}

load_config() {
	"$BIN/chatmail-render" --check || die "fix $INI and run again"
	local values=()
	mapfile -t values < <(relay_get mail_domain passdb_dir mailboxes_dir state_dir vmail_user \
		tls_external_cert_and_key acme_email mtail_address)
	[ ${#values[@]} = 8 ] || die "cannot read $INI"
	MAIL_DOMAIN=${values[0]} PASSDB_DIR=${values[1]} MAILBOXES_DIR=${values[2]}
	STATE_DIR=${values[3]} VMAIL=${values[4]} TLS_EXTERNAL=${values[5]} ACME_EMAIL=${values[6]}
	MTAIL_ADDRESS=${values[7]}
	IP_ONLY=
	is_ipv4 "$MAIL_DOMAIN" && IP_ONLY=1
	return 0
}

# The inputs of layout/production.values: the options and this machine's name and IPv6.
set_layout() {
	relay_ports "$PORT_BASE"
	local fqdn ipv6=
	fqdn=$(hostname --fqdn 2>/dev/null || echo localhost)
	[ -f /proc/net/if_inet6 ] && ipv6=yes
	LAYOUT_ARGS=(--values "$LAYOUT/production.values" -D "root=$R" -D "bin_dir=$BIN"
		-D "fqdn=$fqdn" -D "ipv6=$ipv6" -D "listen_address=$LISTEN" -D "log_files_dir=$LOG_DIR"
		"${PORT_DEFINES[@]}")
}

# Where the relay keeps what chatmail-setup makes, from the layout. Without a chatmail.ini yet
# (dns before the first setup): those of a relay of DOMAIN with every default.
load_layout() {
	local values=() ini=$INI
	if [ ! -f "$INI" ]; then
		ini=$(mktemp)
		relay_ini "$ini" "$DOMAIN" </dev/null
	fi
	mapfile -t values < <(CHATMAIL_INI=$ini relay_layout www_dir tls_dir tls_cert tls_key \
		dkim_dir dkim_selector dkim_key runtime_dir metrics_textfile_dir)
	[ "$ini" = "$INI" ] || rm -f "$ini"
	[ ${#values[@]} = 9 ] || die "cannot read the layout $LAYOUT/production.values"
	WWW=${values[0]} TLS_DIR=${values[1]} TLS_CERT=${values[2]} TLS_KEY=${values[3]}
	DKIM_DIR=${values[4]} DKIM_SELECTOR=${values[5]} DKIM_KEY=${values[6]} RUNTIME_DIR=${values[7]}
	METRICS_DIR=${values[8]}
}

# --- changes: every file goes through install_file, which writes only what differs ---

CHANGED=()
RELOAD=()
RESTART=()

add_unique() { # add_unique ARRAY_NAME WORD
	local -n list=$1
	local item
	for item in "${list[@]}"; do [ "$item" = "$2" ] && return 0; done
	list+=("$2")
}

# install_file SRC DEST MODE OWNER:GROUP [SERVICE ACTION]: writes DEST when its content, mode or
# owner differ from what it should be, and notes which service must reload or restart.
install_file() {
	local src=$1 dest=$2 mode=$3 owner=$4 service=${5:-} action=${6:-reload}
	if [ -f "$dest" ] && [ ! -L "$dest" ] && cmp -s "$src" "$dest" &&
		[ "$(stat -c '%a %U:%G' "$dest")" = "${mode#0} $owner" ]; then
		return 0
	fi
	mkdir -p "$(dirname "$dest")"
	install -m "$mode" -o "${owner%:*}" -g "${owner#*:}" "$src" "$dest.chatmail-setup.tmp"
	mv -f "$dest.chatmail-setup.tmp" "$dest"
	CHANGED+=("$dest")
	say "wrote $dest"
	[ -z "$service" ] && return 0
	if [ "$action" = restart ]; then add_unique RESTART "$service"; else add_unique RELOAD "$service"; fi
}

# ensure_dir DIR MODE OWNER:GROUP: makes DIR, or corrects its mode and owner.
ensure_dir() {
	local dir=$1 mode=$2 owner=$3
	if [ -d "$dir" ] && [ "$(stat -c '%a %U:%G' "$dir")" = "${mode#0} $owner" ]; then
		return 0
	fi
	if [ -d "$dir" ]; then
		say "set $dir to $mode $owner"
	else
		say "made $dir"
	fi
	install -d -m "$mode" -o "${owner%:*}" -g "${owner#*:}" "$dir"
	CHANGED+=("$dir")
}

# ensure_vmail_dir DIR GROUP: the mail user's directories are its own and closed to others; a
# directory that exists and belongs to someone else (chatmail.ini names /srv, say) is left alone.
ensure_vmail_dir() {
	if [ -d "$1" ] && [ "$(stat -c %U "$1")" != "$VMAIL" ]; then
		warn "$1 belongs to $(stat -c %U "$1"), not $VMAIL: left as it is"
		return 0
	fi
	ensure_dir "$1" 0700 "$VMAIL:$2"
}

# --- the steps of a setup ---

need_root() {
	[ "$(id -u)" = 0 ] || die "run as root: the setup writes system configs and makes users"
}

install_packages() {
	if [ -n "$NO_PACKAGES" ] || [ -n "$R" ]; then
		return 0
	fi
	local p absent=()
	for p in $PACKAGES; do
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
			absent+=("$p")
	done
	[ ${#absent[@]} = 0 ] && return 0
	say "installing ${absent[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Postfix asks what kind of mail server this is: its config is ours.
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${absent[@]}" >/dev/null
	CHANGED+=(packages)
}

check_commands() {
	local c missing=
	for c in postfix dovecot nginx opendkim opendkim-genkey spawn-fcgi openssl qrencode; do
		command -v "$c" >/dev/null || missing="$missing $c"
	done
	[ -z "$missing" ] || die "missing commands:$missing (install the Debian packages, or drop --no-packages)"
	[ -x "$BIN/chatmail-render" ] || die "$BIN/chatmail-render is missing: run make (install) first"
}

# --- metrics (README "Metrics"), when chatmail.ini sets mtail_address ---

# Dovecot's stats listener binds to mtail_address: an address this machine does not have would
# keep Dovecot from starting.
check_metrics() {
	[ -n "$MTAIL_ADDRESS" ] || return 0
	ip -o addr show 2>/dev/null | awk '{ sub("/.*", "", $4); print $4 }' | grep -qxF "$MTAIL_ADDRESS" ||
		die "mtail_address $MTAIL_ADDRESS is not an address of this machine (VPN down?)"
	[ -n "$NO_PACKAGES" ] || [ -n "$R" ] || PACKAGES=mtail install_packages
}

# The textfile collector's directory: the expiry, as the mail user, writes its gauges there.
make_metrics_dir() {
	[ -n "$MTAIL_ADDRESS" ] || return 0
	local group
	group=$(id -gn "$VMAIL")
	if [ ! -d "$METRICS_DIR" ]; then
		ensure_dir "$METRICS_DIR" 1775 "root:$group"
	elif [ "$(stat -c %G "$METRICS_DIR")" != "$group" ] || ! (($(stat -c '0%a' "$METRICS_DIR") & 020)); then
		warn "$VMAIL cannot write $METRICS_DIR: the expiry's gauges need 'chgrp $group' and 'chmod g+w' there"
	fi
}

# Without mtail_address no mtail unit stays: one from an earlier run is disabled and removed.
metrics_file_wanted() { # metrics_file_wanted RELATIVE-PATH
	[ -n "$MTAIL_ADDRESS" ] && return 0
	case "$1" in mtail/* | systemd/chatmail-mtail.service) return 1 ;; esac
}

remove_metrics_unit() {
	[ -z "$MTAIL_ADDRESS" ] && [ -f "$UNIT_DIR/chatmail-mtail.service" ] || return 0
	systemctl_files --quiet disable chatmail-mtail.service 2>/dev/null || true
	! systemd_running || "$SYSTEMCTL" stop chatmail-mtail.service 2>/dev/null || true
	rm -f "$UNIT_DIR/chatmail-mtail.service"
	say "removed chatmail-mtail.service (no mtail_address)"
	CHANGED+=("$UNIT_DIR/chatmail-mtail.service")
	add_unique RESTART daemon-reload
}

make_vmail_user() {
	local user=$VMAIL
	id -u "$user" >/dev/null 2>&1 && return 0
	[[ "$user" =~ ^[a-z_][a-z0-9_-]*$ ]] || die "vmail_user $user in $INI is not a user name I can make"
	useradd --system --user-group --home-dir "$R/home/vmail" --no-create-home \
		--shell /usr/sbin/nologin --comment "chatmail relay mail" "$user"
	say "made the user $user"
	CHANGED+=("user $user")
}

write_ini() {
	if [ -f "$INI" ]; then
		[ -z "$VMAIL_USER" ] || [ "$(relay_get vmail_user)" = "$VMAIL_USER" ] ||
			warn "--vmail-user $VMAIL_USER is not the vmail_user of $INI: the file wins"
		return 0
	fi
	ensure_dir "$R/etc/chatmail" 0755 root:root
	local tmp
	tmp=$(mktemp)
	{
		echo "vmail_user = ${VMAIL_USER:-vmail}"
		if [ -n "$R" ]; then
			echo "# below --root $R"
			echo "passdb_path = $R/home/vmail/passdb.sqlite"
			echo "mailboxes_dir = $R/home/vmail/mail/{mail_domain}"
			echo "nocreate_file = $R/etc/chatmail-nocreate"
			echo "state_dir = $R/var/lib/chatmail"
		fi
		[ ${#INI_PORT_LINES[@]} = 0 ] || printf '%s\n' "${INI_PORT_LINES[@]}"
		cat <<'EOF'
# max_user_send_per_minute = 60
# max_mailbox_size = 500M
# max_message_size = 31457280
# delete_mails_after = 20
# delete_inactive_users_after = 90
# passthrough_senders =
# passthrough_recipients =
# Your own certificate instead of Let's Encrypt's: "CERT KEY", two PEM files.
# tls_external_cert_and_key = /etc/ssl/chat.pem /etc/ssl/private/chat.key
# Let's Encrypt's account address (it writes about expiring certificates).
# acme_email =
# Shown on the privacy page:
# privacy_postal =
# privacy_mail =
# privacy_pdo =
# privacy_supervisor =
EOF
	} | relay_ini "$tmp" "$DOMAIN" \
		"chatmail.ini of the relay $DOMAIN, written once by chatmail-setup; edit it and run" \
		"chatmail-setup again. Every key, its default and meaning: chatmail-setup(8), SPEC §1."
	install_file "$tmp" "$INI" 0644 root:root
	rm -f "$tmp"
}

make_dirs() {
	local group
	group=$(id -gn "$VMAIL")
	ensure_dir "$R/etc/chatmail" 0755 root:root
	ensure_dir "$SETUP_STATE" 0700 root:root
	ensure_vmail_dir "$PASSDB_DIR" "$group"
	[[ "$(dirname "$MAILBOXES_DIR")" != "$PASSDB_DIR"/* ]] || ensure_vmail_dir "$(dirname "$MAILBOXES_DIR")" "$group"
	ensure_vmail_dir "$MAILBOXES_DIR" "$group"
	ensure_vmail_dir "$STATE_DIR" "$group"
	ensure_dir "$DKIM_DIR" 0700 opendkim:opendkim
	ensure_dir "$TLS_DIR" 0755 root:root
	ensure_dir "$R/var/www" 0755 root:root
	ensure_dir "$WWW" 0755 root:root
	ensure_dir "$R/var/spool/postfix" 0755 root:root
	ensure_dir "$R/var/spool/postfix/opendkim" 0750 opendkim:postfix
	ensure_dir "$RUNTIME_DIR" 0755 root:root
	if [ -n "$R" ]; then
		# Made by the Debian packages on a real system.
		ensure_dir "$R/var/spool/postfix/private" 0700 postfix:postfix
		ensure_dir "$R/var/lib/postfix" 0700 postfix:postfix
		ensure_dir "$R/var/lib/dovecot" 0755 root:root
		ensure_dir "$R/var/lib/nginx" 0755 root:root
		ensure_dir "$R/run/opendkim" 0755 opendkim:opendkim
		ensure_dir "$UNIT_DIR" 0755 root:root
	fi
	if [ -n "$LOG_DIR" ]; then
		ensure_dir "$LOG_DIR" 0755 root:root
		local log
		for log in filtermail newemail mxdeliv; do
			[ -f "$LOG_DIR/$log.log" ] || install -m 0640 -o "$VMAIL" -g "$group" /dev/null "$LOG_DIR/$log.log"
		done
	fi
}

# The daemons of a relay below --root under /tmp must reach their files as their own users.
check_reachable() {
	[ -n "$R" ] || return 0
	local unreachable
	unreachable=$(relay_unreachable "$R") ||
		die "$unreachable is not searchable by other users: the daemons could not reach --root"
}

make_dkim_key() {
	[ -s "$DKIM_KEY" ] && return 0
	opendkim-genkey -b 2048 -D "$DKIM_DIR" -d "$MAIL_DOMAIN" -s "$DKIM_SELECTOR"
	chown opendkim:opendkim "$DKIM_KEY" "$DKIM_DIR/$DKIM_SELECTOR.txt"
	chmod 0600 "$DKIM_KEY"
	say "made the DKIM key $DKIM_KEY (publish it: chatmail-setup dns)"
	CHANGED+=("$DKIM_KEY")
	add_unique RESTART opendkim
}

# TLS: the operator's own files (tls_external_cert_and_key), a self-signed certificate for an
# IP-only relay or a domain starting with '_', else Let's Encrypt through certbot, which starts
# from a self-signed stand-in so that nginx runs and can answer the ACME challenge.
choose_tls() {
	if [ -n "$TLS_EXTERNAL" ]; then
		TLS_MODE=external
		[ -n "$TLS_KEY" ] || die "tls_external_cert_and_key wants two paths: CERT KEY"
		{ [ -r "$TLS_CERT" ] && [ -r "$TLS_KEY" ]; } || die "cannot read $TLS_CERT or $TLS_KEY (tls_external_cert_and_key)"
		openssl x509 -noout -in "$TLS_CERT" 2>/dev/null || die "$TLS_CERT is not a PEM certificate"
	elif [ -n "$IP_ONLY" ] || [[ "$MAIL_DOMAIN" == _* ]]; then
		TLS_MODE=self-signed
	else
		TLS_MODE=acme
	fi
}

make_self_signed() {
	[ "$TLS_MODE" = external ] && return 0
	[ -e "$TLS_CERT" ] && [ -e "$TLS_KEY" ] && return 0
	local san="DNS:$MAIL_DOMAIN,DNS:mta-sts.$MAIL_DOMAIN"
	[ -n "$IP_ONLY" ] && san="IP:$MAIL_DOMAIN"
	rm -f "$TLS_CERT" "$TLS_KEY"
	openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=$MAIL_DOMAIN" \
		-addext "subjectAltName=$san" -keyout "$TLS_KEY" -out "$TLS_CERT" 2>/dev/null
	chmod 0600 "$TLS_KEY"
	if [ "$TLS_MODE" = acme ]; then
		say "made a self-signed stand-in $TLS_CERT until Let's Encrypt's certificate comes"
	else
		say "made the self-signed certificate $TLS_CERT"
	fi
	CHANGED+=("$TLS_CERT")
	add_unique RELOAD postfix
	add_unique RELOAD dovecot
	add_unique RELOAD nginx
}

# The service a rendered file belongs to, and whether it reloads or restarts for a change.
service_of() { # service_of TOP-DIR RELATIVE-PATH
	case "$1" in
	postfix | dovecot | nginx) echo "$1 reload" ;;
	dovecot-push) echo "dovecot reload" ;; # the push script both Dovecot templates name
	opendkim | unbound) echo "$1 restart" ;;
	sysctl.d) echo "systemd-sysctl restart" ;; # applies every drop-in, ours too
	systemd)
		case "$2" in
		*.service.d/*) echo "${2%%.service.d/*} restart" ;;
		*@.service) ;; # an instance per connection of its socket: the next one is new
		*.socket) echo "$2 restart" ;;
		*.timer) echo "$2 restart" ;;
		*.service)
			# a oneshot service runs when its timer says: nothing to restart
			grep -q '^Type=oneshot' "$STAGE/etc/systemd/$2" || echo "${2%.service} restart"
			;;
		esac
		;;
	esac
}

# Renders conf/ and www/ into a staging directory, then installs only what differs.
render_and_install() {
	STAGE=$(mktemp -d)
	trap 'rm -rf "$STAGE"' EXIT
	relay_render "$SHARE/conf" "$STAGE/etc" || die "rendering $SHARE/conf failed"
	relay_render "$SHARE/www" "$STAGE/www" || die "rendering $SHARE/www failed"
	qrencode -t SVG -o "$STAGE/www/qr-invite.svg" "dcaccount:https://$MAIL_DOMAIN/new"
	local file rel top dest what before
	while IFS= read -r file; do
		rel=${file#"$STAGE"/etc/}
		top=${rel%%/*}
		metrics_file_wanted "$rel" || continue
		[ "$top" != coturn ] || continue # install_turn_conf: with the secret
		dest=$ETC/$rel
		[ "$top" = systemd ] && dest=$UNIT_DIR/${rel#systemd/}
		what=$(service_of "$top" "${rel#*/}")
		before=${#CHANGED[@]}
		# shellcheck disable=SC2086
		install_file "$file" "$dest" 0644 root:root $what
		[ "$top" = systemd ] && [ "$before" != ${#CHANGED[@]} ] && add_unique RESTART daemon-reload
	done < <(find "$STAGE/etc" -type f | sort)
	while IFS= read -r file; do
		install_file "$file" "$WWW/${file#"$STAGE"/www/}" 0644 root:root
	done < <(find "$STAGE/www" -type f | sort)
	install_turn_conf
}

# coturn's config (conf/coturn) with the TURN secret chatmail-metadata hands out credentials
# for: readable by root and coturn's group only.
install_turn_conf() {
	local secret group=root
	secret=$("$BIN/chatmail-metadata" --turn-secret) || die "cannot make the TURN secret below $STATE_DIR"
	getent group turnserver >/dev/null && group=turnserver
	cp "$STAGE/etc/coturn/turnserver.conf" "$STAGE/turnserver.conf"
	relay_turn_conf "$STAGE/turnserver.conf" "$secret"
	install_file "$STAGE/turnserver.conf" "$(relay_layout turn_conf)" 0640 "root:$group" coturn restart
}

write_setup_conf() {
	local tmp
	tmp=$(mktemp)
	{
		echo "# chatmail-setup's choices, kept for its next runs (pass the option again to change one)"
		echo "log_dir=$LOG_DIR"
		echo "listen=$LISTEN"
		echo "port_base=$PORT_BASE"
	} >"$tmp"
	install_file "$tmp" "$SETUP_CONF" 0644 root:root
	rm -f "$tmp"
	# newemail, mxdeliv and chatmail-notifier read chatmail.ini once, at start: a changed file
	# means a restart.
	sha256sum <"$INI" >"$tmp"
	local changed=${#CHANGED[@]}
	install_file "$tmp" "$SETUP_STATE/chatmail.ini.sha256" 0600 root:root chatmail-newemail restart
	if [ "${#CHANGED[@]}" != "$changed" ]; then
		add_unique RESTART chatmail-mxdeliv
		add_unique RESTART chatmail-notifier
	fi
	rm -f "$tmp"
}

our_units() {
	find "$UNIT_DIR" -maxdepth 1 -name 'chatmail-*' \( -name '*.service' -o -name '*.timer' \
		-o -name '*.socket' \) 2>/dev/null | while read -r unit; do
		unit=${unit##*/}
		# a template runs per connection of its socket, never on its own
		[[ "$unit" == *@.service ]] && continue
		# a service its timer starts is not enabled on its own
		[[ "$unit" == *.service ]] && [ -f "$UNIT_DIR/${unit%.service}.timer" ] && continue
		echo "$unit"
	done | sort
}

# systemctl on the unit files: below --root (or with no systemd running) it works on the files
# alone, and tells no manager.
systemctl_files() {
	if systemd_running; then
		"$SYSTEMCTL" "$@"
	else
		"$SYSTEMCTL" --root="${R:-/}" "$@"
	fi
}

enable_units() {
	local units=() unit
	mapfile -t units < <(our_units)
	if systemd_running; then
		units+=(postfix.service dovecot.service nginx.service opendkim.service postfix-mta-sts-resolver.service
			unbound.service coturn.service)
		[ "$TLS_MODE" = acme ] && units+=(certbot.timer)
	fi
	command -v "$SYSTEMCTL" >/dev/null || { warn "no systemctl: units not enabled"; return 0; }
	for unit in "${units[@]}"; do
		[ "$(systemctl_files is-enabled "$unit" 2>/dev/null)" = enabled ] && continue
		systemctl_files --quiet enable "$unit" || die "cannot enable $unit"
		say "enabled $unit"
		CHANGED+=("enabled $unit")
		add_unique RESTART "${unit%.service}"
	done
}

# Reloads or restarts what changed (systemd only); elsewhere says what to reload.
apply_changes() {
	local service todo=()
	# nginx takes over listeners Dovecot may still hold (IMAPS moved to nginx): a reload lets
	# Dovecot close them some time after systemctl returns, a restart before it returns. So
	# Dovecot restarts, and first, when nginx changes too.
	if [[ " ${RELOAD[*]} ${RESTART[*]} " == *" nginx "* && " ${RELOAD[*]} " == *" dovecot "* &&
		" ${RESTART[*]} " != *" dovecot "* ]]; then
		RESTART=(dovecot "${RESTART[@]}")
	fi
	for service in "${RESTART[@]}"; do [ "$service" = daemon-reload ] || todo+=("restart $service"); done
	for service in "${RELOAD[@]}"; do
		[[ " ${RESTART[*]} " == *" $service "* ]] || todo+=("reload $service")
	done
	if ! systemd_running; then
		local list
		list=$(printf '%s, ' "${todo[@]}")
		[ ${#todo[@]} = 0 ] || say "no systemd here (--root, or a container): do it yourself: ${list%, }"
		RELOAD=() RESTART=()
		return 0
	fi
	[[ " ${RESTART[*]} " == *" daemon-reload "* ]] && "$SYSTEMCTL" daemon-reload
	for service in "${RESTART[@]}"; do
		[ "$service" = daemon-reload ] && continue
		say "restarting $service"
		"$SYSTEMCTL" restart "$service" || warn "$service did not restart: chatmail-setup status"
	done
	for service in "${RELOAD[@]}"; do
		[[ " ${RESTART[*]} " == *" $service "* ]] && continue
		say "reloading $service"
		"$SYSTEMCTL" reload-or-restart "$service" || warn "$service did not reload: chatmail-setup status"
	done
	RELOAD=() RESTART=()
}

# Let's Encrypt through certbot's webroot (nginx serves the challenge on port 80), once; certbot's
# own timer renews it and the deploy hook reloads the daemons.
obtain_certificate() {
	[ "$TLS_MODE" = acme ] || return 0
	local live=$LETSENCRYPT/live/$MAIL_DOMAIN
	if [ ! -s "$live/fullchain.pem" ]; then
		if ! systemd_running; then
			say "no certificate requested without systemd: $TLS_CERT stays self-signed"
			return 0
		fi
		local contact=(--register-unsafely-without-email)
		[ -n "$ACME_EMAIL" ] && contact=(--email "$ACME_EMAIL")
		say "requesting a certificate for $MAIL_DOMAIN and mta-sts.$MAIL_DOMAIN from Let's Encrypt"
		"$CERTBOT" certonly --non-interactive --agree-tos "${contact[@]}" --webroot -w "$WWW" \
			--cert-name "$MAIL_DOMAIN" -d "$MAIL_DOMAIN" -d "mta-sts.$MAIL_DOMAIN" >/dev/null || {
			warn "no certificate yet: publish the DNS records (chatmail-setup dns), then run chatmail-setup again"
			return 0
		}
	fi
	local hook
	hook=$(mktemp)
	printf '#!/bin/sh\n# Written by chatmail-setup: the relay'"'"'s daemons take a renewed certificate.\nsystemctl reload postfix dovecot nginx\n' >"$hook"
	install_file "$hook" "$LETSENCRYPT/renewal-hooks/deploy/chatmail" 0755 root:root
	rm -f "$hook"
	link_certificate "$live/fullchain.pem" "$TLS_CERT"
	link_certificate "$live/privkey.pem" "$TLS_KEY"
}

link_certificate() {
	[ "$(readlink "$2" 2>/dev/null)" = "$1" ] && return 0
	ln -sfn "$1" "$2"
	say "$2 is now Let's Encrypt's"
	CHANGED+=("$2")
	add_unique RELOAD postfix
	add_unique RELOAD dovecot
	add_unique RELOAD nginx
}

cmd_install() {
	need_root
	[ -f "$INI" ] || [ -n "$DOMAIN" ] || usage_error "--domain is needed for a first setup (no $INI yet)"
	check_reachable
	load_setup_conf
	install_packages
	# Debian's dovecot rebuilt with instant IDLE, and its daily rebuild timer (a long first build)
	[ -z "$INSTANT_IDLE" ] || "$INSTANT" install ||
		warn "--instant-idle: no build yet, Debian's dovecot stays (its timer tries again daily)"
	check_commands
	set_layout
	write_ini
	load_config
	check_metrics
	make_vmail_user
	[ -z "$DOMAIN" ] || [ "$DOMAIN" = "$MAIL_DOMAIN" ] ||
		die "$INI is for $MAIL_DOMAIN, not $DOMAIN: edit mail_domain there, or pass --domain $MAIL_DOMAIN"
	load_layout
	make_dirs
	make_metrics_dir
	make_dkim_key
	choose_tls
	make_self_signed
	render_and_install
	remove_metrics_unit
	write_setup_conf
	enable_units
	apply_changes
	use_local_resolver
	obtain_certificate
	apply_changes
	if [ ${#CHANGED[@]} = 0 ]; then
		say "nothing changed: the relay $MAIL_DOMAIN is set up"
	else
		say "${#CHANGED[@]} change(s): the relay $MAIL_DOMAIN is set up (TLS: $TLS_MODE)"
		say "next: publish the DNS records of 'chatmail-setup dns', then 'chatmail-setup check'"
	fi
}

# --- status ---

STATUS_SERVICES="postfix dovecot opendkim nginx chatmail-newemail chatmail-mxdeliv postfix-mta-sts-resolver unbound"
# push and METADATA: the dict's socket, the queue's sender, the TURN server
STATUS_SERVICES="$STATUS_SERVICES chatmail-metadata.socket chatmail-notifier coturn"

# Without systemd (a --root, a container): the pid files and sockets the configs name.
service_state_by_hand() {
	local pidfile=
	case "$1" in
	postfix) pidfile=$(relay_layout postfix_queue_dir)/pid/master.pid ;;
	dovecot) pidfile=$(relay_layout dovecot_base_dir)/master.pid ;;
	opendkim) pidfile=$(relay_layout opendkim_pid) ;;
	nginx) pidfile=$(relay_layout nginx_pid) ;;
	chatmail-newemail | chatmail-mxdeliv)
		# grep reads all of ss's output: with -q, ss could die of SIGPIPE and fail the pipe
		if ss -Hxl 2>/dev/null | grep -F "$(relay_layout "${1#chatmail-}_socket")" >/dev/null; then
			echo active
		else
			echo inactive
		fi
		return 0
		;;
	*)
		echo unknown
		return 0
		;;
	esac
	relay_pid_alive "$pidfile" && echo active || echo inactive
}

log_file_of() {
	case "$1" in
	postfix | dovecot | filtermail | newemail) echo "$LOG_DIR/$1.log" ;;
	chatmail-newemail) echo "$LOG_DIR/newemail.log" ;;
	nginx) echo "$LOG_DIR/nginx-error.log" ;;
	esac
}

last_errors() {
	if systemd_running; then
		journalctl -u "$1" -p warning -n 3 -q --no-pager -o short-iso 2>/dev/null || true
	elif [ -n "$LOG_DIR" ]; then
		local file
		file=$(log_file_of "$1")
		if [ -n "$file" ] && [ -f "$file" ]; then
			grep -iE 'error|fatal|panic|warning|reject' "$file" | tail -n 3 || true
		fi
	fi
}

cmd_status() {
	load_setup_conf
	set_layout
	local service state down=0 line services=$STATUS_SERVICES
	# mtail runs where chatmail.ini sets mtail_address (README "Metrics")
	[ ! -f "$UNIT_DIR/chatmail-mtail.service" ] || services="$services chatmail-mtail"
	for service in $services; do
		if systemd_running; then
			state=$("$SYSTEMCTL" is-active "$service" 2>/dev/null || true)
		else
			state=$(service_state_by_hand "$service")
		fi
		[ "$state" = unknown ] && continue
		printf '%-26s %s\n' "$service" "$state"
		[ "$state" = active ] || down=1
		last_errors "$service" | while IFS= read -r line; do printf '    %s\n' "$line"; done
	done
	resolver_status || down=1
	if [ -n "$LOG_DIR" ] && ! systemd_running; then
		last_errors filtermail | sed 's/^/    filtermail: /'
	fi
	for service in chatmail-expire.timer certbot.timer; do
		# below --root only our own units are there
		[ -z "$R" ] || [ -f "$UNIT_DIR/$service" ] || continue
		state=$(systemctl_files is-enabled "$service" 2>/dev/null || true)
		printf '%-26s %s\n' "$service" "${state:-not installed}"
	done
	# which dovecot build runs: Debian's, or the instant-IDLE one of --instant-idle
	[ -n "$R" ] || [ ! -x "$INSTANT" ] || printf '%-26s %s\n' "dovecot build" "$("$INSTANT" status)"
	kernel_status || down=1
	if ! systemd_running && [ -z "$LOG_DIR" ]; then
		echo "(the daemons log to syslog: journalctl -t postfix -t dovecot ...)"
	fi
	[ "$down" = 0 ] || exit $EXIT_FAILED
}

# The kernel settings of the sysctl drop-in (fs.inotify for the IDLE clients, the accept queue)
# against the running kernel. Below --root the kernel is this machine's, not the relay's: shown,
# not counted.
kernel_status() {
	local file=$ETC/sysctl.d/90-chatmail.conf key live wanted
	if [ ! -f "$file" ]; then
		printf '%-26s %s\n' "kernel limits" "no $file: run chatmail-setup"
		return 1
	fi
	if relay_kernel_limits "$file" >/dev/null; then
		printf '%-26s %s\n' "kernel limits" ok
		return 0
	fi
	if [ -n "$R" ]; then
		printf '%-26s %s\n' "kernel limits" "low (this machine's kernel: not counted below --root)"
	else
		printf '%-26s %s\n' "kernel limits" low
	fi
	relay_kernel_limits "$file" | while read -r key live wanted; do
		printf '    %s is %s, the relay wants %s (%s; sysctl --system applies it)\n' "$key" "$live" \
			"$wanted" "$file"
	done
	[ -n "$R" ]
}

main() {
	parse_args "$@"
	validate_args
	set_paths
	case "$COMMAND" in
	install) cmd_install ;;
	dns) cmd_dns ;;
	check) cmd_check ;;
	status) cmd_status ;;
	esac
}

main "$@"
