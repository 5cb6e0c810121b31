/* A tiny unit test runner: CHECK records a result, test_summary prints "N passed, N failed". */
#ifndef CHATMAIL_TEST_H
#define CHATMAIL_TEST_H

#include <stdio.h>
#include <string.h>

static int test_passed, test_failed;

#define CHECK(cond)                                                                              \
	do {                                                                                     \
		if (cond) {                                                                      \
			test_passed++;                                                           \
		} else {                                                                         \
			test_failed++;                                                           \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                                \
	} while (0)

#define CHECK_STR(a, b) CHECK(strcmp((a), (b)) == 0)

/* Prints the summary line, prefixed by the test's name, and returns the exit status. A binary
 * that ran no check proves nothing: it fails. */
static inline int test_summary(const char *name)
{
	if (test_passed + test_failed == 0) {
		fprintf(stderr, "%s: no check ran\n", name);
		test_failed = 1;
	}
	printf("%s: %d passed, %d failed\n", name, test_passed, test_failed);
	return test_failed == 0 ? 0 : 1;
}

#endif
