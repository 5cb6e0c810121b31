#!/usr/bin/env python3
"""pushserver: a recording notification server on loopback for the push tests. Each POST's
body is appended as one line to DIR/posts; the answer's status is the number in DIR/status
(default 200); while DIR/hang exists, a POST is read and never answered.
usage: pushserver.py PORT DIR"""
import http.server
import os
import sys
import time

port, folder = int(sys.argv[1]), sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(os.path.join(folder, "posts"), "ab") as posts:
            posts.write(body + b"\n")
        while os.path.exists(os.path.join(folder, "hang")):
            time.sleep(0.1)
        try:
            with open(os.path.join(folder, "status")) as f:
                status = int(f.read().strip())
        except (OSError, ValueError):
            status = 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
