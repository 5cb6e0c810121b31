#!/usr/bin/env bats
# newemail run exactly as fcgiwrap runs it: a CGI program with the CGI variables in a clean
# environment, its answer (Status line, headers, JSON body) on stdout.

load lib/common
load lib/dovecot

setup() {
	relay_dir
}

teardown() {
	dovecot_stop
}

# cgi [VAR=value...]: one request; the answer lands in $T/out, and STATUS, BODY are set.
cgi() {
	env -i PATH="$PATH" CHATMAIL_INI="$CHATMAIL_INI" CHATMAIL_LOG="$CHATMAIL_LOG" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" "$@" "$BIN/newemail" </dev/null >"$T/out"
	parse_answer
}

# cgi_as_nobody [VAR=value...]: cgi, run as nobody, the mail user of these tests.
cgi_as_nobody() {
	open_path_to "$T"
	touch "$T/log"
	chmod a+rw "$T/log"
	chmod a+r "$CHATMAIL_INI"
	env -i PATH="$PATH" CHATMAIL_INI="$CHATMAIL_INI" CHATMAIL_LOG="$CHATMAIL_LOG" \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" "$@" setpriv --reuid=65534 --regid=65534 \
		--clear-groups "$BIN/newemail" </dev/null >"$T/out"
	parse_answer
}

parse_answer() {
	STATUS=$(head -1 "$T/out" | tr -d '\r')
	BODY=$(awk 'body { print } /^\r?$/ { body = 1 }' "$T/out")
}

# header NAME: the value of a header of the last answer.
header() {
	awk -v name="$1" '/^\r?$/ { exit }
		tolower($0) ~ "^" tolower(name) ":" { sub(/^[^:]*: */, ""); sub(/\r$/, ""); print }' \
		"$T/out"
}

login() {
	printf '%s\0%s\0\0' "$1" "$2" | "$BIN/doveauth" /bin/true 3<&0
}

accounts() {
	sqlite3 "$T/passdb.sqlite" 'SELECT count(*) FROM users' 2>/dev/null || echo 0
}

# json_error: the body is exactly one JSON object with a non-empty "error" string.
json_error() {
	[ "$(jq -r '.error | type' <<<"$BODY")" = string ]
	[ -n "$(jq -r .error <<<"$BODY")" ]
	[ "$(header Content-Type)" = application/json ]
}

@test "newemail CGI: POST answers 200 JSON with a fresh address and a password that doveauth accepts" {
	cgi REQUEST_METHOD=POST
	[ "$STATUS" = "Status: 200 OK" ]
	[ "$(header Content-Type)" = application/json ]
	[ "$(header Cache-Control)" = no-store ]
	email=$(jq -r .email <<<"$BODY")
	password=$(jq -r .password <<<"$BODY")
	[[ "$email" =~ ^[a-z0-9]{9}@example\.org$ ]]
	[ "${#password}" -eq 12 ]
	[[ "$password" =~ ^[[:alnum:][:punct:]]+$ ]]
	[ "$(jq -r 'keys | join(",")' <<<"$BODY")" = email,password ]
	run login "$email" "$password"
	[ "$status" -eq 0 ]
	run login "$email" "${password}x"
	[ "$status" -eq 1 ]
	grep -q "Created address: $email" "$T/log"
}

@test "newemail CGI: the account is stored at once: a hash, never the password, and its protected maildir" {
	cgi REQUEST_METHOD=POST CONTENT_LENGTH= QUERY_STRING=
	[ "$STATUS" = "Status: 200 OK" ]
	email=$(jq -r .email <<<"$BODY")
	password=$(jq -r .password <<<"$BODY")
	[ "$(accounts)" -eq 1 ]
	stored=$(sqlite3 "$T/passdb.sqlite" "SELECT password FROM users WHERE addr = '$email'")
	[[ "$stored" == '{SHA512-CRYPT}$6$'* ]]
	[[ "$stored" != *"$password"* ]]
	[ -f "$T/mail/$email/enforceE2EEincoming" ]
	refute grep -qF -- "$password" "$T/log"
}

@test "newemail CGI: each answer a new address of username_max_length, a password of password_min_length + 3" {
	relay_dir "username_min_length = 5" "username_max_length = 14" "password_min_length = 20"
	for i in 1 2 3 4 5; do
		cgi REQUEST_METHOD=POST
		[ "$STATUS" = "Status: 200 OK" ]
		jq -r .email <<<"$BODY" >>"$T/emails"
		[ "$(jq -r '.password | length' <<<"$BODY")" -eq 23 ]
	done
	[ "$(sort -u "$T/emails" | wc -l)" -eq 5 ]
	refute grep -vE '^[a-z0-9]{14}@example\.org$' "$T/emails"
	[ "$(accounts)" -eq 5 ]
}

@test "newemail CGI: GET redirects a browser with 301 to dcaccount:https://<mail_domain>/new" {
	cgi REQUEST_METHOD=GET
	[ "$STATUS" = "Status: 301 Moved Permanently" ]
	[ "$(header Location)" = "dcaccount:https://example.org/new" ]
	[ -z "$BODY" ]
	[ "$(accounts)" -eq 0 ]
}

@test "newemail CGI: other methods get 405 with Allow: GET, POST and a JSON error" {
	for method in PUT DELETE HEAD OPTIONS post PROPFIND "$(printf 'X%.0s' {1..200})"; do
		cgi REQUEST_METHOD="$method"
		[ "$STATUS" = "Status: 405 Method Not Allowed" ]
		[ "$(header Allow)" = "GET, POST" ]
		json_error
	done
	[ "$(accounts)" -eq 0 ]
	[ "$(grep -c 'refused a .* request: only GET and POST' "$T/log")" -eq 7 ]
}

@test "newemail CGI: a query string is refused with 400 and nothing is created" {
	cgi REQUEST_METHOD=POST QUERY_STRING='username=admin'
	[ "$STATUS" = "Status: 400 Bad Request" ]
	json_error
	[ "$(accounts)" -eq 0 ]
	[ "$(grep -c 'query string' "$T/log")" -eq 1 ]
}

@test "newemail CGI: a body on POST is refused with 400, a bad CONTENT_LENGTH too, and nothing is created" {
	cgi REQUEST_METHOD=POST CONTENT_LENGTH=2 CONTENT_TYPE=application/json
	[ "$STATUS" = "Status: 400 Bad Request" ]
	json_error
	[[ "$BODY" == *"no request body"* ]]
	cgi REQUEST_METHOD=POST CONTENT_LENGTH=-5
	[ "$STATUS" = "Status: 400 Bad Request" ]
	json_error
	[ "$(accounts)" -eq 0 ]
	[ -z "$(ls "$T/mail")" ]
}

@test "newemail CGI: a huge body is refused with 413 without reading a byte of it" {
	head -c 3000000 /dev/zero >"$T/body"
	# The shared offset of fd 5 tells how much the program read of its stdin.
	exec 5<"$T/body"
	env -i PATH="$PATH" CHATMAIL_INI="$CHATMAIL_INI" CHATMAIL_LOG="$CHATMAIL_LOG" \
		REQUEST_METHOD=POST CONTENT_LENGTH=3000000 "$BIN/newemail" <&5 >"$T/out"
	offset=$(awk '/^pos:/ { print $2 }' /proc/self/fdinfo/5)
	exec 5<&-
	parse_answer
	[ "$STATUS" = "Status: 413 Content Too Large" ]
	json_error
	[ "$offset" -eq 0 ]
	[ "$(accounts)" -eq 0 ]
}

@test "newemail CGI: a missing REQUEST_METHOD is a 500 with a JSON error and one log line naming it" {
	cgi
	[ "$STATUS" = "Status: 500 Internal Server Error" ]
	json_error
	[ "$(wc -l <"$T/log")" -eq 1 ]
	grep -q 'error: .*no REQUEST_METHOD' "$T/log"
}

@test "newemail CGI: the nocreate file refuses creation with 503 and a JSON error" {
	touch "$T/nocreate"
	cgi REQUEST_METHOD=POST
	[ "$STATUS" = "Status: 503 Service Unavailable" ]
	json_error
	[[ "$(jq -r .error <<<"$BODY")" == *blocked* ]]
	[ "$(accounts)" -eq 0 ]
	rm "$T/nocreate"
	cgi REQUEST_METHOD=POST
	[ "$STATUS" = "Status: 200 OK" ]
}

@test "newemail CGI: too little free memory refuses creation with 503" {
	relay_dir "min_available_memory = 1000000G"
	cgi REQUEST_METHOD=POST
	[ "$STATUS" = "Status: 503 Service Unavailable" ]
	json_error
	[[ "$(jq -r .error <<<"$BODY")" == *memory* ]]
	[ "$(accounts)" -eq 0 ]
}

@test "newemail CGI: a database in a missing directory is a 500 with a JSON error and no half-made account" {
	relay_dir "passdb_path = $BATS_TEST_TMPDIR/gone/passdb.sqlite"
	cgi REQUEST_METHOD=POST
	[ "$STATUS" = "Status: 500 Internal Server Error" ]
	json_error
	[ -z "$(ls "$T/mail")" ]
	[ "$(wc -l <"$T/log")" -eq 1 ]
}

@test "newemail CGI: a database the program may not write is a 500 and stores nothing" {
	cgi REQUEST_METHOD=POST
	[ "$(accounts)" -eq 1 ]
	# The program runs as nobody, the database stays root's.
	chmod a+rw "$T/mail"
	chmod 0644 "$T/passdb.sqlite"
	cgi_as_nobody REQUEST_METHOD=POST
	[ "$STATUS" = "Status: 500 Internal Server Error" ]
	json_error
	[ "$(accounts)" -eq 1 ]
	[ "$(ls "$T/mail" | wc -l)" -eq 1 ]
}

@test "newemail CGI: an unreadable chatmail.ini is a 500 with a JSON error, not HTML" {
	CHATMAIL_INI=$T/missing.ini cgi REQUEST_METHOD=POST
	[ "$STATUS" = "Status: 500 Internal Server Error" ]
	json_error
	grep -q 'missing.ini' "$T/log"
}

@test "newemail CGI: an IP-only relay answers a dclogin_url that carries the address, password and host" {
	MAIL_DOMAIN=10.0.0.7 relay_dir
	cgi REQUEST_METHOD=POST
	[ "$STATUS" = "Status: 200 OK" ]
	email=$(jq -r .email <<<"$BODY")
	password=$(jq -r .password <<<"$BODY")
	url=$(jq -r .dclogin_url <<<"$BODY")
	[[ "$email" =~ ^[a-z0-9]{9}@\[10\.0\.0\.7\]$ ]]
	[[ "$url" == "dclogin:${email%@*}@%5B10.0.0.7%5D?p="*"&v=1&ic=3&sc=3&ih=10.0.0.7&sh=10.0.0.7" ]]
	# The password decodes back exactly, and nothing in it is left to break the query.
	p=${url#*\?p=}
	p=${p%%&v=1*}
	[[ "$p" =~ ^[A-Za-z0-9._~%-]+$ ]]
	[ "$(printf '%b' "${p//%/\\x}")" = "$password" ]
	run login "$email" "$password"
	[ "$status" -eq 0 ]
}

@test "newemail CGI: a self-signed '_' domain answers a dclogin_url without hosts; a CA-signed one none" {
	MAIL_DOMAIN=_chat.example.org relay_dir
	cgi REQUEST_METHOD=POST
	url=$(jq -r .dclogin_url <<<"$BODY")
	[[ "$url" == dclogin:*@_chat.example.org\?p=*"&v=1&ic=3&sc=3" ]]
	relay_dir
	cgi REQUEST_METHOD=POST
	[ "$(jq 'has("dclogin_url")' <<<"$BODY")" = false ]
}

@test "newemail CGI: the first IMAP login with the answer succeeds through a real Dovecot" {
	dovecot_start
	# As in production, the program runs as the mail user that owns the database.
	cgi_as_nobody REQUEST_METHOD=POST
	[ "$STATUS" = "Status: 200 OK" ]
	email=$(jq -r .email <<<"$BODY")
	password=$(jq -r .password <<<"$BODY")
	run imap_login "$email" "$password"
	[ "$status" -eq 0 ]
	[[ "$output" == *INBOX* ]]
	run imap_login "$email" "wrong-$password"
	[ "$status" -ne 0 ]
}
