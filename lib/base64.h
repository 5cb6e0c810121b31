/* A streaming base64 decoder (RFC 4648 alphabet), for MIME bodies and OpenPGP armor alike:
 * it decodes piece by piece into a bounded buffer and allocates nothing. */
#ifndef CHATMAIL_BASE64_H
#define CHATMAIL_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whitespace is skipped; strict mode rejects any other character outside the alphabet,
 * lenient mode (RFC 2045 §6.8) skips it. */
struct base64 {
	uint32_t bits;
	unsigned chars;	  /* characters of the current 4-character group */
	unsigned padding; /* '=' seen in the current group */
	bool strict;
	bool finished; /* the padding ended the data */
	bool error;
};
void base64_init(struct base64 *decoder, bool strict);
/* Decodes from in[len] into out[cap] until the input is used up, an error, or out has no room
 * for the next bytes; *used tells how much input was consumed. Returns the bytes written. */
size_t base64_decode(struct base64 *decoder, const char *in, size_t len, size_t *used,
		     unsigned char *out, size_t cap);
/* True when the data so far was valid and ended on a whole group. */
bool base64_end(const struct base64 *decoder);

#endif
