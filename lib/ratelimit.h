/* The outgoing send rate per sender (GCRA), shared by every filtermail process through a small
 * sqlite database under state_dir. */
#ifndef CHATMAIL_RATELIMIT_H
#define CHATMAIL_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_FILE "ratelimit.sqlite"
#define RATELIMIT_BUSY_TIMEOUT_MS 5000
/* One check in this many also drops senders whose state has run out. */
#define RATELIMIT_PRUNE_EVERY 256

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
	RATELIMIT_ERROR, /* the database is unavailable: a temporary failure */
};

struct ratelimit;

/* Opens (creating when needed) the database state_dir/RATELIMIT_FILE. Returns NULL on
 * failure, logging why. */
struct ratelimit *ratelimit_open(const char *state_dir);
void ratelimit_close(struct ratelimit *ratelimit);

/* Counts one message of sender (compared case-insensitively) at now (microseconds). */
enum ratelimit_status ratelimit_check(struct ratelimit *ratelimit, const char *sender, int64_t now,
				      uint32_t per_minute, uint32_t burst);

/* The current time in microseconds. */
int64_t ratelimit_now(void);

#endif
