#!/bin/sh
# Port 443 (README "Port 443"): what nginx's ALPN router adds to a new IMAP or SMTP connection
# (TCP, TLS handshake, greeting) against Dovecot's and Postfix's own implicit-TLS ports, as
# p50/p99 over ALPN_BENCH_CONNECTIONS sequential connections, and nginx's RSS with
# ALPN_BENCH_IDLE idle IMAP connections held through port 443.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

ROOT=$(pwd)
CONNECTIONS=${ALPN_BENCH_CONNECTIONS:-300}
IDLE=${ALPN_BENCH_IDLE:-300}
command -v python3 >/dev/null || { echo "alpn: python3 is missing"; exit 1; }

BATS_TEST_DIRNAME=$ROOT/tests/bats
# shellcheck source=../tests/bats/lib/common.bash
. "$ROOT/tests/bats/lib/common.bash"
# shellcheck source=../tests/bats/lib/relay.bash
. "$ROOT/tests/bats/lib/relay.bash"
export CHATMAIL_BIN="${CHATMAIL_BIN:-$ROOT/build}"
relay_start 127.0.0.1 >/dev/null 2>&1 || { echo "alpn: the relay did not start (scripts/relay start)"; exit 1; }
trap 'relay_stop >/dev/null' EXIT

# connect PORT ALPN [IDLE]: p50 and p99 in ms of connect + TLS + greeting; with IDLE, holds that
# many greeted connections and prints nginx's summed RSS in KiB meanwhile.
connect() {
	python3 - "$@" "$CONNECTIONS" "$RUN_DIR/run/nginx.pid" <<'PY'
import os, socket, ssl, sys, time
port, alpn, idle, count, pidfile = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
if alpn != "-":
    context.set_alpn_protocols([alpn])

def greeted():
    tls = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
    tls.recv(4096)
    return tls

if idle != "-":
    held = [greeted() for _ in range(int(idle))]
    master = open(pidfile).read().split()[0]
    pids = [master] + open(f"/proc/{master}/task/{master}/children").read().split()
    rss = sum(int(line.split()[1]) for pid in pids for line in open(f"/proc/{pid}/status")
              if line.startswith("VmRSS:"))
    print(f"{rss}")
    sys.exit(0)
times = []
for _ in range(count):
    start = time.perf_counter()
    greeted().close()
    times.append((time.perf_counter() - start) * 1000)
times.sort()
print(f"p50 {times[len(times) // 2]:.2f} ms, p99 {times[int(len(times) * 0.99)]:.2f} ms")
PY
}

echo "alpn: $CONNECTIONS sequential connections each (TCP, TLS, greeting), loopback"
echo "  IMAP on its own port ($IMAPS_PORT): $(connect "$IMAPS_PORT" - -)"
echo "  IMAP on port 443 (ALPN imap):  $(connect "$HTTPS_PORT" imap -)"
echo "  SMTP on its own port ($SMTPS_PORT): $(connect "$SMTPS_PORT" - -)"
echo "  SMTP on port 443 (ALPN smtp):  $(connect "$HTTPS_PORT" smtp -)"
before=$(connect "$HTTPS_PORT" imap 0)
during=$(connect "$HTTPS_PORT" imap "$IDLE")
echo "  nginx RSS: $before KiB, with $IDLE idle IMAP connections through port 443 $during KiB" \
	"($(((during - before) * 1024 / IDLE)) bytes each)"
