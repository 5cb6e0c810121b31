/* SPEC §4 incoming: what other servers' mail must pass, on port 25 (filtermail incoming) and on
 * HTTPS (mxdeliv) alike: recipients with an account, the policy's verdict, then DKIM. */
#ifndef CHATMAIL_INCOMING_H
#define CHATMAIL_INCOMING_H
#include "accounts.h"
#include "config.h"
#include "dkim_check.h"
#include "message.h"
#include "policy.h"
#include "smtp.h"
#include "smtp_tx.h"
#include <stdbool.h>
#include <stddef.h>

/* The reference's name: "1" turns incoming DKIM verification off, for tests of other things
 * only; every message then logs a warning. Nothing we ship sets it. */
#define INCOMING_SKIP_DKIM_ENV "FILTERMAIL_SKIP_DKIM"

/* A refusal: an SMTP code and its text ("5.1.1 ..."), what the client is answered. */
struct incoming_reply {
	int code;
	char text[SMTP_REPLY_TEXT_MAX + 1];
};

/* What the checks keep open between messages of one process; zero it, then set config. */
struct incoming_checker {
	const struct config *config;
	struct accounts *accounts; /* read-only, opened at the first lookup */
	struct dkim_checker *dkim; /* made at the first message that needs it */
};
void incoming_checker_close(struct incoming_checker *checker);

/* RCPT: 0 when r (canonical form set) is one of our accounts, with r->enforce read from its
 * maildir (a lookup that fails counts as enforcing); else -1 and *reply says why. */
int incoming_recipient(struct incoming_checker *checker, struct smtp_tx_recipient *r,
		       struct incoming_reply *reply);

/* Both directions (filtermail outgoing too): the reply and the reference's log lines for a
 * policy verdict, direction being "Outgoing" or "Incoming". 0 when the message may go on, else
 * -1 and *reply holds the refusal. */
int filter_verdict(const char *direction, const char *sender,
		   const struct policy_result *result, struct incoming_reply *reply);

/* DKIM after the policy accepted: 0 when the message carries a valid signature of its From:
 * domain (or that domain is a literal), else -1 and *reply holds the refusal. */
int incoming_authentic(struct incoming_checker *checker, const struct smtp_tx *tx,
		       const struct message *message, struct incoming_reply *reply);

/* The whole message of tx, whose recipients passed incoming_recipient: scanned, the incoming
 * policy, its verdict, DKIM. 0 when it may be handed on (*null_sender: from <>), else -1. */
int incoming_message(struct incoming_checker *checker, const struct smtp_tx *tx,
		     bool *null_sender, struct incoming_reply *reply);
#endif
