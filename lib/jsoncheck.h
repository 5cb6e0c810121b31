/* A strict JSON reader that only checks and compacts: for a file we hand on as one line. */
#ifndef CHATMAIL_JSONCHECK_H
#define CHATMAIL_JSONCHECK_H

#include <stddef.h>

/* Nesting of arrays and objects we follow. */
#define JSONCHECK_DEPTH_MAX 32

/* Checks that in[0..len) is one JSON value (RFC 8259, surrounding whitespace allowed) and
 * writes it without the whitespace between tokens into out[size], NUL-terminated. Returns the
 * length, or -1 when it is not JSON, nests deeper than JSONCHECK_DEPTH_MAX or does not fit. */
long json_compact(const char *in, size_t len, char *out, size_t size);

#endif
