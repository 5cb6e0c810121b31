/* One buffered byte stream over file descriptors with bounded waits, in the line of qmail's
 * substdio + timeoutread and Postfix's smtp_stream: fill, read a line, write, flush. Every
 * wait ends at the stream's deadline or after its per-wait timeout, whichever comes first.
 * The caller owns the buffers, so every size shows where the stream is declared. */
#ifndef CHATMAIL_STREAM_H
#define CHATMAIL_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct stream {
	int in_fd, out_fd;
	int timeout_ms;	  /* longest single wait for the peer; 0: none but the deadline */
	int64_t deadline; /* CLOCK_MONOTONIC milliseconds for the whole exchange; 0: none */
	char *in;
	size_t in_size, in_start, in_end;
	char *out;
	size_t out_size, out_len;
	char error[160]; /* why the last operation failed: "timeout", "closed", "read: …" */
};

void stream_init(struct stream *s, int in_fd, int out_fd, char *in, size_t in_size, char *out,
		 size_t out_size);

int64_t stream_now_ms(void);

/* Waits for fd to be ready for events (POLLIN, POLLOUT) within the stream's bounds. */
int stream_wait(struct stream *s, int fd, short events);

/* Reads more input after what is buffered (moving it to the front). Returns the bytes read,
 * 0 at end of input, -1 on timeout, error, or a full buffer. */
ssize_t stream_fill(struct stream *s);

/* The buffered input not yet consumed, and how to consume it. */
static inline const char *stream_pending(const struct stream *s, size_t *len)
{
	*len = s->in_end - s->in_start;
	return s->in + s->in_start;
}
static inline void stream_consume(struct stream *s, size_t n)
{
	s->in_start += n;
}

/* One line of at most max bytes, its CRLF or LF stripped; *line points into the buffer until
 * the next read. Returns 0, or -1 (end of input, timeout, error, too long: see error). */
int stream_line(struct stream *s, size_t max, const char **line, size_t *len);

/* Buffers data, flushing whenever the buffer is full. */
int stream_put(struct stream *s, const char *data, size_t len);
/* Writes everything buffered. */
int stream_flush(struct stream *s);

#endif
