/* Expiry policy of SPEC §5 as pure decisions: which mail is due, which account is inactive,
 * which mails go when a mailbox nears its quota. */
#ifndef CHATMAIL_EXPIRE_H
#define CHATMAIL_EXPIRE_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EXPIRE_DAY_SECONDS 86400
/* Mails over this size expire after delete_large_after days instead of delete_mails_after. */
#define EXPIRE_LARGE_MAIL_SIZE (200 * 1024)
/* Dovecot's quota_warning calls the quota hook at this share of max_mailbox_size (it is
 * written in conf/dovecot/dovecot.conf); the hook removes mails down to the target share. */
#define EXPIRE_QUOTA_WARNING_PERCENT 75
#define EXPIRE_QUOTA_TARGET_PERCENT 70
/* The quota hook never removes mails younger than this: the user has not fetched them yet. */
#define EXPIRE_QUOTA_SPARE_SECONDS 86400

struct expire_policy {
	int64_t mails_before;	 /* a mail whose mtime is before this is due */
	int64_t large_before;	 /* likewise for a mail over EXPIRE_LARGE_MAIL_SIZE */
	int64_t inactive_before; /* an account whose last login day is before this is due */
};

enum expire_verdict {
	EXPIRE_KEEP,
	EXPIRE_OLD,   /* older than delete_mails_after days */
	EXPIRE_LARGE, /* over 200 KiB and older than delete_large_after days */
};

/* The cut-off times of config at now (seconds since the epoch). */
void expire_policy_init(struct expire_policy *policy, const struct config *config, int64_t now);

enum expire_verdict expire_mail(const struct expire_policy *policy, int64_t mtime, uint64_t size);

/* An account is inactive when its last login day (a UTC midnight) lies more than
 * delete_inactive_users_after whole days before today. An unknown day (0) is never
 * inactive: no data is no reason to delete an account. */
bool expire_account_inactive(const struct expire_policy *policy, int64_t last_login);

/* One mail of a mailbox, as the quota plan sees it. */
struct quota_mail {
	int64_t mtime;
	uint64_t size;
	size_t id;   /* the caller's reference to the file */
	bool remove; /* set by expire_quota_plan */
};

/* percent of max_mailbox_size (at most 2^50, see config.c), rounded down: the size a
 * mailbox is brought down to (EXPIRE_QUOTA_TARGET_PERCENT), and the size over which it
 * is due for that (EXPIRE_QUOTA_WARNING_PERCENT). */
uint64_t expire_quota_share(uint64_t max_mailbox_size, unsigned percent);

/* Marks the oldest mails (by mtime, then id) for removal until the rest fit in target
 * bytes, sparing every mail with mtime at or after spare_from. Reorders mails. Returns how
 * many are marked; *remaining is the size of what stays. */
size_t expire_quota_plan(struct quota_mail *mails, size_t count, uint64_t target,
			 int64_t spare_from, uint64_t *remaining);

/* The UTC date of a time as "YYYY-MM-DD" in out (at least 11 bytes); "never" for 0. */
void expire_format_day(int64_t time, char *out, size_t size);

#endif
