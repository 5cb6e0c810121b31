# Two relays that federate, a.test and b.test, brought up once for a bats file by
# scripts/federation, and what a user or another server does with them, each from its own
# network namespace: users from the devices' namespace (c), strangers from x.
# shellcheck shell=bash

# federation_up: a fresh test bed below its own directory and namespace names; sources its env
# (FED_DIR, CA, NS_A, IP_B, ...).
federation_up() {
	FED_DIR=$(mktemp -d /tmp/chatmail-federation-test.XXXXXX)
	chmod 755 "$FED_DIR"
	export FED_DIR FED_NAME="cmf$((RANDOM % 100000))"
	# the sanitizer builds reserve more address space than Dovecot allows by default; Delta
	# Chat's bursts must not meet the send limit, which has its own tests
	AUTH_VSZ_LIMIT=0 INI_EXTRA="max_user_send_per_minute = 600
max_user_send_burst_size = 100" "$ROOT/scripts/federation" up >"$FED_DIR.up.log" 2>&1 || {
		cat "$FED_DIR.up.log" >&2
		return 1
	}
	rm -f "$FED_DIR.up.log"
	set -a
	# shellcheck source=/dev/null
	. "$FED_DIR/env"
	set +a
}

federation_down() {
	[ -n "${FED_DIR:-}" ] || return 0
	"$ROOT/scripts/federation" down || true
	rm -rf "$FED_DIR"
}

# on NAME COMMAND...: runs COMMAND in namespace NAME (a, b, c, x, dns) with its resolv.conf.
on() {
	local name=$1
	shift
	ip netns exec "$FED_NAME-$name" "$@"
}

# fed_postfix RELAY ARGS...: Postfix's commands for the relay, inside its namespace.
fed_postfix() {
	local relay=$1
	shift
	# as scripts/federation starts it: mxdeliv-send trusts the test CA
	on "$relay" env SSL_CERT_FILE="$CA" postfix -c "$FED_DIR/$relay/etc/postfix" "$@"
}

fed_log() { # fed_log RELAY FILE: a relay's log, e.g. fed_log b postfix.log
	cat "$FED_DIR/$1/log/$2"
}

# fed_account RELAY: "address password" of a new account from POST /new, asked by a device.
fed_account() {
	local answer
	answer=$(on c curl -sS --cacert "$CA" --max-time 20 -w '\n%{http_code}' -X POST \
		"https://$1.test/new")
	if [ "${answer##*$'\n'}" != 200 ]; then
		echo "POST https://$1.test/new answered: $answer" >&2
		return 1
	fi
	jq -r '.email + " " + .password' <<<"${answer%$'\n'*}"
}

# fed_send RELAY USER PASSWORD TO FILE: submits FILE over SMTPS (465) to the user's relay.
fed_send() {
	on c curl -sS --cacert "$CA" --max-time 30 --url "smtps://$1.test" --user "$2:$3" \
		--mail-from "$2" --mail-rcpt "$4" --upload-file "$5"
}

# fed_inbox_count RELAY USER PASSWORD: how many messages the user's INBOX holds, over IMAPS.
fed_inbox_count() {
	on c curl -sS --cacert "$CA" --max-time 20 --user "$2:$3" "imaps://$1.test/INBOX" \
		-X 'EXAMINE INBOX' | sed -n 's/^\* \([0-9]*\) EXISTS.*/\1/p'
}

# fed_wait_inbox RELAY USER PASSWORD N [SECONDS]: waits (default 20 s) until INBOX holds N.
fed_wait_inbox() {
	local i
	for ((i = 0; i < ${5:-20} * 5; i++)); do
		[ "$(fed_inbox_count "$1" "$2" "$3")" = "$4" ] && return 0
		sleep 0.2
	done
	echo "INBOX of $2 holds $(fed_inbox_count "$1" "$2" "$3") messages, not $4" >&2
	return 1
}

# fed_stored RELAY USER: the files of the messages stored for the user.
fed_stored() {
	local dir=$FED_DIR/$1/vmail/mail/$2
	find "$dir" -type f \( -path "$dir/new/*" -o -path "$dir/cur/*" \)
}

# fed_queue RELAY: the relay's queue as postqueue -p prints it.
fed_queue() {
	on "$1" postqueue -c "$FED_DIR/$1/etc/postfix" -p
}

# fed_nginx_reload RELAY: reloads the relay's nginx (after a test changed its config).
fed_nginx_reload() {
	on "$1" nginx -c "$FED_DIR/$1/etc/nginx/nginx.conf" -e "$FED_DIR/$1/log/nginx-error.log" -s reload
	sleep 0.5
}

# fed_mxdeliv_off RELAY: the relay's nginx answers 404 for /mxdeliv (a relay without it);
# fed_mxdeliv_restore RELAY puts its location back (also after a change by a test).
fed_mxdeliv_off() {
	local conf=$FED_DIR/$1/etc/nginx/mxdeliv-fastcgi.conf
	[ -f "$conf.fed-orig" ] || cp "$conf" "$conf.fed-orig"
	printf 'location = /mxdeliv {\n\taccess_log %s combined;\n\treturn 404;\n}\n' \
		"$FED_DIR/$1/log/mxdeliv-access.log" >"$conf"
	fed_nginx_reload "$1"
}
fed_mxdeliv_restore() {
	local conf=$FED_DIR/$1/etc/nginx/mxdeliv-fastcgi.conf
	[ -f "$conf.fed-orig" ] || return 0
	mv "$conf.fed-orig" "$conf"
	fed_nginx_reload "$1"
}

# fed_mxdeliv_memory RELAY: the hosts the relay sends to by SMTP only for now (README
# "/mxdeliv"); fed_mxdeliv_forget RELAY empties that memory.
fed_mxdeliv_memory() {
	local file=$FED_DIR/$1/vmail/state/mxdeliv-smtp-only
	[ ! -f "$file" ] || strings -n 5 "$file"
}
fed_mxdeliv_forget() {
	rm -f "$FED_DIR/$1/vmail/state/mxdeliv-smtp-only"
}

# fed_mxdeliv_posts RELAY: how many POSTs the relay's nginx logged for /mxdeliv.
fed_mxdeliv_posts() {
	grep -c '"POST /mxdeliv ' "$FED_DIR/$1/log/mxdeliv-access.log" || true
}
