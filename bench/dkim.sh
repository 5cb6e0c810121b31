#!/bin/sh
# Incoming DKIM: the checker's setup once per filtermail process, and one check per message
# (RSA-2048 and Ed25519, 10 KB and 1 MB), keys from a DNS server on loopback.
set -eu
bin=${CHATMAIL_BIN:-build}
"$bin/bench/dkim-cost" 200
