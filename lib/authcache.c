/* Dovecot's auth master protocol, just its CACHE-FLUSH command (what `doveadm auth cache
 * flush` sends): "VERSION\t1\t0" then "CACHE-FLUSH\t<id>\t<user>", answered "OK\t<id>\t<count>". */
#include "authcache.h"

#include "log.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* "OK\t1\t" and at least one digit, nothing else, on a line of length len. */
static int ok_line(const char *line, size_t len, unsigned long *count)
{
	static const char prefix[] = "OK\t1\t";
	size_t i = sizeof prefix - 1;
	if (len <= i || memcmp(line, prefix, i) != 0)
		return 0;
	unsigned long value = 0;
	for (; i < len; i++) {
		if (line[i] < '0' || line[i] > '9' || value > 100000000)
			return 0;
		value = value * 10 + (unsigned long)(line[i] - '0');
	}
	*count = value;
	return 1;
}

int authcache_parse_reply(const char *buf, size_t len, unsigned long *count)
{
	const char *line = buf, *end = buf + len;
	const char *newline;
	while ((newline = memchr(line, '\n', (size_t)(end - line))) != NULL) {
		size_t line_len = (size_t)(newline - line);
		if (ok_line(line, line_len, count))
			return 1;
		/* The server's handshake comes first. */
		if (!(line_len > 8 && memcmp(line, "VERSION\t", 8) == 0) &&
		    !(line_len > 5 && memcmp(line, "SPID\t", 5) == 0))
			return -1;
		line = newline + 1;
	}
	return len >= AUTHCACHE_REPLY_MAX ? -1 : 0;
}

static int connect_socket(const char *state_dir)
{
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	int n = snprintf(address.sun_path, sizeof address.sun_path, "%s/%s", state_dir,
			 AUTHCACHE_SOCKET);
	if (n < 0 || (size_t)n >= sizeof address.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/* Sends the request and reads until the answer is complete or the deadline passes. */
static int exchange(int fd, const char *request, size_t request_len, unsigned long *count)
{
	char reply[AUTHCACHE_REPLY_MAX];
	size_t len = 0;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	if (send(fd, request, request_len, MSG_NOSIGNAL) != (ssize_t)request_len)
		return -1;
	for (;;) {
		long left = AUTHCACHE_TIMEOUT_MS - elapsed_ms(&start);
		struct pollfd wait = {.fd = fd, .events = POLLIN};
		if (left <= 0 || poll(&wait, 1, (int)left) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		ssize_t n = read(fd, reply + len, sizeof reply - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errno = n == 0 ? EPROTO : errno;
			return -1;
		}
		len += (size_t)n;
		int parsed = authcache_parse_reply(reply, len, count);
		if (parsed > 0)
			return 0;
		if (parsed < 0) {
			errno = EPROTO;
			return -1;
		}
	}
}

enum authcache_result authcache_flush(const char *state_dir, const char *user)
{
	char request[512];
	unsigned long count = 0;
	if (strpbrk(user, "\t\n\r\001") != NULL) {
		log_error("authcache: '%s' is no user name", user);
		return AUTHCACHE_FAILED;
	}
	int n = snprintf(request, sizeof request, "VERSION\t1\t0\nCACHE-FLUSH\t1\t%s\n", user);
	if (n < 0 || (size_t)n >= sizeof request) {
		log_error("authcache: user name too long");
		return AUTHCACHE_FAILED;
	}
	int fd = connect_socket(state_dir);
	if (fd < 0 && (errno == ENOENT || errno == ECONNREFUSED))
		return AUTHCACHE_NO_DOVECOT;
	if (fd < 0 || exchange(fd, request, (size_t)n, &count) != 0) {
		log_error("authcache: cannot flush Dovecot's auth cache for %s through %s/%s: %s",
			  user, state_dir, AUTHCACHE_SOCKET, strerror(errno));
		if (fd >= 0)
			close(fd);
		return AUTHCACHE_FAILED;
	}
	close(fd);
	return AUTHCACHE_FLUSHED;
}
