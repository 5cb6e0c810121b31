/* The relay's figures: login days against the 1/7/30-day windows at their edges, and the
 * Prometheus text file (exact text, too small a buffer, written whole). */
#include "expire.h"
#include "stats.h"
#include "test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAY EXPIRE_DAY_SECONDS

static void test_windows(void)
{
	struct relay_stats stats = {0};
	int64_t today = 20000 * DAY;
	stats_count_account(&stats, today, today);	      /* logged in today */
	stats_count_account(&stats, today - DAY, today);      /* yesterday: still the last day */
	stats_count_account(&stats, today - 2 * DAY, today);  /* week and month only */
	stats_count_account(&stats, today - 7 * DAY, today);  /* the week's edge */
	stats_count_account(&stats, today - 8 * DAY, today);  /* month only */
	stats_count_account(&stats, today - 30 * DAY, today); /* the month's edge */
	stats_count_account(&stats, today - 31 * DAY, today); /* none */
	stats_count_account(&stats, 0, today);		      /* never recorded */
	CHECK(stats.accounts == 8);
	CHECK(stats.active_day == 2);
	CHECK(stats.active_week == 4);
	CHECK(stats.active_month == 6);
}

static void test_textfile(void)
{
	struct relay_stats stats = {3, 1, 2, 3, 4, 5, 123456789012ULL};
	char out[2048], tight[64];
	size_t len = stats_textfile(&stats, out, sizeof out);
	CHECK(len == strlen(out));
	CHECK(strstr(out, "\nchatmail_accounts{kind=\"all\"} 3\n") != NULL);
	CHECK(strstr(out, "\nchatmail_accounts_active{days=\"1\"} 1\n") != NULL);
	CHECK(strstr(out, "\nchatmail_accounts_active{days=\"7\"} 2\n") != NULL);
	CHECK(strstr(out, "\nchatmail_accounts_active{days=\"30\"} 3\n") != NULL);
	CHECK(strstr(out, "\nchatmail_maildirs 4\n") != NULL);
	CHECK(strstr(out, "\nchatmail_mails 5\n") != NULL);
	CHECK(strstr(out, "\nchatmail_storage_bytes{kind=\"messages\"} 123456789012\n") != NULL);
	CHECK(strstr(out, "# TYPE chatmail_storage_bytes gauge\n") != NULL);
	CHECK(out[len - 1] == '\n');
	CHECK(stats_textfile(&stats, tight, sizeof tight) == 0);

	char dir[] = "/tmp/test_stats.XXXXXX", path[64], text[2048];
	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/chatmail.prom", dir);
	CHECK(stats_write_textfile(&stats, path) == 0);
	FILE *file = fopen(path, "r");
	size_t read = file != NULL ? fread(text, 1, sizeof text - 1, file) : 0;
	text[read] = '\0';
	if (file != NULL)
		fclose(file);
	CHECK_STR(text, out);
	struct stat st;
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	snprintf(text, sizeof text, "%s.tmp", path);
	CHECK(access(text, F_OK) != 0); /* the temporary file went with the rename */
	/* a directory that is not there: an error, nothing written */
	snprintf(text, sizeof text, "%s/missing/chatmail.prom", dir);
	CHECK(stats_write_textfile(&stats, text) == -1);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_windows();
	test_textfile();
	return test_summary("stats");
}
