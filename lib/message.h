/* A message scanned once into what the policy asks (mblaze's "parse once, then query"): its
 * top-level entity, its one From address, whether it is encrypted as SPEC §4 says, and
 * whether it is a Secure-Join request. Pure: no I/O. */
#ifndef CHATMAIL_MESSAGE_H
#define CHATMAIL_MESSAGE_H

#include "mime.h"

#include <stdbool.h>
#include <stddef.h>

struct message {
	struct mime_entity top;
	bool has_from;	   /* exactly one From: field holding exactly one address */
	struct span from;  /* that address */
	/* NULL when the message is RFC 3156 PGP/MIME with a well-formed OpenPGP message, read
	 * one way only by every reader; else a short static reason for the log. */
	const char *encryption_problem;
	bool armor_header; /* encrypted, but the armor has a header line (allowed incoming) */
	bool securejoin;   /* a cleartext Secure-Join vc-request or vg-request */
};

/* Scans msg[0..len) (as received: dot-stuffing undone, CRLF or LF line ends). Spans in *m
 * point into msg. Returns 0, or -1 when memory for decoding the armored part ran out. */
int message_parse(const char *msg, size_t len, struct message *m);

#endif
