# nginx in front of newemail for a test or a benchmark: its own prefix under $T/nginx, HTTPS on
# a loopback port with a self-signed certificate for the relay's domain, and the /new snippets
# of conf/nginx rendered for one wiring: the native app under spawn-fcgi, or fcgiwrap.
# Call relay_dir first. NEWEMAIL_RATE and NEWEMAIL_BURST set the limit_req placeholders.
# shellcheck shell=bash

NEWEMAIL_DOMAIN=${MAIL_DOMAIN:-example.org}

# newemail_render TEMPLATE DEST: conf/nginx/TEMPLATE filled in for $T by chatmail-render, as the
# relay renders it.
newemail_render() {
	"$BIN/chatmail-render" -D "newemail_socket=$T/newemail.sock" \
		-D "fcgiwrap_socket=$T/fcgiwrap.sock" -D "newemail_bin=$BIN/newemail" \
		-D "chatmail_ini=$CHATMAIL_INI" -D "newemail_rate=${NEWEMAIL_RATE:-100000r/s}" \
		-D "newemail_burst=${NEWEMAIL_BURST:-100000}" "$ROOT/conf/nginx/$1" "$2"
}

# newemail_spawn NAME PROGRAM [ARGS...]: PROGRAM under spawn-fcgi on $T/NAME.sock, in
# NEWEMAIL_CHILDREN processes (default 1) whose pids land in $T/NAME.pid. Sanitizer reports go
# to $T/asan.* (spawn-fcgi points stderr at /dev/null).
newemail_spawn() {
	local name=$1
	shift
	rm -f "$T/$name.sock"
	ASAN_OPTIONS="log_path=$T/asan:${ASAN_OPTIONS:-}" \
		spawn-fcgi -F "${NEWEMAIL_CHILDREN:-1}" -s "$T/$name.sock" -M 0600 \
		-P "$T/$name.pid" -- "$@" >/dev/null 3>&-
}

# newemail_app_start: the native FastCGI app, as the relay runs it.
newemail_app_start() {
	newemail_spawn newemail "$BIN/newemail"
	NEWEMAIL_PID=$(head -1 "$T/newemail.pid")
}

# newemail_fcgiwrap_start: fcgiwrap, allowed to run newemail only.
newemail_fcgiwrap_start() {
	newemail_spawn fcgiwrap /usr/sbin/fcgiwrap -p "$BIN/newemail"
}

# newemail_nginx_start WIRING: nginx with newemail-WIRING.conf (fastcgi or fcgiwrap).
newemail_nginx_start() {
	local d="$T/nginx" user=""
	mkdir -p "$d/tmp"
	HTTPS_PORT=$(free_port)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=$NEWEMAIL_DOMAIN" -addext "subjectAltName=DNS:$NEWEMAIL_DOMAIN" \
		-keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
	newemail_render newemail-limits.conf "$d/limits.conf"
	newemail_render "newemail-$1.conf" "$d/new.conf"
	# As root, workers would drop to nobody and lose the 0600 sockets of the test.
	[ "$(id -u)" = 0 ] && user="user root root;"
	cat >"$d/nginx.conf" <<CONF
$user
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log info;
events { worker_connections 1024; }
http {
	access_log $d/access.log;
	client_body_temp_path $d/tmp/body;
	fastcgi_temp_path $d/tmp/fastcgi;
	proxy_temp_path $d/tmp/proxy;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	include $d/limits.conf;
	server {
		listen 127.0.0.1:$HTTPS_PORT ssl;
		server_name $NEWEMAIL_DOMAIN;
		ssl_certificate $d/cert.pem;
		ssl_certificate_key $d/key.pem;
		include $d/new.conf;
	}
}
CONF
	nginx -p "$d" -c "$d/nginx.conf" -e "$d/error.log" 3>&-
	wait_port "$HTTPS_PORT"
}

# newemail_alive PID: the process runs (a zombie that its new parent has not reaped yet is gone).
newemail_alive() {
	local state
	state=$(ps -o stat= -p "$1" 2>/dev/null) && [[ "$state" != Z* ]]
}

# newemail_stop: nginx and whatever spawn-fcgi started, each by its own pid file; waits up
# to 5 seconds for each to be gone, so its last words (a sanitizer report) are written.
newemail_stop() {
	local pidfile pid i
	for pidfile in "$T/nginx/nginx.pid" "$T/newemail.pid" "$T/fcgiwrap.pid"; do
		[ -s "$pidfile" ] || continue
		for pid in $(cat "$pidfile"); do
			kill "$pid" 2>/dev/null || continue
			for ((i = 0; i < 100; i++)); do
				newemail_alive "$pid" || break
				sleep 0.05
			done
		done
	done
	return 0
}

# newemail_url: the /new URL of the test's nginx.
newemail_url() {
	echo "https://$NEWEMAIL_DOMAIN:$HTTPS_PORT/new"
}

# newemail_curl [CURL ARGS...]: curl that trusts the test's certificate and reaches its nginx.
newemail_curl() {
	curl -sS --max-time 60 --cacert "$T/nginx/cert.pem" \
		--resolve "$NEWEMAIL_DOMAIN:$HTTPS_PORT:127.0.0.1" "$@"
}
