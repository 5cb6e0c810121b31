/* One SMTP mail transaction, from XFORWARD and MAIL to the end of DATA (OpenSMTPD's smtp_tx):
 * what the policy decides over and what the reinject client hands on. The session around it
 * (state, errors, replies) lives in smtp_server. */
#ifndef CHATMAIL_SMTP_TX_H
#define CHATMAIL_SMTP_TX_H

#include "smtp.h"
#include "smtp_data.h"

#include <stdbool.h>
#include <stddef.h>

struct smtp_tx_recipient {
	char address[SMTP_ADDRESS_MAX + 1]; /* as the client wrote it, without <> */
	char canonical[SMTP_ADDRESS_MAX + 1]; /* as Postfix and Dovecot deliver it */
	bool enforce; /* incoming: the owner refuses unencrypted mail */
};

struct smtp_tx {
	struct smtp_xforward xforward; /* the original client, from Postfix */
	struct smtp_path mail;
	char sender[SMTP_ADDRESS_MAX + 1]; /* the canonical MAIL FROM address, "" for <> */
	struct smtp_tx_recipient *recipients;
	size_t recipient_count;
	size_t recipient_size;
	struct smtp_data data; /* the message, once DATA ended */
};

/* Ends the transaction: everything freed and zeroed. */
void smtp_tx_reset(struct smtp_tx *tx);

/* Adds a recipient (at most SMTP_RECIPIENT_LIMIT) with its canonical form; -1 when out of
 * memory. The new recipient is the last one. */
int smtp_tx_add_recipient(struct smtp_tx *tx, const struct smtp_path *path);

/* The message; "" before DATA. */
const char *smtp_tx_message(const struct smtp_tx *tx);

#endif
