/* Password hashes: crypt(3) strings through libcrypt, stored as "{SCHEME}hash". */
#ifndef CHATMAIL_PASSWD_H
#define CHATMAIL_PASSWD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWD_HASH_MAX 512
#define PASSWD_MAX 256

/* Writes "{SHA512-CRYPT}$6$salt$hash" to out. Returns 0, or -1 when libcrypt fails. */
int passwd_hash(const char *password, char *out, size_t out_size);

/* True when password matches the stored hash (with or without a "{SCHEME}" prefix, any
 * scheme libcrypt knows). The final comparison takes the same time wherever it differs. */
bool passwd_verify(const char *password, const char *stored);

/* Constant-time comparison of two equal-length buffers. */
bool passwd_equal(const void *a, const void *b, size_t len);

#endif
