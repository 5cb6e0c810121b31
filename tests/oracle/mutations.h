/* Deterministic mutations of encrypted messages for the oracle: header edits of every
 * encrypted corpus message, and PGP/MIME structures built around one armored message. */
#ifndef CHATMAIL_ORACLE_MUTATIONS_H
#define CHATMAIL_ORACLE_MUTATIONS_H

#include <stddef.h>

enum expectation {
	ANY,	 /* whatever our policy says, the oracle checks what it accepts */
	IS_BASE, /* a message the following mutations start from: must be accepted */
	AS_BASE, /* still canonical PGP/MIME: must get the verdict of its base */
};

typedef void oracle_input_fn(const char *name, const char *msg, size_t len, enum expectation expect,
			     void *context);

/* The base (msg, a corpus message named name) edited in its top-level header; fields around
 * header_size_limit bytes long among them. */
void header_mutations(const char *name, const char *msg, size_t len, size_t header_size_limit,
		      oracle_input_fn *fn, void *context);

/* PGP/MIME built around the armored message of encrypted_eml, with CRLF and with LF line ends:
 * transfer encodings, parameters, boundaries, part headers, delimiters. */
void structure_mutations(const char *encrypted_eml, size_t len, oracle_input_fn *fn, void *context);

#endif
