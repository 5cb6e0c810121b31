/* The fd 3 request split of the checkpassword interface. */
#include "checkpassword.h"
#include "test.h"

int main(void)
{
	struct checkpassword_request r;
	const char ok[] = "user@x\0secret\0\0";
	CHECK(checkpassword_parse(ok, sizeof ok - 1, &r) == 0);
	CHECK_STR(r.user, "user@x");
	CHECK_STR(r.password, "secret");
	const char lookup[] = "user@x\0\0\0";
	CHECK(checkpassword_parse(lookup, sizeof lookup - 1, &r) == 0);
	CHECK_STR(r.password, "");
	CHECK(checkpassword_parse("user@x", 6, &r) == -1);
	CHECK(checkpassword_parse("user@x\0secret", 13, &r) == -1);
	CHECK(checkpassword_parse("", 0, &r) == -1);
	char big[CHECKPASSWORD_REQUEST_MAX + 1] = {0};
	CHECK(checkpassword_parse(big, sizeof big - 1, &r) == 0);
	CHECK(checkpassword_parse(big, sizeof big, &r) == -1);
	return test_summary("checkpassword");
}
