/* Address rules of SPEC §2. */
#include "address.h"
#include "test.h"

static struct config config;

static enum address_status check(const char *addr)
{
	return address_check(&config, addr, strlen(addr));
}

int main(void)
{
	struct config_error error;
	const char *ini = "[params]\nmail_domain = example.org\n";
	CHECK(config_parse(&config, ini, strlen(ini), &error, NULL, NULL) == 0);

	CHECK(check("abcdefghi@example.org") == ADDRESS_OK);
	CHECK(check("a.c-e_g9i@example.org") == ADDRESS_OK);
	CHECK(check("") == ADDRESS_EMPTY);
	CHECK(check("abcdefghi") == ADDRESS_NO_AT);
	CHECK(check("abcdefghi@example.org@x") == ADDRESS_MANY_AT);
	CHECK(check("abcdefghi@example.net") == ADDRESS_FOREIGN_DOMAIN);
	CHECK(check("abcdefghi@EXAMPLE.org") == ADDRESS_FOREIGN_DOMAIN);
	CHECK(check("abcdefghi@example.org.") == ADDRESS_FOREIGN_DOMAIN);
	CHECK(check("abcdefghi@") == ADDRESS_FOREIGN_DOMAIN);
	CHECK(check("abcdefgh@example.org") == ADDRESS_LOCALPART_LENGTH);
	CHECK(check("abcdefghij@example.org") == ADDRESS_LOCALPART_LENGTH);
	CHECK(check("Abcdefghi@example.org") == ADDRESS_LOCALPART_CHARACTERS);
	CHECK(check("abcd/efgh@example.org") == ADDRESS_LOCALPART_CHARACTERS);
	CHECK(check("abcd..fgh@example.org") == ADDRESS_LOCALPART_CHARACTERS);
	CHECK(check(".bcdefghi@example.org") == ADDRESS_LOCALPART_CHARACTERS);
	CHECK(check("abcd efgh@example.org") == ADDRESS_LOCALPART_CHARACTERS);
	CHECK(check("abcd\xc3\xa9" "fgh@example.org") == ADDRESS_LOCALPART_CHARACTERS);
	CHECK(check("abcd\tefgh@example.org") == ADDRESS_LOCALPART_CHARACTERS);
	char nul[] = "abcd\0efgh@example.org";
	CHECK(address_check(&config, nul, sizeof nul - 1) == ADDRESS_LOCALPART_CHARACTERS);
	char long_addr[MAILSTORE_ADDRESS_MAX + 10];
	memset(long_addr, 'a', sizeof long_addr - 1);
	long_addr[sizeof long_addr - 1] = '\0';
	CHECK(check(long_addr) == ADDRESS_TOO_LONG);
	CHECK(strlen(address_status_text(ADDRESS_MANY_AT)) > 0);

	/* an IP-only relay: addresses carry the domain literal */
	ini = "[params]\nmail_domain = 192.0.2.7\nusername_min_length = 3\n";
	CHECK(config_parse(&config, ini, strlen(ini), &error, NULL, NULL) == 0);
	CHECK(check("abcdefghi@[192.0.2.7]") == ADDRESS_OK);
	CHECK(check("abc@[192.0.2.7]") == ADDRESS_OK);
	CHECK(check("ab@[192.0.2.7]") == ADDRESS_LOCALPART_LENGTH);
	CHECK(check("abcdefghi@192.0.2.7") == ADDRESS_FOREIGN_DOMAIN);

	/* The canonical form Postfix and Dovecot deliver to. */
	static const struct {
		const char *in, *out; /* out NULL: no canonical form */
	} canonical[] = {
	    {"user@example.org", "user@example.org"},
	    {"User@Example.ORG", "user@example.org"},
	    {"user+tag@example.org", "user@example.org"},
	    {"user+@example.org", "user@example.org"},
	    {"user+a+b@example.org", "user@example.org"},
	    {"\"user\"@example.org", "user@example.org"},
	    {"\"us\\er\"@example.org", "user@example.org"},
	    {"\"User+x\"@example.org.", "user@example.org"},
	    {"user@example.org.", "user@example.org"},
	    {"user@[192.0.2.7]", "user@[192.0.2.7]"},
	    {"+tag@example.org", "@example.org"},
	    {"\"a@b\"@example.org", "a@b@example.org"},
	    {"a@b@example.org", "a@b@example.org"},
	    {"user@example.org..", "user@example.org."},
	    {"user", NULL},
	    {"", NULL},
	    {"\"user@example.org", NULL},
	    {"\"user\"example.org", NULL},
	};
	for (size_t i = 0; i < sizeof canonical / sizeof canonical[0]; i++) {
		char out[MAILSTORE_ADDRESS_MAX + 1];
		int n = address_canonical(canonical[i].in, strlen(canonical[i].in), out, sizeof out);
		bool ok = canonical[i].out == NULL
			      ? n < 0
			      : n == (int)strlen(canonical[i].out) && strcmp(out, canonical[i].out) == 0;
		CHECK(ok);
		if (!ok)
			fprintf(stderr, "canonical(%s) = %d %s\n", canonical[i].in, n, n >= 0 ? out : "");
	}
	char small[8];
	CHECK(address_canonical("user@example.org", 16, small, sizeof small) < 0);
	CHECK(address_canonical("a@b.c", 5, small, 6) == 5);
	CHECK(address_canonical("a@b.cd", 6, small, 6) < 0);
	return test_summary("address");
}
