# shellcheck shell=bash
# chatmail-setup-dns.sh: the dns and check commands of chatmail-setup, which sources this file:
# the zone a relay's domain must publish, and its comparison with what a resolver answers.
# It uses chatmail-setup's options, paths and helpers (say, die, load_config, load_layout) and
# layout/relay-common.sh (relay_get, relay_ini).

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

# dig_records NAME TYPE: the answer in DIG_OUT (not printed, so that a failure stops this shell).
dig_records() {
	local server=() host=$RESOLVER port=53
	case "$RESOLVER" in
	"") ;;
	\[*\]:*) host=${RESOLVER%]:*} host=${host#[} port=${RESOLVER##*]:} ;;
	*:*:*) ;; # a bare IPv6 address
	*:*) host=${RESOLVER%:*} port=${RESOLVER#*:} ;;
	esac
	[ -z "$RESOLVER" ] || server=("@$host" -p "$port")
	local out
	if ! out=$(dig +short +time=3 +tries=2 "${server[@]}" "$1" "$2" 2>&1) || [[ "$out" == *";; "* ]]; then
		die "cannot ask ${RESOLVER:-the resolver} for $1 $2: $(tail -1 <<<"$out" | sed 's/^;; //')"
	fi
	DIG_OUT=$out
}

cmd_check() {
	zone_domain
	command -v dig >/dev/null || die "dig is missing (Debian package bind9-dnsutils)"
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
	[ $((missing + wrong)) = 0 ] || exit "$EXIT_FAILED"
}
