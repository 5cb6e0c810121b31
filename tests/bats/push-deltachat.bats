#!/usr/bin/env bats
# A real Delta Chat client (deltachat-rpc-server, tests/e2e/e2e.mjs) against the whole local
# relay for what SPEC 5a gives it: the relay's TURN server, with credentials computed from the
# secret, in core's ICE servers for calls. (Core sends a push device token only when the app
# hands one to its account manager, which the pinned rpc-server has no method for: push.bats
# drives the relay's side of that exchange with Delta Chat's own SETMETADATA.)

load lib/common
load lib/relay

setup_file() {
	e2e_installed
	relay_start 127.0.0.1
	export E2E_DIR=$BATS_FILE_TMPDIR/devices
}

teardown_file() {
	relay_stop
}

dc() {
	node "$ROOT/tests/e2e/e2e.mjs" "$@"
}

@test "Delta Chat's ICE servers for calls are the relay's TURN server with valid credentials" {
	run dc account A
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	run dc ice A
	echo "$output"
	[ "$status" -eq 0 ]
	servers=$(sed -n 's/^ok: A ICE servers: //p' <<<"$output")
	turn=$(jq -c '[.[] | select(any(.urls[]; startswith("turn:")))][0]' <<<"$servers")
	[ "$turn" != null ]
	jq -e --arg url "turn:127.0.0.1:$((PORT_BASE + 19))" 'any(.urls[]; . == $url)' <<<"$turn"
	username=$(jq -r .username <<<"$turn")
	credential=$(jq -r .credential <<<"$turn")
	secret=$(cat "$RUN_DIR/vmail/state/turn-secret")
	[ "$credential" = "$(printf %s "$username" | openssl dgst -sha1 -hmac "$secret" -binary | base64)" ]
	[ "$username" -gt "$(date +%s)" ]
}
