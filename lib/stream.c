/* The stream layer: poll for readiness, then read or write what is there; EINTR and EAGAIN
 * are waits, not errors. */
#include "stream.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void stream_init(struct stream *s, int in_fd, int out_fd, char *in, size_t in_size, char *out,
		 size_t out_size)
{
	memset(s, 0, sizeof *s);
	s->in_fd = in_fd;
	s->out_fd = out_fd;
	s->in = in;
	s->in_size = in_size;
	s->out = out;
	s->out_size = out_size;
}

int64_t stream_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(struct stream *s, const char *format, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct stream *s, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	if (vsnprintf(s->error, sizeof s->error, format, args) < 0)
		s->error[0] = '\0';
	va_end(args);
	return -1;
}

int stream_wait(struct stream *s, int fd, short events)
{
	for (;;) {
		int wait = s->timeout_ms > 0 ? s->timeout_ms : -1;
		if (s->deadline > 0) {
			int64_t left = s->deadline - stream_now_ms();
			if (left <= 0)
				return fail(s, "timeout");
			if (wait < 0 || left < wait)
				wait = left > 60000 ? 60000 : (int)left;
		}
		struct pollfd pfd = {.fd = fd, .events = events};
		int n = poll(&pfd, 1, wait);
		if (n > 0)
			return 0;
		if (n == 0 && (s->deadline == 0 || s->timeout_ms > 0))
			return fail(s, "timeout");
		if (n < 0 && errno != EINTR)
			return fail(s, "poll: %s", strerror(errno));
	}
}

ssize_t stream_fill(struct stream *s)
{
	size_t have = s->in_end - s->in_start;
	if (s->in_start > 0) {
		memmove(s->in, s->in + s->in_start, have);
		s->in_start = 0;
		s->in_end = have;
	}
	if (s->in_end == s->in_size)
		return fail(s, "input buffer full");
	for (;;) {
		if (stream_wait(s, s->in_fd, POLLIN) != 0)
			return -1;
		ssize_t n = read(s->in_fd, s->in + s->in_end, s->in_size - s->in_end);
		if (n > 0) {
			s->in_end += (size_t)n;
			return n;
		}
		if (n == 0) {
			fail(s, "connection closed");
			return 0;
		}
		if (errno != EINTR && errno != EAGAIN)
			return fail(s, "read: %s", strerror(errno));
	}
}

int stream_line(struct stream *s, size_t max, const char **line, size_t *len)
{
	for (;;) {
		size_t have;
		const char *start = stream_pending(s, &have);
		const char *lf = memchr(start, '\n', have);
		if (lf != NULL) {
			size_t end = (size_t)(lf - start);
			stream_consume(s, end + 1);
			if (end > 0 && start[end - 1] == '\r')
				end--;
			*line = start;
			*len = end;
			return 0;
		}
		if (have >= max)
			return fail(s, "line too long");
		if (stream_fill(s) <= 0)
			return -1;
	}
}

int stream_flush(struct stream *s)
{
	size_t done = 0;
	/* Waiting first bounds a write to a blocking descriptor (spawn's socket) too. */
	while (done < s->out_len) {
		if (stream_wait(s, s->out_fd, POLLOUT) != 0)
			return -1;
		ssize_t n = write(s->out_fd, s->out + done, s->out_len - done);
		if (n > 0)
			done += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return fail(s, "write: %s", n == 0 ? "nothing written" : strerror(errno));
	}
	s->out_len = 0;
	return 0;
}

int stream_put(struct stream *s, const char *data, size_t len)
{
	while (len > 0) {
		if (s->out_len == s->out_size && stream_flush(s) != 0)
			return -1;
		size_t n = s->out_size - s->out_len;
		if (n > len)
			n = len;
		memcpy(s->out + s->out_len, data, n);
		s->out_len += n;
		data += n;
		len -= n;
	}
	return 0;
}
