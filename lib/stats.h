/* The relay's figures (chatmailctl stats, the expiry's gauge file): accounts, how many were
 * active lately, maildirs, mails and their bytes; and their Prometheus text exposition. */
#ifndef CHATMAIL_STATS_H
#define CHATMAIL_STATS_H

#include <stddef.h>
#include <stdint.h>

struct relay_stats {
	unsigned long accounts, active_day, active_week, active_month;
	unsigned long maildirs, mails;
	uint64_t bytes;
};

/* Counts one account by its login day (accounts.last_login) against today's start. */
void stats_count_account(struct relay_stats *stats, int64_t last_login, int64_t today);

/* The figures as a file for Prometheus' textfile collector (README "Metrics"). Returns its
 * length, or 0 when it does not fit in out[0..size). */
size_t stats_textfile(const struct relay_stats *stats, char *out, size_t size);

/* Writes the text of stats_textfile to path at once (a temporary file beside it, renamed), so
 * a collector never reads half of it. Returns 0, or -1 with errno set. */
int stats_write_textfile(const struct relay_stats *stats, const char *path);

#endif
