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
	bool securejoin;    /* a cleartext Secure-Join request; the reference relay logs these
			     * as "Filtering encrypted mail" too */
	const char *reason; /* a short static English text for the log, never message content;
			     * for unencrypted mail, why it is not encrypted */
};

/* Outgoing mail from an authenticated user. msg is the whole message (headers and body, as
 * received after dot-unstuffing, CRLF or LF line ends). */
struct policy_result policy_outgoing(const struct config *config, const struct envelope *envelope,
				     const char *msg, size_t len);

/* Incoming mail from other servers. enforce[i] tells whether recipient i's maildir holds
 * the file enforceE2EEincoming (found by the caller). */
struct policy_result policy_incoming(const struct config *config, const struct envelope *envelope,
				     const bool *enforce, const char *msg, size_t len);

/* SPEC §4 "encrypted": multipart/encrypted with exactly two leaf parts, application/pgp-encrypted
 * "Version: 1" and application/octet-stream holding an armored PKESK/SKESK*, SEIPD message.
 * An armor header line makes it unencrypted unless allow_armor_header (incoming). */
bool policy_is_encrypted(const char *msg, size_t len, bool allow_armor_header);

/* A Secure-Join vc-request or vg-request: the header, and a multipart with exactly one
 * text/plain part saying "secure-join: vc-request" (or vg-request) in any case. */
bool policy_is_securejoin(const char *msg, size_t len);

#endif
