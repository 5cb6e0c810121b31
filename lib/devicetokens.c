/* The device tokens of one account: the file's text, and its update under a lock. */
#include "devicetokens.h"

#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define TEMP_FILE DEVICETOKENS_FILE ".tmp"

bool devicetoken_valid(const char *token, size_t len)
{
	if (len == 0 || len > DEVICETOKEN_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (token[i] <= ' ' || token[i] > '~')
			return false;
	return true;
}

static int parse_time(const char *text, size_t len, int64_t *value)
{
	if (len == 0 || len > 18)
		return -1;
	int64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		v = v * 10 + (text[i] - '0');
	}
	*value = v;
	return 0;
}

static bool alive(int64_t set_at, int64_t now)
{
	return set_at > now - DEVICETOKEN_LIFETIME_SECONDS &&
	       set_at <= now + DEVICETOKEN_CLOCK_SKEW_SECONDS;
}

void devicetokens_parse(const char *text, size_t len, int64_t now, struct devicetokens *tokens)
{
	tokens->count = 0;
	size_t at = 0;
	while (at < len) {
		const char *line = text + at;
		const char *end = memchr(line, '\n', len - at);
		size_t line_len = end != NULL ? (size_t)(end - line) : len - at;
		at += line_len + 1;
		const char *space = memchr(line, ' ', line_len);
		int64_t set_at;
		if (space == NULL || parse_time(line, (size_t)(space - line), &set_at) != 0 ||
		    !alive(set_at, now))
			continue;
		const char *token = space + 1;
		size_t token_len = line_len - (size_t)(token - line);
		if (devicetokens_set(tokens, token, token_len, set_at) != 0)
			continue;
	}
}

static int find(const struct devicetokens *tokens, const char *token, size_t len)
{
	for (unsigned i = 0; i < tokens->count; i++)
		if (tokens->length[i] == len && memcmp(tokens->token[i], token, len) == 0)
			return (int)i;
	return -1;
}

static void drop(struct devicetokens *tokens, unsigned i)
{
	unsigned last = --tokens->count;
	if (i == last)
		return;
	tokens->set_at[i] = tokens->set_at[last];
	tokens->length[i] = tokens->length[last];
	memcpy(tokens->token[i], tokens->token[last], tokens->length[last] + 1u);
}

int devicetokens_set(struct devicetokens *tokens, const char *token, size_t len, int64_t now)
{
	if (!devicetoken_valid(token, len))
		return -1;
	int i = find(tokens, token, len);
	if (i >= 0) {
		if (now > tokens->set_at[i])
			tokens->set_at[i] = now;
		return 0;
	}
	if (tokens->count == DEVICETOKENS_PER_ACCOUNT_MAX) {
		unsigned oldest = 0;
		for (unsigned j = 1; j < tokens->count; j++)
			if (tokens->set_at[j] < tokens->set_at[oldest])
				oldest = j;
		drop(tokens, oldest);
	}
	unsigned n = tokens->count++;
	tokens->set_at[n] = now;
	tokens->length[n] = (uint16_t)len;
	memcpy(tokens->token[n], token, len);
	tokens->token[n][len] = '\0';
	return 0;
}

int devicetokens_remove(struct devicetokens *tokens, const char *token, size_t len)
{
	int i = find(tokens, token, len);
	if (i < 0)
		return 0;
	drop(tokens, (unsigned)i);
	return 1;
}

long devicetokens_format(const struct devicetokens *tokens, char *out, size_t size)
{
	size_t used = 0;
	for (unsigned i = 0; i < tokens->count; i++) {
		int n = snprintf(out + used, size - used, "%lld %s\n", (long long)tokens->set_at[i],
				 tokens->token[i]);
		if (n < 0 || (size_t)n >= size - used)
			return -1;
		used += (size_t)n;
	}
	if (size > 0)
		out[used] = '\0';
	return (long)used;
}

static char file_text[DEVICETOKENS_FILE_MAX + 1];

int devicetokens_load(int home_fd, int64_t now, struct devicetokens *tokens)
{
	tokens->count = 0;
	int fd = openat(home_fd, DEVICETOKENS_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		log_error("cannot open %s: %s", DEVICETOKENS_FILE, strerror(errno));
		return -1;
	}
	size_t used = 0;
	ssize_t n;
	while (used < DEVICETOKENS_FILE_MAX &&
	       (n = read(fd, file_text + used, DEVICETOKENS_FILE_MAX - used)) > 0)
		used += (size_t)n;
	int error = n < 0 ? errno : 0;
	close(fd);
	if (error != 0) {
		log_error("cannot read %s: %s", DEVICETOKENS_FILE, strerror(error));
		return -1;
	}
	devicetokens_parse(file_text, used, now, tokens);
	return 0;
}

static int write_file(int home_fd, const struct devicetokens *tokens)
{
	long len = devicetokens_format(tokens, file_text, sizeof file_text);
	if (len < 0)
		return -1;
	int fd = openat(home_fd, TEMP_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
			0600);
	if (fd < 0)
		return -1;
	size_t done = 0;
	while (done < (size_t)len) {
		ssize_t n = write(fd, file_text + done, (size_t)len - done);
		if (n <= 0) {
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0)
		return -1;
	return renameat(home_fd, TEMP_FILE, home_fd, DEVICETOKENS_FILE);
}

static struct devicetokens update_tokens;

int devicetokens_update(int home_fd, const char *token, size_t len, bool add, int64_t now)
{
	int lock = openat(home_fd, DEVICETOKENS_LOCK_FILE,
			  O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock < 0 || flock(lock, LOCK_EX) != 0) {
		log_error("cannot lock %s: %s", DEVICETOKENS_LOCK_FILE, strerror(errno));
		if (lock >= 0)
			close(lock);
		return -1;
	}
	int result = devicetokens_load(home_fd, now, &update_tokens);
	if (result == 0) {
		if (add)
			result = devicetokens_set(&update_tokens, token, len, now);
		else
			devicetokens_remove(&update_tokens, token, len);
	}
	if (result == 0 && write_file(home_fd, &update_tokens) != 0) {
		log_error("cannot write %s: %s", DEVICETOKENS_FILE, strerror(errno));
		result = -1;
	}
	close(lock);
	return result;
}
