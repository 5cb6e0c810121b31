# shellcheck shell=bash
# DNSSEC for test zones (ldnsutils): signed zones whose trust anchors a validating unbound takes,
# and a zone whose signature is broken on purpose. Used by setup-dns.bats and scripts/federation.

# dnssec_sign_zone ZONEFILE DOMAIN ANCHORS: signs ZONEFILE in place (Ed25519, a key-signing and a
# zone-signing key made beside it) and appends the key-signing key to the file ANCHORS.
dnssec_sign_zone() {
	local dir ksk zsk
	dir=$(dirname "$1")
	ksk=$(cd "$dir" && ldns-keygen -a ED25519 -k "$2")
	zsk=$(cd "$dir" && ldns-keygen -a ED25519 "$2")
	(cd "$dir" && ldns-signzone -f "$1.signed" "$1" "$ksk" "$zsk")
	mv "$1.signed" "$1"
	cat "$dir/$ksk.key" >>"$3"
}

# dnssec_break_soa ZONEFILE: one character of the SOA's signature changed, so that the zone no
# longer validates (a validating resolver answers SERVFAIL) while it still loads.
dnssec_break_soa() {
	sed -i -E '/\tRRSIG\tSOA /{s/ A([A-Za-z0-9+\/=]*)$/ B\1/;t;s/ [A-Za-z0-9+\/]([A-Za-z0-9+\/=]*)$/ A\1/}' "$1"
}
