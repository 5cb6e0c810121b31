/* The transaction object: recipients grow with RCPT, up to Postfix's recipient limit. */
#include "smtp_tx.h"

#include "address.h"

#include <stdlib.h>
#include <string.h>

void smtp_tx_reset(struct smtp_tx *tx)
{
	free(tx->recipients);
	smtp_data_free(&tx->data);
	memset(tx, 0, sizeof *tx);
}

int smtp_tx_add_recipient(struct smtp_tx *tx, const struct smtp_path *path)
{
	if (tx->recipient_count == tx->recipient_size) {
		size_t size = tx->recipient_size > 0 ? tx->recipient_size * 2 : 4;
		if (size > SMTP_RECIPIENT_LIMIT)
			size = SMTP_RECIPIENT_LIMIT;
		if (size == tx->recipient_size)
			return -1;
		struct smtp_tx_recipient *r = realloc(tx->recipients, size * sizeof *r);
		if (r == NULL)
			return -1;
		tx->recipients = r;
		tx->recipient_size = size;
	}
	struct smtp_tx_recipient *r = &tx->recipients[tx->recipient_count++];
	memset(r, 0, sizeof *r);
	memcpy(r->address, path->address, path->address_len);
	/* An address that has no canonical form keeps "": no account is called that. */
	if (address_canonical(path->address, path->address_len, r->canonical,
			      sizeof r->canonical) < 0)
		r->canonical[0] = '\0';
	return 0;
}

const char *smtp_tx_message(const struct smtp_tx *tx)
{
	return tx->data.message != NULL ? tx->data.message : "";
}
