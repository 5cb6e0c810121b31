/* SPEC §4 decisions over one whole transaction: may its message leave (outgoing) or enter
 * (incoming)? Pure: the transaction and the scanned message in, a verdict out. */
#ifndef CHATMAIL_POLICY_H
#define CHATMAIL_POLICY_H

#include "config.h"
#include "message.h"
#include "smtp_tx.h"

#include <stdbool.h>

enum policy_verdict {
	POLICY_ACCEPT,		     /* forward the message */
	POLICY_REJECT_FROM_MISMATCH, /* outgoing: From: is not the envelope sender (5xx) */
	POLICY_REJECT_NO_FROM,	     /* incoming: no single From: address to read (5xx) */
	POLICY_REJECT_UNENCRYPTED,   /* 523 Encryption Needed: Invalid Unencrypted Mail */
};

struct policy_result {
	enum policy_verdict verdict;
	bool encrypted;	 /* the message is RFC 3156 PGP/MIME as SPEC §4 defines it */
	bool securejoin; /* a cleartext Secure-Join request; the reference relay logs these
			  * as "Filtering encrypted mail" too */
	bool null_sender; /* incoming: hand it on with an empty envelope sender, because the
			   * envelope sender is not the From: address (no bounce to a forgery) */
	bool bounce; /* incoming: a cleartext delivery report of a mailer daemon, let through */
	const char *reason; /* a short static English text for the log, never message content;
			     * for unencrypted mail, why it is not encrypted */
};

/* Outgoing mail from an authenticated user: tx->sender is the canonical MAIL FROM. */
struct policy_result policy_outgoing(const struct config *config, const struct smtp_tx *tx,
				     const struct message *message);

/* Incoming mail from other servers: each recipient's enforce flag was set at RCPT time. */
struct policy_result policy_incoming(const struct smtp_tx *tx, const struct message *message);

#endif
