/* The streaming base64 decoder: strict and lenient input, padding, and output in pieces. */
#include "base64.h"
#include "test.h"

static void test_strict_and_lenient_input(void)
{
	struct {
		const char *in;
		bool strict;
		const char *out;
		bool ok;
	} cases[] = {
	    {"TWFu", true, "Man", true},     {"TWE=", true, "Ma", true},
	    {"TQ==", true, "M", true},	     {" T W\r\nF u\t", true, "Man", true},
	    {"TQ=\n=", true, "M", true},     {"", true, "", true},
	    {"TQ", true, "", false},	     {"TQ=", true, "", false},
	    {"T===", true, "", false},	     {"TQ=a", true, "", false},
	    {"TWE=TWE=", true, "Ma", false}, {"TW!Fu", true, "", false},
	    {"TW!Fu", false, "Man", true},   {"TWE=\n-- sig", false, "Ma", true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct base64 d;
		unsigned char out[16];
		size_t used;
		base64_init(&d, cases[i].strict);
		size_t n =
		    base64_decode(&d, cases[i].in, strlen(cases[i].in), &used, out, sizeof out);
		bool ok = base64_end(&d);
		CHECK(ok == cases[i].ok);
		if (cases[i].ok)
			CHECK(n == strlen(cases[i].out) && memcmp(out, cases[i].out, n) == 0);
	}
}

/* Too little room: it stops before the group it cannot write, and resumes. */
static void test_resumes_when_out_is_full(void)
{
	struct base64 d;
	unsigned char out[8];
	size_t used, n;
	base64_init(&d, true);
	n = base64_decode(&d, "TWFuTWFu", 8, &used, out, 5);
	CHECK(n == 3 && used == 7);
	n += base64_decode(&d, &"TWFuTWFu"[used], 8 - used, &used, out + n, 3);
	CHECK(n == 6 && used == 1 && memcmp(out, "ManMan", 6) == 0 && base64_end(&d));
	base64_init(&d, true);
	n = base64_decode(&d, "TWE=", 4, &used, out, 1);
	CHECK(n == 0 && used == 3 && !d.error);
}

int main(void)
{
	test_strict_and_lenient_input();
	test_resumes_when_out_is_full();
	return test_summary("base64");
}
