/* Expiry decisions: mail ages and sizes at their edges, inactive accounts by login day, the
 * quota plan (oldest first, the last day spared, down to the target). */
#include "expire.h"
#include "test.h"

#include <stdlib.h>

#define DAY EXPIRE_DAY_SECONDS

static struct config config;

static void make_config(const char *extra)
{
	char ini[512];
	struct config_error error;
	int n = snprintf(ini, sizeof ini, "[params]\nmail_domain = example.org\n%s", extra);
	CHECK(config_parse(&config, ini, (size_t)n, &error, NULL, NULL) == 0);
}

static void test_mails(void)
{
	struct expire_policy policy;
	int64_t now = 1000 * DAY + 12345;
	make_config(""); /* defaults: 20 days, large after 7 */
	expire_policy_init(&policy, &config, now);

	CHECK(expire_mail(&policy, now, 10) == EXPIRE_KEEP);
	CHECK(expire_mail(&policy, now - 20 * DAY, 10) == EXPIRE_KEEP); /* exactly 20 days */
	CHECK(expire_mail(&policy, now - 20 * DAY - 1, 10) == EXPIRE_OLD);
	CHECK(expire_mail(&policy, 0, 0) == EXPIRE_OLD);
	/* over 200 KiB: 7 days; exactly 200 KiB is not over */
	CHECK(expire_mail(&policy, now - 7 * DAY - 1, EXPIRE_LARGE_MAIL_SIZE) == EXPIRE_KEEP);
	CHECK(expire_mail(&policy, now - 7 * DAY - 1, EXPIRE_LARGE_MAIL_SIZE + 1) == EXPIRE_LARGE);
	CHECK(expire_mail(&policy, now - 7 * DAY, EXPIRE_LARGE_MAIL_SIZE + 1) == EXPIRE_KEEP);
	CHECK(expire_mail(&policy, now - 21 * DAY, UINT64_MAX) == EXPIRE_OLD);
	/* a mail from the future (clock skew) is kept */
	CHECK(expire_mail(&policy, now + 10 * DAY, UINT64_MAX) == EXPIRE_KEEP);

	make_config("delete_mails_after = 1\ndelete_large_after = 3\n");
	expire_policy_init(&policy, &config, now);
	CHECK(expire_mail(&policy, now - DAY - 1, 1) == EXPIRE_OLD);
	CHECK(expire_mail(&policy, now - DAY + 1, 1 << 30) == EXPIRE_KEEP);
}

static void test_accounts(void)
{
	struct expire_policy policy;
	int64_t today = 2000 * DAY;
	make_config("delete_inactive_users_after = 90\n");
	/* The time of day does not matter: only whole days since the login day count. */
	for (int64_t now = today; now < today + DAY; now += DAY / 4) {
		expire_policy_init(&policy, &config, now);
		CHECK(!expire_account_inactive(&policy, today));
		CHECK(!expire_account_inactive(&policy, today - 90 * DAY));
		CHECK(expire_account_inactive(&policy, today - 91 * DAY));
		CHECK(expire_account_inactive(&policy, DAY));
		CHECK(!expire_account_inactive(&policy, 0));  /* never recorded */
		CHECK(!expire_account_inactive(&policy, -5)); /* nonsense is no reason either */
		CHECK(!expire_account_inactive(&policy, today + 3 * DAY));
	}
}

static void test_quota(void)
{
	/* 10 mails of 100 bytes, mail i received at time 100 + i; ids out of age order */
	struct quota_mail mails[10];
	uint64_t remaining;
	for (size_t i = 0; i < 10; i++)
		mails[i] = (struct quota_mail){100 + (int64_t)((i * 7) % 10), 100, i, true};

	CHECK(expire_quota_share(1000, EXPIRE_QUOTA_TARGET_PERCENT) == 700);
	CHECK(expire_quota_share(1000, EXPIRE_QUOTA_WARNING_PERCENT) == 750);
	CHECK(expire_quota_share(524288000, 70) == 367001600);
	CHECK(expire_quota_share(1023, 70) == 716); /* 716.1 */
	CHECK(expire_quota_share(UINT64_MAX, 100) == UINT64_MAX / 100 * 100 + UINT64_MAX % 100);
	CHECK(expire_quota_share(UINT64_MAX, 70) > UINT64_MAX / 100 * 69);

	/* 1000 bytes down to 700: the three oldest go, in age order */
	CHECK(expire_quota_plan(mails, 10, 700, 1000, &remaining) == 3);
	CHECK(remaining == 700);
	CHECK(mails[0].mtime == 100 && mails[1].mtime == 101 && mails[2].mtime == 102);
	CHECK(mails[0].remove && mails[1].remove && mails[2].remove && !mails[3].remove);
	CHECK(mails[0].id == 0 && mails[1].id == 3 && mails[2].id == 6);

	/* everything from time 102 on is spared: only two can go, and the rest stays over */
	CHECK(expire_quota_plan(mails, 10, 700, 102, &remaining) == 2);
	CHECK(remaining == 800);
	CHECK(!mails[2].remove);

	/* already under the target: nothing goes (remove flags from before are cleared) */
	CHECK(expire_quota_plan(mails, 10, 1000, 1000, &remaining) == 0);
	CHECK(remaining == 1000);
	for (size_t i = 0; i < 10; i++)
		CHECK(!mails[i].remove);

	/* equal times: the lower id first, so the plan is stable */
	struct quota_mail same[3] = {{5, 10, 2, false}, {5, 10, 0, false}, {5, 10, 1, false}};
	CHECK(expire_quota_plan(same, 3, 15, 6, &remaining) == 2);
	CHECK(same[0].id == 0 && same[1].id == 1 && same[0].remove && same[1].remove);
	CHECK(!same[2].remove && remaining == 10);

	/* a single huge mail; an empty mailbox; sizes that would overflow a sum */
	struct quota_mail huge[2] = {{1, UINT64_MAX, 0, false}, {2, 5, 1, false}};
	CHECK(expire_quota_plan(huge, 2, 100, 10, &remaining) == 1);
	CHECK(remaining <= 100);
	CHECK(expire_quota_plan(NULL, 0, 0, 10, &remaining) == 0 && remaining == 0);
}

static void test_days(void)
{
	char day[16], tiny[4];
	expire_format_day(0, day, sizeof day);
	CHECK_STR(day, "never");
	expire_format_day(86400, day, sizeof day);
	CHECK_STR(day, "1970-01-02");
	expire_format_day(1700000000, day, sizeof day);
	CHECK_STR(day, "2023-11-14");
	expire_format_day(1700000000, tiny, sizeof tiny);
	CHECK(strlen(tiny) < sizeof tiny);
}

int main(void)
{
	test_mails();
	test_accounts();
	test_quota();
	test_days();
	return test_summary("expire");
}
