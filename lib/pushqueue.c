/* The push queue: items as text, the retry schedule, and their files. */
#include "pushqueue.h"

#include "log.h"
#include "random.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int parse_number(const char **text, const char *end, char stop, int64_t *value)
{
	const char *p = *text;
	int64_t v = 0;
	if (p == end || *p < '0' || *p > '9')
		return -1;
	if (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9')
		return -1; /* one way to write a number: what push_item_format writes */
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (p == end || *p != stop)
		return -1;
	*text = p + 1;
	*value = v;
	return 0;
}

/* The next line up to its LF, into out[size]. */
static int take_line(const char **text, const char *end, char *out, size_t size, size_t *len)
{
	const char *lf = memchr(*text, '\n', (size_t)(end - *text));
	if (lf == NULL || (size_t)(lf - *text) >= size)
		return -1;
	*len = (size_t)(lf - *text);
	memcpy(out, *text, *len);
	out[*len] = '\0';
	*text = lf + 1;
	return 0;
}

int push_batch_parse(const char *text, size_t len, struct push_item *item, size_t *at)
{
	const char *p = text, *end = text + len;
	size_t magic = sizeof PUSHQUEUE_MAGIC - 1, addr_len;
	int64_t attempts;
	if (len < magic + 1 || memcmp(p, PUSHQUEUE_MAGIC "\n", magic + 1) != 0)
		return -1;
	p += magic + 1;
	if (parse_number(&p, end, ' ', &item->queued) != 0 ||
	    parse_number(&p, end, ' ', &attempts) != 0 || attempts > 64 ||
	    parse_number(&p, end, '\n', &item->due) != 0 ||
	    take_line(&p, end, item->addr, sizeof item->addr, &addr_len) != 0 ||
	    !mailstore_canonical_name(item->addr, addr_len))
		return -1;
	item->attempts = (unsigned)attempts;
	*at = (size_t)(p - text);
	return push_batch_next(text, len, at, item) == 1 ? 0 : -1;
}

int push_batch_next(const char *text, size_t len, size_t *at, struct push_item *item)
{
	const char *p = text + *at, *end = text + len;
	size_t token_len;
	if (p == end)
		return 0;
	if (take_line(&p, end, item->token, sizeof item->token, &token_len) != 0 ||
	    !devicetoken_valid(item->token, token_len))
		return -1;
	*at = (size_t)(p - text);
	return 1;
}

int push_item_parse(const char *text, size_t len, struct push_item *item)
{
	size_t at;
	return push_batch_parse(text, len, item, &at) == 0 && at == len ? 0 : -1;
}

long push_item_format(const struct push_item *item, char *out, size_t size)
{
	int n = snprintf(out, size, PUSHQUEUE_MAGIC "\n%lld %u %lld\n%s\n%s\n",
			 (long long)item->queued, item->attempts, (long long)item->due, item->addr,
			 item->token);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

int push_item_retry(struct push_item *item, int64_t now, double scale)
{
	item->attempts++;
	double delay = pow(PUSHQUEUE_RETRY_BASE_SECONDS, item->attempts) * scale;
	double give_up = (double)item->queued + PUSHQUEUE_GIVE_UP_SECONDS * scale;
	double due = (double)now + ceil(delay);
	if (!(due <= give_up))
		return -1;
	item->due = (int64_t)due;
	return 0;
}

/* Writes text as name in queue_fd: a dot file, fsynced (an item that names a delivery must
 * outlive a crash right after it), renamed into place. */
static int write_file(int queue_fd, const char *temp, const char *name, const char *text,
		      size_t len)
{
	int fd = openat(queue_fd, temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
			0600);
	if (fd < 0)
		return -1;
	ssize_t written = write(fd, text, len);
	if (written < 0 || (size_t)written != len || fsync(fd) != 0) {
		close(fd);
		unlinkat(queue_fd, temp, 0);
		return -1;
	}
	if (close(fd) != 0 || renameat(queue_fd, temp, queue_fd, name) != 0) {
		unlinkat(queue_fd, temp, 0);
		return -1;
	}
	return 0;
}

static int write_new(int queue_fd, const char *name, const struct push_item *item)
{
	char text[PUSHQUEUE_ITEM_MAX], temp[PUSHQUEUE_NAME_MAX + 10];
	long len = push_item_format(item, text, sizeof text);
	int n = snprintf(temp, sizeof temp, PUSHQUEUE_TEMP_PREFIX "%s", name);
	if (len < 0 || n < 0 || (size_t)n >= sizeof temp)
		return -1;
	return write_file(queue_fd, temp, name, text, (size_t)len);
}

int pushqueue_add(int queue_fd, const char *addr, const struct devicetokens *tokens, int64_t now)
{
	static char text[PUSHQUEUE_BATCH_MAX];
	char name[PUSHQUEUE_NAME_MAX], temp[PUSHQUEUE_NAME_MAX + 2], suffix[17];
	int n = snprintf(text, sizeof text, PUSHQUEUE_MAGIC "\n%lld 0 %lld\n%s\n", (long long)now,
			 (long long)now, addr);
	size_t used = n > 0 && (size_t)n < sizeof text ? (size_t)n : sizeof text;
	for (unsigned i = 0; i < tokens->count && used < sizeof text; i++) {
		n = snprintf(text + used, sizeof text - used, "%s\n", tokens->token[i]);
		used = n > 0 && (size_t)n < sizeof text - used ? used + (size_t)n : sizeof text;
	}
	if (used >= sizeof text || random_string(suffix, 16, "0123456789abcdef") != 0)
		return -1;
	snprintf(name, sizeof name, "%lld-%s", (long long)now, suffix);
	snprintf(temp, sizeof temp, PUSHQUEUE_TEMP_PREFIX "%s", name);
	if (write_file(queue_fd, temp, name, text, used) != 0) {
		log_error("cannot queue a notification for %s: %s", addr, strerror(errno));
		return -1;
	}
	return 0;
}

/* A delivery's item with several tokens becomes one item per token (each with its own
 * retries), named after it so that a split interrupted by a crash is redone, not doubled. */
static int split(int queue_fd, const char *name, const char *text, size_t len,
		 struct push_item *item)
{
	char part[PUSHQUEUE_NAME_MAX + 8];
	size_t at;
	int next = 1;
	if (push_batch_parse(text, len, item, &at) != 0)
		return -1;
	for (unsigned i = 0; next == 1; i++) {
		snprintf(part, sizeof part, "%s-%u", name, i);
		if (write_new(queue_fd, part, item) != 0)
			return -1;
		next = push_batch_next(text, len, &at, item);
	}
	return next == 0 && unlinkat(queue_fd, name, 0) == 0 ? 0 : -1;
}

int pushqueue_read(int queue_fd, const char *name, struct push_item *item)
{
	static char text[PUSHQUEUE_BATCH_MAX];
	int fd = openat(queue_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, text, sizeof text);
	int error = n < 0 ? errno : EINVAL;
	close(fd);
	size_t at;
	if (n <= 0 || (size_t)n == sizeof text || push_batch_parse(text, (size_t)n, item, &at) != 0) {
		errno = error; /* a broken item is EINVAL, never ENOENT */
		return -1;
	}
	if (at == (size_t)n)
		return 0;
	return split(queue_fd, name, text, (size_t)n, item) == 0 ? 1 : -1;
}

int pushqueue_write(int queue_fd, const char *name, const struct push_item *item)
{
	return write_new(queue_fd, name, item);
}
