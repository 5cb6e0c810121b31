/* The checkpassword request Dovecot writes to fd 3: "user\0password\0timestamp\0". */
#ifndef CHATMAIL_CHECKPASSWORD_H
#define CHATMAIL_CHECKPASSWORD_H

#include <stddef.h>

/* Dovecot never sends more (CHECKPASSWORD_MAX_REQUEST_LEN in its source). */
#define CHECKPASSWORD_REQUEST_MAX 512

struct checkpassword_request {
	const char *user;     /* NUL-terminated, inside the parsed buffer */
	const char *password; /* NUL-terminated, inside the parsed buffer */
};

/* Splits buf[0..len) into user and password. Returns 0, or -1 when it is longer than
 * CHECKPASSWORD_REQUEST_MAX or a NUL after the user name or the password is missing. */
int checkpassword_parse(const char *buf, size_t len, struct checkpassword_request *request);

#endif
