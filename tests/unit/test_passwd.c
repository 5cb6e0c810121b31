/* Password hashes and the randomness behind names and passwords. */
#include "passwd.h"
#include "random.h"
#include "test.h"

#include <crypt.h>

int main(void)
{
	char hash[PASSWD_HASH_MAX], other[PASSWD_HASH_MAX];

	CHECK(passwd_hash("correct horse", hash, sizeof hash) == 0);
	CHECK(strncmp(hash, "{SHA512-CRYPT}$6$", 17) == 0);
	CHECK(passwd_verify("correct horse", hash));
	CHECK(!passwd_verify("correct horsf", hash));
	CHECK(!passwd_verify("", hash));
	CHECK(!passwd_verify("correct horse", ""));
	CHECK(!passwd_verify("correct horse", "{SHA512-CRYPT}"));
	CHECK(!passwd_verify("correct horse", "{SHA512-CRYPT"));
	/* the same password gets a fresh salt each time */
	CHECK(passwd_hash("correct horse", other, sizeof other) == 0);
	CHECK(strcmp(hash, other) != 0);
	/* a hash without the scheme prefix, and another scheme libcrypt knows (yescrypt) */
	CHECK(passwd_verify("correct horse", hash + strlen("{SHA512-CRYPT}")));
	struct crypt_data data = {0};
	const char *yes = crypt_rn("s3cret-pass", "$y$j9T$abcdefghijklmnopqrstu.", &data, sizeof data);
	CHECK(yes != NULL && yes[0] == '$');
	CHECK(passwd_verify("s3cret-pass", yes));
	CHECK(!passwd_verify("s3cret-pasS", yes));
	/* too small an output buffer fails cleanly */
	CHECK(passwd_hash("correct horse", other, 20) == -1);
	char huge[PASSWD_MAX + 2];
	memset(huge, 'x', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	CHECK(passwd_hash(huge, other, sizeof other) == -1);
	CHECK(!passwd_verify(huge, hash));

	CHECK(passwd_equal("abc", "abc", 3));
	CHECK(!passwd_equal("abc", "abd", 3));

	/* random strings use only the alphabet, and all of it */
	char s[4001];
	int seen[2] = {0, 0};
	CHECK(random_string(s, 4000, "ab") == 0);
	CHECK(strlen(s) == 4000);
	for (int i = 0; i < 4000; i++) {
		if (s[i] == 'a')
			seen[0]++;
		else if (s[i] == 'b')
			seen[1]++;
	}
	CHECK(seen[0] + seen[1] == 4000);
	CHECK(seen[0] > 1700 && seen[1] > 1700);
	CHECK(random_string(s, 10, "") == -1);
	unsigned char bytes[32] = {0}, zero[32] = {0};
	CHECK(random_bytes(bytes, sizeof bytes) == 0);
	CHECK(memcmp(bytes, zero, sizeof bytes) != 0);
	return test_summary("passwd");
}
