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
	on "$relay" postfix -c "$FED_DIR/$relay/etc/postfix" "$@"
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
