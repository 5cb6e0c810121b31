/* SPEC §4 decisions over one whole message: may it leave (outgoing) or enter (incoming)? */
#ifndef CHATMAIL_POLICY_H
#define CHATMAIL_POLICY_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>

struct envelope {
	const char *from;              /* MAIL FROM address without <>, "" for the null sender */
	const char *const *recipients; /* RCPT TO addresses without <> */
	size_t recipient_count;
};

enum policy_verdict {
	POLICY_ACCEPT,               /* forward the message */
	POLICY_REJECT_FROM_MISMATCH, /* outgoing: From: header is not the envelope sender (500) */
	POLICY_REJECT_UNENCRYPTED,   /* 523 Encryption Needed: Invalid Unencrypted Mail */
};

struct policy_result {
	enum policy_verdict verdict;
	bool encrypted;     /* the message is RFC 3156 PGP/MIME as SPEC §4 defines it */
	const char *reason; /* a short static English text for the log, never message content */
};

/* Outgoing mail from an authenticated user. msg is the whole message (headers and body, as
 * received after dot-unstuffing, CRLF or LF line ends). */
struct policy_result policy_outgoing(const struct config *config, const struct envelope *envelope,
				     const char *msg, size_t len);

/* Incoming mail from other servers. enforce[i] tells whether recipient i's maildir holds
 * the file enforceE2EEincoming (found by the caller). */
struct policy_result policy_incoming(const struct config *config, const struct envelope *envelope,
				     const bool *enforce, const char *msg, size_t len);

#endif
