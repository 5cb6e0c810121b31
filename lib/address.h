/* Address rules of the relay: one '@', our domain, a localpart of [a-z0-9._-] within bounds. */
#ifndef CHATMAIL_ADDRESS_H
#define CHATMAIL_ADDRESS_H

#include "config.h"
#include "mailstore.h"

/* Postfix's and Dovecot's recipient_delimiter, rendered into both from this one definition:
 * user+detail@domain reaches user@domain. */
#define ADDRESS_DELIMITER "+"

enum address_status {
	ADDRESS_OK,
	ADDRESS_EMPTY,
	ADDRESS_TOO_LONG,
	ADDRESS_NO_AT,
	ADDRESS_MANY_AT,
	ADDRESS_FOREIGN_DOMAIN,
	ADDRESS_LOCALPART_LENGTH,
	ADDRESS_LOCALPART_CHARACTERS,
};

/* Checks addr[0..len) against the relay's rules. The domain must match address_domain
 * byte for byte: Dovecot lower-cases user names before asking, so one account never has
 * two spellings. */
enum address_status address_check(const struct config *config, const char *addr, size_t len);

/* The canonical form of an SMTP address as Postfix and Dovecot deliver it: the local part
 * unquoted, ASCII lower case, cut at the first ADDRESS_DELIMITER, the domain without a
 * trailing dot. Writes it NUL-terminated to out[cap] and returns its length, or -1 when it
 * does not fit or has no '@' after the local part. */
int address_canonical(const char *addr, size_t len, char *out, size_t cap);

/* A short English reason for logs. */
const char *address_status_text(enum address_status status);

#endif
