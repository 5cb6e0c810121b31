#!/usr/bin/env bats
# POST /new through real nginx over HTTPS, in both wirings of conf/nginx: the native FastCGI
# app under spawn-fcgi, and the CGI program under fcgiwrap.

load lib/common
load lib/newemail

setup() {
	relay_dir
}

teardown() {
	newemail_stop
	# A sanitizer report of the app (under spawn-fcgi its stderr is /dev/null).
	if ls "$T"/asan.* >/dev/null 2>&1; then
		cat "$T"/asan.* >&2
		return 1
	fi
}

login() {
	printf '%s\0%s\0\0' "$1" "$2" | "$BIN/doveauth" /bin/true 3<&0
}

accounts() {
	sqlite3 "$T/passdb.sqlite" 'SELECT count(*) FROM users' 2>/dev/null || echo 0
}

# request EXPECTED_CODE [CURL ARGS...]: one request to $URL, else /new; its headers land in
# $T/headers, its body in BODY; fails unless the status is EXPECTED_CODE.
request() {
	local want=$1 code
	shift
	code=$(newemail_curl -D "$T/headers" -o "$T/body" -w "%{http_code}" "$@" "${URL:-$(newemail_url)}")
	BODY=$(cat "$T/body")
	[ "$code" = "$want" ] || {
		echo "wanted $want, got $code: $BODY" >&2
		return 1
	}
}

header() {
	awk -v name="$1" 'tolower($0) ~ "^" tolower(name) ":" {
		sub(/^[^:]*: */, ""); sub(/\r$/, ""); print }' "$T/headers"
}

# json_error: the last answer is a JSON object with an "error" string, never an HTML page.
json_error() {
	[[ "$(header Content-Type)" == application/json* ]]
	[ -n "$(jq -r '.error | strings' <<<"$BODY")" ]
}

# post_many N PARALLEL: N POSTs, PARALLEL at a time; the answers land in $T/answers/, one
# status code per line in $T/codes.
post_many() {
	local i
	mkdir -p "$T/answers"
	for ((i = 1; i <= $1; i++)); do
		printf 'url = "%s"\noutput = "%s/answers/%d"\n' "$(newemail_url)" "$T" "$i"
	done >"$T/curl.conf"
	newemail_curl -X POST --parallel --parallel-max "$2" -K "$T/curl.conf" \
		-w '%{http_code}\n' >"$T/codes"
}

# credentials: "email NUL password NUL" of every answer in $T/answers/.
credentials() {
	find "$T/answers" -type f -exec jq -j '.email, "\u0000", .password, "\u0000"' {} +
}

@test "newemail nginx: 1000 accounts through nginx and spawn-fcgi: all distinct, valid, and each logs in" {
	newemail_app_start
	newemail_nginx_start fastcgi
	post_many 1000 8
	[ "$(grep -c '^200$' "$T/codes")" -eq 1000 ]
	credentials >"$T/credentials"
	n=0
	while IFS= read -r -d '' email && IFS= read -r -d '' password; do
		[[ "$email" =~ ^[a-z0-9]{9}@example\.org$ ]] || {
			echo "bad address: $email" >&2
			return 1
		}
		[ "${#password}" -eq 12 ]
		[[ "$password" =~ ^[[:alnum:][:punct:]]+$ ]]
		login "$email" "$password" || {
			echo "$email cannot log in" >&2
			return 1
		}
		echo "$email" >>"$T/emails"
		n=$((n + 1))
	done <"$T/credentials"
	[ "$n" -eq 1000 ]
	[ "$(sort -u "$T/emails" | wc -l)" -eq 1000 ]
	[ "$(accounts)" -eq 1000 ]
	[ "$(grep -c 'Created address: ' "$T/log")" -eq 1000 ]
	# one process answered them all, and serves on
	newemail_alive "$NEWEMAIL_PID"
	# with the database open once: one descriptor on it, none leaked
	[ "$(find "/proc/$NEWEMAIL_PID/fd" -lname "$T/passdb.sqlite" | wc -l)" -eq 1 ]
	[ "$(find "/proc/$NEWEMAIL_PID/fd" | wc -l)" -lt 20 ]
}

@test "newemail nginx: the FastCGI app outlives clients that hang up mid-request, bad requests and a burst" {
	newemail_app_start
	newemail_nginx_start fastcgi
	# A request sent whole, then the connection closed before the answer comes.
	for i in $(seq 20); do
		printf 'POST /new HTTP/1.1\r\nHost: example.org\r\nContent-Length: 0\r\n\r\n' |
			timeout 10 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$HTTPS_PORT" \
				-servername example.org >/dev/null 2>&1 || true
	done
	# A request cut off in its headers, and one cut off in its body.
	printf 'POST /new HTTP/1.1\r\nHost: exa' |
		timeout 10 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$HTTPS_PORT" \
			>/dev/null 2>&1 || true
	printf 'POST /new HTTP/1.1\r\nHost: example.org\r\nContent-Length: 100\r\n\r\nab' |
		timeout 10 openssl s_client -quiet -no_ign_eof -connect "127.0.0.1:$HTTPS_PORT" \
			>/dev/null 2>&1 || true
	request 400 -X POST --data-binary 'x=1'
	request 405 -X DELETE
	URL="$(newemail_url)?a=b" request 400 -X POST
	post_many 200 50
	[ "$(grep -c '^200$' "$T/codes")" -eq 200 ]
	request 200 -X POST
	newemail_alive "$NEWEMAIL_PID"
}

@test "newemail nginx: every answer through nginx is JSON or a redirect: 301, 400, 405, 413, 503, 500, 502" {
	newemail_app_start
	newemail_nginx_start fastcgi

	request 301
	[ "$(header Location)" = "dcaccount:https://example.org/new" ]

	request 405 -X PUT
	[ "$(header Allow)" = "GET, POST" ]
	json_error

	URL="$(newemail_url)?username=root" request 400 -X POST
	json_error
	request 400 -X POST --data-binary '{"a": 1}'
	json_error
	head -c 2000000 /dev/zero >"$T/big"
	request 413 -X POST --data-binary @"$T/big"
	json_error
	[ "$(accounts)" -eq 0 ]

	touch "$T/nocreate"
	request 503 -X POST
	json_error
	[[ "$(jq -r .error <<<"$BODY")" == *blocked* ]]
	rm "$T/nocreate"

	# The database goes away and comes back: 500 meanwhile, the same process serves on.
	request 200 -X POST
	mv "$T/passdb.sqlite" "$T/passdb.moved"
	mkdir "$T/passdb.sqlite" # where no database can be opened
	request 500 -X POST
	json_error
	request 500 -X POST
	rmdir "$T/passdb.sqlite"
	mv "$T/passdb.moved" "$T/passdb.sqlite"
	request 200 -X POST
	[ "$(accounts)" -eq 2 ]

	kill "$NEWEMAIL_PID"
	while newemail_alive "$NEWEMAIL_PID"; do sleep 0.05; done
	request 502 -X POST
	json_error
}

@test "newemail nginx: limit_req answers 429 with JSON once a client's burst is spent" {
	NEWEMAIL_RATE=1r/m NEWEMAIL_BURST=2 newemail_app_start
	NEWEMAIL_RATE=1r/m NEWEMAIL_BURST=2 newemail_nginx_start fastcgi
	request 200 -X POST
	request 200 -X POST
	request 200 -X POST
	request 429 -X POST
	json_error
	[ "$(accounts)" -eq 3 ]
}

@test "newemail nginx: the fcgiwrap wiring: accounts that log in, the redirect, and JSON errors" {
	newemail_fcgiwrap_start
	newemail_nginx_start fcgiwrap
	post_many 30 4
	[ "$(grep -c '^200$' "$T/codes")" -eq 30 ]
	credentials >"$T/credentials"
	while IFS= read -r -d '' email && IFS= read -r -d '' password; do
		login "$email" "$password"
		echo "$email" >>"$T/emails"
	done <"$T/credentials"
	[ "$(sort -u "$T/emails" | wc -l)" -eq 30 ]
	[ "$(grep -c 'Created address: ' "$T/log")" -eq 30 ]

	request 301
	[ "$(header Location)" = "dcaccount:https://example.org/new" ]
	request 405 -X PATCH
	[ "$(header Allow)" = "GET, POST" ]
	json_error
	request 400 -X POST --data-binary 'x'
	json_error
	head -c 2000000 /dev/zero >"$T/big"
	request 413 -X POST --data-binary @"$T/big"
	json_error
	touch "$T/nocreate"
	request 503 -X POST
	json_error
	[ "$(accounts)" -eq 30 ]
}

@test "newemail nginx: the FastCGI app reads chatmail.ini once, at its start" {
	newemail_app_start
	newemail_nginx_start fastcgi
	request 200 -X POST
	[[ "$(jq -r .email <<<"$BODY")" == *@example.org ]]
	sed -i 's/^mail_domain = .*/mail_domain = other.example/' "$CHATMAIL_INI"
	request 200 -X POST
	[[ "$(jq -r .email <<<"$BODY")" == *@example.org ]]
	request 301
	[ "$(header Location)" = "dcaccount:https://example.org/new" ]
}
