/* chatmail-expire's parts: the daily run (chatmail-expire.c) and the quota hook
 * (expire-quota.c) share one run's state and counts. */
#ifndef CHATMAIL_EXPIRE_PROGRAM_H
#define CHATMAIL_EXPIRE_PROGRAM_H

#include "accounts.h"
#include "config.h"
#include "expire.h"
#include "mailstore.h"
#include "stats.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* Exit codes. */
#define EXIT_DONE 0	  /* everything due was removed (odd entries may have been skipped) */
#define EXIT_PARTIAL 1	  /* finished, but something could not be read or removed: logged */
#define EXIT_USAGE 2	  /* bad arguments */
#define EXIT_TEMPFAIL 111 /* chatmail.ini, mailboxes_dir or the database unusable: nothing done */

struct inactive {
	char *addr;
	int64_t last_login;
};

struct run {
	struct config config;
	struct expire_policy policy;
	struct accounts *accounts; /* NULL while no account database exists */
	int root_fd;
	int64_t now;
	bool dry_run;
	bool daily; /* the daily run, not the quota hook */
	bool progress;
	struct timespec started, shown;
	struct inactive *inactive;
	size_t inactive_count, inactive_size;
	unsigned long accounts_scanned, accounts_removed, maildirs, mails_scanned, mails_removed;
	uint64_t bytes_removed;
	struct mailstore_problems problems;
	const char *textfile; /* --textfile: the figures after the run go there */
	struct relay_stats figures;
	/* the maildir being walked */
	const char *addr;
	unsigned long home_removed;
	uint64_t home_bytes, home_kept;
};

/* Drops Dovecot's quota count (maildirsize), so Dovecot counts the maildir again and sees
 * the freed space. */
void forget_quota(int home_fd, const char *addr);

/* SPEC §5: the oldest mails of the home, sparing the last EXPIRE_QUOTA_SPARE_SECONDS, go
 * until it is at EXPIRE_QUOTA_TARGET_PERCENT of max_mailbox_size; counted into run.
 * Returns 0, or -1 when out of memory. */
int shrink_to_quota(struct run *run, int home_fd, const char *addr);

/* Dovecot's quota_warning hook for one address. Returns an exit code. */
int quota(struct run *run, const char *addr);

#endif
