/* The relay's figures and their Prometheus text exposition. */
#include "stats.h"

#include "expire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATS_TEXTFILE_MAX 2048

void stats_count_account(struct relay_stats *stats, int64_t last_login, int64_t today)
{
	stats->accounts++;
	stats->active_day += last_login >= today - EXPIRE_DAY_SECONDS;
	stats->active_week += last_login >= today - 7 * EXPIRE_DAY_SECONDS;
	stats->active_month += last_login >= today - 30 * EXPIRE_DAY_SECONDS;
}

/* The reference relay's names (chatmail_accounts, chatmail_accounts_active,
 * chatmail_storage_bytes) where they mean the same. */
size_t stats_textfile(const struct relay_stats *stats, char *out, size_t size)
{
	int n = snprintf(
	    out, size,
	    "# HELP chatmail_accounts Accounts in the account database.\n"
	    "# TYPE chatmail_accounts gauge\n"
	    "chatmail_accounts{kind=\"all\"} %lu\n"
	    "# HELP chatmail_accounts_active Accounts that logged in within the last N days.\n"
	    "# TYPE chatmail_accounts_active gauge\n"
	    "chatmail_accounts_active{days=\"1\"} %lu\n"
	    "chatmail_accounts_active{days=\"7\"} %lu\n"
	    "chatmail_accounts_active{days=\"30\"} %lu\n"
	    "# HELP chatmail_maildirs Maildirs below mailboxes_dir.\n"
	    "# TYPE chatmail_maildirs gauge\n"
	    "chatmail_maildirs %lu\n"
	    "# HELP chatmail_mails Mails in all maildirs.\n"
	    "# TYPE chatmail_mails gauge\n"
	    "chatmail_mails %lu\n"
	    "# HELP chatmail_storage_bytes Bytes of the mails in all maildirs.\n"
	    "# TYPE chatmail_storage_bytes gauge\n"
	    "chatmail_storage_bytes{kind=\"messages\"} %llu\n",
	    stats->accounts, stats->active_day, stats->active_week, stats->active_month,
	    stats->maildirs, stats->mails, (unsigned long long)stats->bytes);
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

int stats_write_textfile(const struct relay_stats *stats, const char *path)
{
	char text[STATS_TEXTFILE_MAX], temporary[4096];
	size_t len = stats_textfile(stats, text, sizeof text);
	int n = snprintf(temporary, sizeof temporary, "%s.tmp", path);
	if (len == 0 || n < 0 || (size_t)n >= sizeof temporary) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* Not .prom: the collector reads only *.prom files. */
	int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	/* readable by the collector whatever the umask */
	(void)fchmod(fd, 0644);
	ssize_t written = write(fd, text, len);
	int saved = errno;
	if (close(fd) != 0 && written == (ssize_t)len) {
		saved = errno;
		written = -1;
	}
	if (written != (ssize_t)len || rename(temporary, path) != 0) {
		if (written == (ssize_t)len)
			saved = errno;
		unlink(temporary);
		errno = saved != 0 ? saved : EIO;
		return -1;
	}
	return 0;
}
