#!/usr/bin/python3
"""A TLS client for tests/bats/alpn.bats and relay.bats: connects from a chosen source address
with a chosen ALPN (or none; --plain: no TLS at all), reads the server's greeting (none with
--client-first, for HTTP), then sends each LINE and reads its whole reply (up to an SMTP
reply's last line, an IMAP tagged line or a continuation, or the server closing, a reset too),
printing everything the server said. The certificate is not checked: the test relay's is
self-signed.

usage: tls-alpn.py [--bind ADDR] [--alpn PROTO | --plain] [--client-first] HOST PORT [LINE]...
"""
import argparse
import re
import socket
import ssl
import sys

LAST_LINE = re.compile(rb"(^|\r\n)([0-9]{3} [^\r\n]*|[A-Za-z0-9.]+ (OK|NO|BAD)[^\r\n]*|\* (OK|BYE)[^\r\n]*|\+[^\r\n]*)\r\n$")


def reply(tls):
    data = b""
    while not LAST_LINE.search(data):
        try:
            chunk = tls.recv(65536)
        except ConnectionResetError:  # closed with our line unread: closed all the same
            chunk = b""
        if not chunk:
            break
        data += chunk
    sys.stdout.write(data.decode(errors="replace"))
    sys.stdout.flush()


parser = argparse.ArgumentParser()
parser.add_argument("--bind", default="")
parser.add_argument("--alpn")
parser.add_argument("--client-first", action="store_true")
parser.add_argument("--plain", action="store_true")
parser.add_argument("host")
parser.add_argument("port", type=int)
parser.add_argument("lines", nargs="*")
args = parser.parse_args()

context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
if args.alpn:
    context.set_alpn_protocols([args.alpn])

raw = socket.create_connection((args.host, args.port), timeout=10, source_address=(args.bind, 0))
with raw if args.plain else context.wrap_socket(raw) as tls:
    if not args.client_first:
        reply(tls)
    for line in args.lines:
        tls.sendall(line.encode() + b"\r\n")
        reply(tls)
