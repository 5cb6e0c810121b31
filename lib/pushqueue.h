/* The push queue (SPEC 5a): files below state_dir, with the retry schedule. chatmail-metadata
 * writes one per delivery with every token of the account (one fsync while LMTP waits);
 * chatmail-notifier splits it into one per token, each retried on its own, and sends them. */
#ifndef CHATMAIL_PUSHQUEUE_H
#define CHATMAIL_PUSHQUEUE_H

#include "devicetokens.h"
#include "mailstore.h"

#include <stddef.h>
#include <stdint.h>

#define PUSHQUEUE_DIR "push-queue"
/* A file being written: its name starts with this, and readers skip it. */
#define PUSHQUEUE_TEMP_PREFIX "."
#define PUSHQUEUE_NAME_MAX 64
/* First line of an item: the format's name and version. */
#define PUSHQUEUE_MAGIC "chatmail-push 1"
#define PUSHQUEUE_ITEM_MAX (sizeof PUSHQUEUE_MAGIC + 64 + MAILSTORE_ADDRESS_MAX + DEVICETOKEN_MAX + 4)
/* A delivery's item: every token of one account. */
#define PUSHQUEUE_BATCH_MAX \
	(PUSHQUEUE_ITEM_MAX + (DEVICETOKENS_PER_ACCOUNT_MAX - 1) * (DEVICETOKEN_MAX + 1))
/* Retries after 8, 64, 512, 4096 s (powers of the base), never later than the give-up time
 * after the delivery: the reference relay's schedule. */
#define PUSHQUEUE_RETRY_BASE_SECONDS 8
#define PUSHQUEUE_GIVE_UP_SECONDS (5 * 3600)

struct push_item {
	int64_t queued;	   /* the delivery's time */
	unsigned attempts; /* POSTs that failed so far */
	int64_t due;	   /* the next attempt, not before */
	char addr[MAILSTORE_ADDRESS_MAX + 1];
	char token[DEVICETOKEN_MAX + 1];
};

/* "chatmail-push 1\n<queued> <attempts> <due>\n<addr>\n<token>\n". Returns 0, or -1 for
 * anything else (a canonical address and a valid token are required). */
int push_item_parse(const char *text, size_t len, struct push_item *item);

/* A delivery's item: the same with one or more token lines. Fills item with the first token
 * and sets *at after it; push_batch_next gives the next one (1), 0 at the end, -1 when the
 * rest is broken. push_batch_parse returns 0, or -1. */
int push_batch_parse(const char *text, size_t len, struct push_item *item, size_t *at);
int push_batch_next(const char *text, size_t len, size_t *at, struct push_item *item);
/* Returns the length written to out[size] (with a NUL), or -1 when it does not fit. */
long push_item_format(const struct push_item *item, char *out, size_t size);

/* After a failed attempt at now: counts it and sets the next due time, the delays scaled by
 * scale (1 in production; tests shrink it). Returns 0, or -1 when the item is to be given up
 * (its next try would fall after the give-up time). */
int push_item_retry(struct push_item *item, int64_t now, double scale);

/* Writes a delivery's item for addr with every token into the queue directory queue_fd,
 * atomically (a dot file, fsynced, renamed into place), named "<now>-<random>". Returns 0, or
 * -1 (logged). */
int pushqueue_add(int queue_fd, const char *addr, const struct devicetokens *tokens, int64_t now);

/* Reads the item of file name in queue_fd: 0 with item filled; 1 when it was a delivery's item
 * with several tokens, now split into one item per token ("<name>-<i>", read them next);
 * -1 when it is unreadable or broken. */
int pushqueue_read(int queue_fd, const char *name, struct push_item *item);

/* Rewrites the item of file name (after a failed attempt), atomically. Returns 0 or -1. */
int pushqueue_write(int queue_fd, const char *name, const struct push_item *item);

#endif
