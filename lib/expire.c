/* Expiry decisions of SPEC §5: no I/O here, so every edge is unit-tested. */
#include "expire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void expire_policy_init(struct expire_policy *policy, const struct config *config, int64_t now)
{
	int64_t today = now - now % EXPIRE_DAY_SECONDS;
	policy->mails_before = now - (int64_t)config->delete_mails_after * EXPIRE_DAY_SECONDS;
	policy->large_before = now - (int64_t)config->delete_large_after * EXPIRE_DAY_SECONDS;
	policy->inactive_before =
	    today - (int64_t)config->delete_inactive_users_after * EXPIRE_DAY_SECONDS;
}

enum expire_verdict expire_mail(const struct expire_policy *policy, int64_t mtime, uint64_t size)
{
	if (mtime < policy->mails_before)
		return EXPIRE_OLD;
	if (size > EXPIRE_LARGE_MAIL_SIZE && mtime < policy->large_before)
		return EXPIRE_LARGE;
	return EXPIRE_KEEP;
}

bool expire_account_inactive(const struct expire_policy *policy, int64_t last_login)
{
	return last_login > 0 && last_login < policy->inactive_before;
}

uint64_t expire_quota_share(uint64_t max_mailbox_size, unsigned percent)
{
	/* Split so that no product can overflow, whatever the size. */
	return max_mailbox_size / 100 * percent + max_mailbox_size % 100 * percent / 100;
}

static int oldest_first(const void *a, const void *b)
{
	const struct quota_mail *x = a, *y = b;
	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

size_t expire_quota_plan(struct quota_mail *mails, size_t count, uint64_t target,
			 int64_t spare_from, uint64_t *remaining)
{
	uint64_t total = 0;
	size_t marked = 0;

	for (size_t i = 0; i < count; i++) {
		mails[i].remove = false;
		total = mails[i].size > UINT64_MAX - total ? UINT64_MAX : total + mails[i].size;
	}
	if (count > 1)
		qsort(mails, count, sizeof *mails, oldest_first);
	/* Sorted oldest first: the first spared mail ends the plan, all after it are younger. */
	for (size_t i = 0; i < count && total > target && mails[i].mtime < spare_from; i++) {
		mails[i].remove = true;
		total -= mails[i].size;
		marked++;
	}
	*remaining = total;
	return marked;
}

void expire_format_day(int64_t time, char *out, size_t size)
{
	struct tm tm;
	time_t t = (time_t)time;
	if (size == 0)
		return;
	if (time <= 0 || gmtime_r(&t, &tm) == NULL || strftime(out, size, "%Y-%m-%d", &tm) == 0)
		snprintf(out, size, "%s", time <= 0 ? "never" : "?");
}
