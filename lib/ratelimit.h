/* The outgoing send rate per sender (GCRA), shared by every filtermail process through a
 * fixed-size memory-mapped table under state_dir. */
#ifndef CHATMAIL_RATELIMIT_H
#define CHATMAIL_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_FILE "ratelimit.table"
/* The table: RATELIMIT_BUCKETS buckets of RATELIMIT_WAYS senders each (16 bytes a sender),
 * 1 MiB in all, a sparse file of which a check touches one page. A sender is in the bucket its
 * keyed hash names; a bucket whose every sender is still held back cannot take one more, and
 * that one is refused for now (RATELIMIT_ERROR), never let through. */
#define RATELIMIT_BUCKETS 8192
#define RATELIMIT_WAYS 8

/* GCRA (the generic cell rate algorithm): tat is the sender's theoretical arrival time, 0 for
 * a sender never seen; times in microseconds. One message costs interval (a minute divided by
 * max_user_send_per_minute); burst messages may go at once. Returns whether the message may
 * go now, and sets *new_tat to the time to store: later by one interval when it may go,
 * unchanged when it must wait (unless the stored time lay beyond any burst window). */
bool ratelimit_gcra(int64_t tat, int64_t now, int64_t interval, uint32_t burst, int64_t *new_tat);

/* The interval of a rate per minute, in microseconds. */
int64_t ratelimit_interval(uint32_t per_minute);

enum ratelimit_status {
	RATELIMIT_ALLOWED,
	RATELIMIT_DENIED,
	RATELIMIT_ERROR, /* the table is unavailable or the sender's bucket full: temporary */
};

struct ratelimit;

/* Opens (creating when needed, or afresh when damaged) the table state_dir/RATELIMIT_FILE.
 * Returns NULL on failure, logging why. */
struct ratelimit *ratelimit_open(const char *state_dir);
void ratelimit_close(struct ratelimit *ratelimit);

/* Counts one message of sender (compared case-insensitively) at now (microseconds). */
enum ratelimit_status ratelimit_check(struct ratelimit *ratelimit, const char *sender, int64_t now,
				      uint32_t per_minute, uint32_t burst);

/* How many senders the table still holds back at now (a sender whose time has passed takes
 * no room). */
size_t ratelimit_senders(const struct ratelimit *ratelimit, int64_t now);

/* The current time in microseconds. */
int64_t ratelimit_now(void);

#endif
