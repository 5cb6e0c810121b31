#!/usr/bin/env python3
"""imapcmd: logs in over IMAPS and sends each argument as one IMAP command, printing every
line of the answers (what the METADATA and push tests read).
usage: imapcmd.py PORT USER PASSWORD COMMAND..."""
import imaplib
import ssl
import sys

port, user, password, commands = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
imap = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=context, timeout=20)
imap.login(user, password)
status = 0
for command in commands:
    tag = imap._new_tag().decode()
    imap.send(f"{tag} {command}\r\n".encode())
    while True:
        line = imap.readline().decode(errors="replace").rstrip("\r\n")
        print(line)
        if line.startswith(tag + " "):
            if not line.startswith(tag + " OK"):
                status = 1
            break
imap.logout()
sys.exit(status)
