/* The kernel's CSPRNG, and uniform strings from it by rejection sampling. */
#include "random.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

int random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int random_string(char *out, size_t len, const char *alphabet)
{
	size_t size = strlen(alphabet);
	if (size == 0 || size > 256)
		return -1;
	/* Bytes at or above limit would favour the first characters: draw again. */
	unsigned limit = 256 - 256 % (unsigned)size;
	unsigned char pool[64];
	size_t used = sizeof pool, i = 0;
	while (i < len) {
		if (used == sizeof pool) {
			if (random_bytes(pool, sizeof pool) != 0)
				return -1;
			used = 0;
		}
		unsigned char byte = pool[used++];
		if (byte < limit)
			out[i++] = alphabet[byte % size];
	}
	out[len] = '\0';
	return 0;
}
