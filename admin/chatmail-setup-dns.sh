# shellcheck shell=bash
# chatmail-setup-dns.sh: the dns and check commands of chatmail-setup, which sources this file:
# the zone a relay's domain must publish, and its comparison with what a resolver answers; and
# the relay's own DNSSEC-validating resolver (set up, shown by status, verified by check).
# It uses chatmail-setup's options, paths and helpers (say, die, load_config, load_layout,
# install_file, systemd_running) and layout/relay-common.sh (relay_get, relay_ini).

zone_domain() {
	if [ -z "$DOMAIN" ]; then
		[ -f "$INI" ] || usage_error "--domain is needed (no $INI)"
		load_config
		DOMAIN=$MAIL_DOMAIN
	fi
	is_ipv4 "$DOMAIN" && die "$DOMAIN is an IP-only relay: it has no DNS records"
	set_layout
	load_layout
}

# Public addresses of this machine (private, shared and link-local ones are no use in DNS).
public_addresses() {
	ip -o "-$1" addr show scope global 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4 }' |
		grep -Ev '^(10\.|127\.|169\.254\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|192\.0\.2\.|198\.51\.100\.|203\.0\.113\.|198\.1[89]\.|f[cd]|fe80|2001:db8:)' |
		head -1 || true
}

# zone_setting NAME: a setting of chatmail.ini, or its default before the first setup.
zone_setting() {
	if [ -f "$INI" ]; then
		relay_get "$1"
		return
	fi
	local ini
	ini=$(mktemp)
	relay_ini "$ini" "$DOMAIN" </dev/null
	CHATMAIL_INI=$ini relay_get "$1"
	rm -f "$ini"
}

# The MTA-STS id changes whenever the served policy does.
sts_id() {
	local dir
	dir=$(mktemp -d)
	relay_ini "$dir/ini" "$DOMAIN" </dev/null
	CHATMAIL_INI=$dir/ini "$BIN/chatmail-render" "$SHARE/www/well-known/mta-sts.txt" "$dir/policy"
	sha256sum "$dir/policy" | cut -c1-16
	rm -rf "$dir"
}

# DKIM's public key from the private one, as OpenDKIM publishes it.
dkim_public_key() {
	openssl rsa -in "$DKIM_KEY" -pubout -outform DER 2>/dev/null | base64 -w0
}

# A TXT value in strings of at most 255 characters.
txt_strings() {
	local text=$1 out=
	while [ ${#text} -gt 255 ]; do
		out="$out\"${text:0:255}\" "
		text=${text:255}
	done
	echo "$out\"$text\""
}

# certbot's account, which CAA's accounturi names so that no other account may issue.
acme_account() {
	local regr
	regr=$(find "$LETSENCRYPT/accounts" -path '*acme-v02*' -name regr.json -print -quit 2>/dev/null || true)
	[ -n "$regr" ] && sed -n 's/.*"uri": *"\([^"]*\)".*/\1/p;T;q' "$regr"
	return 0
}

record() { # record NAME TYPE DATA
	printf '%-36s 3600 IN %-5s %s\n' "$1" "$2" "$3"
}

zone_records() {
	local d=$DOMAIN. ipv4=${IPV4:-$(public_addresses 4)} ipv6=${IPV6:-$(public_addresses 6)}
	local tls_external='' sts
	sts=$(sts_id)
	[ -f "$INI" ] && tls_external=$(relay_get tls_external_cert_and_key 2>/dev/null || true)
	echo "; DNS records of the chatmail relay $DOMAIN, printed by chatmail-setup dns."
	echo "; Publish them in the zone of $DOMAIN; 'chatmail-setup check' compares them with DNS."
	if [ -n "$ipv4" ]; then
		record "$d" A "$ipv4"
		record "mta-sts.$d" A "$ipv4"
	else
		echo "; A: this machine has no public IPv4 address: run again with --ipv4 ADDRESS"
	fi
	if [ -n "$ipv6" ]; then
		record "$d" AAAA "$ipv6"
		record "mta-sts.$d" AAAA "$ipv6"
	else
		echo "; AAAA: this machine has no public IPv6 address (--ipv6 ADDRESS to give one)"
	fi
	record "$d" MX "10 $d"
	record "$d" TXT "\"v=spf1 a:$DOMAIN -all\""
	record "_dmarc.$d" TXT "\"v=DMARC1;p=reject;adkim=s;aspf=s\""
	if [ -s "$DKIM_KEY" ]; then
		record "$DKIM_SELECTOR._domainkey.$d" TXT \
			"$(txt_strings "v=DKIM1;k=rsa;p=$(dkim_public_key)")"
	else
		echo "; DKIM: $DKIM_SELECTOR._domainkey.$d TXT comes from the key chatmail-setup generates"
		echo ";       in $DKIM_KEY: run chatmail-setup --domain $DOMAIN, then chatmail-setup dns again"
	fi
	record "_mta-sts.$d" TXT "\"v=STSv1; id=$sts\""
	record "_smtp._tls.$d" TXT "\"v=TLSRPTv1;rua=mailto:root@$DOMAIN\""
	record "_submission._tcp.$d" SRV "0 1 587 $d"
	record "_submissions._tcp.$d" SRV "0 1 465 $d"
	record "_imap._tcp.$d" SRV "0 1 143 $d"
	record "_imaps._tcp.$d" SRV "0 1 993 $d"
	# the TURN server for calls (coturn; clients learn it from METADATA, others from these)
	local turn_port
	turn_port=$(zone_setting turn_port)
	record "_stun._udp.$d" SRV "0 1 $turn_port $d"
	record "_turn._udp.$d" SRV "0 1 $turn_port $d"
	record "_turn._tcp.$d" SRV "0 1 $turn_port $d"
	if [ -n "$tls_external" ]; then
		echo "; CAA: name the authority of your own certificate (tls_external_cert_and_key)"
	else
		local account
		account=$(acme_account)
		record "$d" CAA "128 issue \"letsencrypt.org${account:+;accounturi=$account}\""
	fi
}

cmd_dns() {
	zone_domain
	zone_records
}

# One record's data as dig +short prints it, lower-cased names and TXT strings joined.
normalize() { # normalize TYPE DATA
	case "$1" in
	A | AAAA) [[ "$2" == *. ]] || echo "$2" ;; # a CNAME on the way (mta-sts. often is one)
	TXT) sed -e 's/^"//' -e 's/"$//' -e 's/" "//g' <<<"$2" ;;
	MX | SRV) tr '[:upper:]' '[:lower:]' <<<"$2" ;;
	*) echo "$2" ;;
	esac
}

# TXT records share names with others (SPF beside a site verification): compare by their tag.
txt_tag() {
	sed -n 's/^\(v=[A-Za-z0-9]*\).*/\1/p' <<<"$1"
}

# dig's arguments for --resolver HOST[:PORT] in SERVER_ARGS (none: the system resolver).
resolver_args() {
	local host=$RESOLVER port=53
	SERVER_ARGS=()
	case "$RESOLVER" in
	"") return 0 ;;
	\[*\]:*) host=${RESOLVER%]:*} host=${host#[} port=${RESOLVER##*]:} ;;
	*:*:*) ;; # a bare IPv6 address
	*:*) host=${RESOLVER%:*} port=${RESOLVER#*:} ;;
	esac
	SERVER_ARGS=("@$host" -p "$port")
}

# dig_records NAME TYPE: the answer in DIG_OUT (not printed, so that a failure stops this shell).
dig_records() {
	resolver_args
	local out
	if ! out=$(dig +short +time=3 +tries=2 "${SERVER_ARGS[@]}" "$1" "$2" 2>&1) || [[ "$out" == *";; "* ]]; then
		die "cannot ask ${RESOLVER:-the resolver} for $1 $2: $(tail -1 <<<"$out" | sed 's/^;; //')"
	fi
	DIG_OUT=$out
}

cmd_check() {
	zone_domain
	command -v dig >/dev/null || die "dig is missing (Debian package bind9-dnsutils)"
	local dnssec_ok=1
	check_dnssec || dnssec_ok=
	local zone name type data key right=0 missing=0 wrong=0
	zone=$(zone_records | grep -v '^;')
	local -A expected=()
	while read -r name _ _ type data; do
		key="$name $type"
		expected[$key]+="$(normalize "$type" "$data")"$'\n'
	done <<<"$zone"
	local keys
	keys=$(printf '%s\n' "${!expected[@]}" | sort)
	while read -r name type; do
		local want found got line tag
		want=$(printf '%s' "${expected[$name $type]}" | sort)
		dig_records "$name" "$type"
		found=$(while IFS= read -r line; do normalize "$type" "$line"; done <<<"$DIG_OUT" | sort)
		if [ "$type" = TXT ]; then
			tag=$(txt_tag "$want")
			found=$(grep -E "^$tag( |;|$)" <<<"$found" || true)
		elif [ "$type" = CAA ] && grep -qxF "$want" <<<"$found"; then
			found=$want
		fi
		if [ -z "$found" ]; then
			while IFS= read -r got; do echo "missing: $name $type $got"; done <<<"$want"
			missing=$((missing + 1))
		elif [ "$found" != "$want" ]; then
			echo "wrong: $name $type: want $(paste -sd' ' <<<"$want"), found $(paste -sd' ' <<<"$found")"
			wrong=$((wrong + 1))
		else
			right=$((right + 1))
		fi
	done <<<"$keys"
	say "$right right, $missing missing, $wrong wrong"
	[ $((missing + wrong)) = 0 ] && [ -n "$dnssec_ok" ] || exit "$EXIT_FAILED"
}

# --- the relay's resolver ---
#
# filtermail takes DKIM keys, Postfix MX records and the MTA-STS resolver its policies' names from
# the system resolver, /etc/resolv.conf. chatmail-setup makes that Debian's unbound on loopback
# (conf/unbound), which validates DNSSEC with Debian's root trust anchor, so a forged answer for a
# signed zone fails instead of reaching them. /etc/resolv.conf becomes a plain file naming only
# 127.0.0.1: no fallback to another resolver, which would answer unvalidated whenever unbound is
# down (mail then waits: 451 for a DKIM key, deferred delivery). What else would rewrite the file
# is told not to: systemd-resolved is masked (it links the file to its stub, which asks the
# provider's resolvers), dhclient gets an enter hook, NetworkManager dns=none. resolvconf leaves
# a plain file alone. OpenDKIM resolves with its own libunbound, not through this file.

RESOLV_CONF_HEAD="# Written by chatmail-setup: the relay's own DNSSEC-validating unbound (chatmail-setup status)."

resolv_conf_text() {
	echo "$RESOLV_CONF_HEAD"
	echo "# The file it replaced is kept as resolv.conf.chatmail-setup.orig."
	echo "nameserver 127.0.0.1"
	# glibc passes the AD flag on only from a resolver it is told to trust: this one validates
	echo "options edns0 trust-ad"
}

# dnssec_query SERVER-ARGS... NAME: the status (NOERROR, SERVFAIL...) and AD flag of NAME SOA asked
# with DNSSEC, as "STATUS ad" or "STATUS -" in DNSSEC_GOT; dies when the resolver does not answer.
dnssec_query() {
	local out status flags
	if ! out=$(dig +dnssec +time=3 +tries=2 "$@" SOA 2>&1) || ! grep -q 'status: ' <<<"$out"; then
		die "cannot ask ${RESOLVER:-the resolver} for ${*: -1} SOA: $(tail -1 <<<"$out" | sed 's/^;; //')"
	fi
	status=$(sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$out" | head -1)
	flags=$(sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' <<<"$out" | head -1)
	DNSSEC_GOT="$status -"
	[[ " $flags " != *" ad "* ]] || DNSSEC_GOT="$status ad"
}

# A validating resolver answers a signed name with the AD flag and refuses a name whose
# signatures are broken (SERVFAIL). The names: the root zone, signed since 2010, and Comcast's
# dnssec-failed.org, broken on purpose; --signed-name and --bogus-name give others (tests).
check_dnssec() {
	local signed=${SIGNED_NAME:-.} bogus=${BOGUS_NAME:-dnssec-failed.org} got ok=1
	local who=${RESOLVER:-the system resolver}
	resolver_args
	dnssec_query "${SERVER_ARGS[@]}" "$signed"
	got=$DNSSEC_GOT
	case "$got" in
	"NOERROR ad") ;;
	NOERROR*)
		echo "dnssec: $who does not validate: $signed SOA answered without the AD flag"
		ok=
		;;
	*)
		echo "dnssec: $who fails on the signed name $signed SOA (${got% *}): trust anchor, clock, or the name's signatures"
		ok=
		;;
	esac
	dnssec_query "${SERVER_ARGS[@]}" "$bogus"
	got=$DNSSEC_GOT
	case "$got" in
	SERVFAIL*) ;;
	*)
		echo "dnssec: $who does not validate: it answers $bogus SOA (${got% *}), whose signatures are broken; a validating resolver refuses it (SERVFAIL)"
		ok=
		;;
	esac
	[ -n "$ok" ] || return 1
	say "$who validates DNSSEC ($signed authenticated, $bogus refused)"
}

# The nameservers a resolv.conf names, one a line.
resolv_conf_servers() {
	sed -n 's/^[[:space:]]*nameserver[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "$1" 2>/dev/null || true
}

# status: which resolver the system asks; 1 when it is not the relay's own.
resolver_status() {
	local servers
	servers=$(resolv_conf_servers "$ETC/resolv.conf" | paste -sd' ')
	if [ "$servers" = 127.0.0.1 ]; then
		printf '%-26s %s\n' resolver "127.0.0.1 (unbound, $ETC/resolv.conf)"
		return 0
	fi
	printf '%-26s %s\n' resolver "${servers:-none} in $ETC/resolv.conf, not the relay's unbound: run chatmail-setup"
	return 1
}

# Does unbound answer on loopback (before the system is pointed at it)?
local_resolver_answers() {
	dig +time=2 +tries=2 @127.0.0.1 . SOA 2>/dev/null | grep -q 'status: NOERROR'
}

# install_text DEST TEXT: a small file of ours, written when it differs.
install_text() {
	local tmp
	tmp=$(mktemp)
	printf '%s\n' "$2" >"$tmp"
	install_file "$tmp" "$1" 0644 root:root
	rm -f "$tmp"
}

# Keeps DHCP, NetworkManager and systemd-resolved from rewriting /etc/resolv.conf.
stop_resolv_conf_writers() {
	if [ -d "$ETC/dhcp" ]; then
		install_text "$ETC/dhcp/dhclient-enter-hooks.d/chatmail-resolver" "# Written by chatmail-setup: /etc/resolv.conf names the relay's own unbound; the
# DHCP server's resolvers must not replace it (dhclient-script sources this hook).
make_resolv_conf() { :; }"
	fi
	if [ -d "$ETC/NetworkManager/conf.d" ]; then
		local before=${#CHANGED[@]}
		install_text "$ETC/NetworkManager/conf.d/chatmail-dns.conf" "# Written by chatmail-setup: /etc/resolv.conf names the relay's own unbound.
[main]
dns=none"
		[ "$before" = ${#CHANGED[@]} ] || add_unique RELOAD NetworkManager
	fi
	if systemd_running && [ "$("$SYSTEMCTL" is-enabled systemd-resolved.service 2>/dev/null)" = enabled ]; then
		"$SYSTEMCTL" disable --now systemd-resolved.service
		"$SYSTEMCTL" mask systemd-resolved.service
		say "stopped and masked systemd-resolved: the relay's unbound resolves"
		CHANGED+=("masked systemd-resolved")
	fi
}

exists_or_link() { [ -e "$1" ] || [ -L "$1" ]; }

# Points the system at the relay's unbound (after it was (re)started): on a real system only once
# unbound answers, so that a resolver that does not run never takes the machine's DNS away.
use_local_resolver() {
	local conf=$ETC/resolv.conf
	if [ -z "$R" ] && ! local_resolver_answers; then
		warn "unbound does not answer on 127.0.0.1: $conf left as it is (chatmail-setup status; run chatmail-setup again)"
		return 0
	fi
	stop_resolv_conf_writers
	# the file it replaces, once (a link is kept as a link, dangling or not)
	if exists_or_link "$conf" && ! exists_or_link "$conf.chatmail-setup.orig" &&
		! head -1 "$conf" 2>/dev/null | grep -qxF "$RESOLV_CONF_HEAD"; then
		cp -P "$conf" "$conf.chatmail-setup.orig"
		say "kept $conf as $conf.chatmail-setup.orig"
	fi
	install_text "$conf" "$(resolv_conf_text)"
}
