/* Randomness from the kernel's CSPRNG (getrandom(2)). */
#ifndef CHATMAIL_RANDOM_H
#define CHATMAIL_RANDOM_H

#include <stddef.h>

/* Fills buf with len random bytes. Returns 0, or -1 when the kernel gives none. */
int random_bytes(void *buf, size_t len);

/* Writes len characters drawn uniformly from alphabet, then a NUL (out has len + 1 bytes). */
int random_string(char *out, size_t len, const char *alphabet);

#endif
