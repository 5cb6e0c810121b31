/* Password hashing through libcrypt: SHA512-CRYPT for new hashes, any known scheme to verify. */
#include "passwd.h"

#include <crypt.h>
#include <stdio.h>
#include <string.h>

#define SCHEME_SHA512 "{SHA512-CRYPT}"

bool passwd_equal(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char diff = 0;
	for (size_t i = 0; i < len; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

int passwd_hash(const char *password, char *out, size_t out_size)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data data;

	if (strlen(password) > PASSWD_MAX)
		return -1;
	/* NULL random bytes: libxcrypt draws the salt from the kernel itself. */
	if (crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof salt) == NULL)
		return -1;
	memset(&data, 0, sizeof data);
	const char *hash = crypt_rn(password, salt, &data, sizeof data);
	if (hash == NULL || hash[0] == '*')
		return -1;
	int n = snprintf(out, out_size, "%s%s", SCHEME_SHA512, hash);
	explicit_bzero(&data, sizeof data);
	return n > 0 && (size_t)n < out_size ? 0 : -1;
}

bool passwd_verify(const char *password, const char *stored)
{
	struct crypt_data data;

	if (strlen(password) > PASSWD_MAX)
		return false;
	/* Dovecot's "{SCHEME}" prefix; crypt(3) reads the scheme from the hash itself. */
	if (stored[0] == '{') {
		const char *end = strchr(stored, '}');
		if (end == NULL)
			return false;
		stored = end + 1;
	}
	if (stored[0] == '\0')
		return false;
	memset(&data, 0, sizeof data);
	const char *hash = crypt_rn(password, stored, &data, sizeof data);
	bool ok = hash != NULL && hash[0] != '*' && strlen(hash) == strlen(stored) &&
		  passwd_equal(hash, stored, strlen(stored));
	explicit_bzero(&data, sizeof data);
	return ok;
}
