/* Files below a test's own temporary directory, for the tests that work on real maildirs:
 * each test makes `dir` with mkdtemp and names everything relative to it. */
#ifndef CHATMAIL_TEST_FILES_H
#define CHATMAIL_TEST_FILES_H

#include "test.h"

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64] = "/tmp/chatmail-test-XXXXXX";

/* dir/relative, valid until the next call. */
static inline const char *at(const char *relative)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, relative);
	return path;
}

/* Makes a link at relative pointing to the absolute path of target. */
static inline void link_to(const char *target, const char *relative)
{
	char from[512];
	snprintf(from, sizeof from, "%s/%s", dir, target);
	CHECK(symlink(from, at(relative)) == 0);
}

static inline void make(const char *relative, const char *content)
{
	FILE *f = fopen(at(relative), "w");
	CHECK(f != NULL);
	if (f != NULL) {
		fputs(content, f);
		fclose(f);
	}
}

static inline bool exists(const char *relative)
{
	struct stat st;
	return lstat(at(relative), &st) == 0;
}

#endif
