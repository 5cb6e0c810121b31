#!/usr/bin/env python3
"""lmtp: delivers messages to Dovecot's LMTP socket as Postfix does, one session each, and
prints how long each took in milliseconds (the push tests and bench/push.sh read them).
usage: lmtp.py SOCKET FROM TO [COUNT]"""
import smtplib
import sys
import time

socket, sender, recipient = sys.argv[1:4]
count = int(sys.argv[4]) if len(sys.argv) > 4 else 1
for i in range(count):
    message = (f"From: <{sender}>\r\nTo: <{recipient}>\r\nSubject: [...]\r\n"
               f"Message-ID: <{time.time_ns()}.{i}@push.test>\r\n\r\nhello {i}\r\n")
    start = time.monotonic()
    with smtplib.LMTP(socket) as lmtp:
        refused = lmtp.sendmail(sender, [recipient], message)
    took = (time.monotonic() - start) * 1000
    if refused:
        print(f"refused: {refused}", file=sys.stderr)
        sys.exit(1)
    print(f"{took:.2f}")
