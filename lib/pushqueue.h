/* The push queue (SPEC 5a): one file per notification below state_dir, written by
 * chatmail-metadata at delivery and sent by chatmail-notifier, with the retry schedule. */
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
/* Returns the length written to out[size] (with a NUL), or -1 when it does not fit. */
long push_item_format(const struct push_item *item, char *out, size_t size);

/* After a failed attempt at now: counts it and sets the next due time, the delays scaled by
 * scale (1 in production; tests shrink it). Returns 0, or -1 when the item is to be given up
 * (its next try would fall after the give-up time). */
int push_item_retry(struct push_item *item, int64_t now, double scale);

/* Writes a new item for (addr, token) into the queue directory queue_fd, atomically (a dot
 * file renamed into place), named "<now>-<random>". Returns 0, or -1 (logged). */
int pushqueue_add(int queue_fd, const char *addr, const char *token, int64_t now);

/* Reads the item of file name in queue_fd. Returns 0, -1 when it is unreadable or broken. */
int pushqueue_read(int queue_fd, const char *name, struct push_item *item);

/* Rewrites the item of file name (after a failed attempt), atomically. Returns 0 or -1. */
int pushqueue_write(int queue_fd, const char *name, const struct push_item *item);

#endif
