/* Files below a test's own temporary directory, for the tests that work on real maildirs:
 * each test makes `dir` with mkdtemp and names everything relative to it. */
#ifndef CHATMAIL_TEST_FILES_H
#define CHATMAIL_TEST_FILES_H

#include "config.h"
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

/* A relay of example.org whose database, maildirs (dir/mail) and nocreate file live in dir,
 * owned by whoever runs the test, with resource limits a busy machine never trips. */
static inline void make_test_config(struct config *config)
{
	char ini[1024];
	struct config_error error;
	int n = snprintf(ini, sizeof ini,
			 "[params]\nmail_domain = example.org\npassdb_path = %s/passdb.sqlite\n"
			 "mailboxes_dir = %s/mail\nnocreate_file = %s/nocreate\n"
			 "vmail_user = %d:%d\nmin_free_disk_space = 0\nmin_available_memory = 0\n"
			 "max_load_1m = 100000\n",
			 dir, dir, dir, (int)getuid(), (int)getgid());
	CHECK(config_parse(config, ini, (size_t)n, &error, NULL, NULL) == 0);
}

#endif
