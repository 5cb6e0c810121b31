/* The stream layer over pipes: lines split across reads, CRLF and LF, a line too long, the
 * end of input, a peer that stays silent (per-wait timeout and whole deadline), and writes
 * that fill the buffer. */
#include "stream.h"
#include "test.h"

#include <signal.h>
#include <unistd.h>

static int pipe_in[2], pipe_out[2];
static char in[64], out[16];
static struct stream s;

static void open_pipes(void)
{
	if (pipe(pipe_in) != 0 || pipe(pipe_out) != 0)
		_exit(1);
	stream_init(&s, pipe_in[0], pipe_out[1], in, sizeof in, out, sizeof out);
	s.timeout_ms = 200;
}

static void close_pipes(void)
{
	for (int i = 0; i < 2; i++) {
		close(pipe_in[i]);
		close(pipe_out[i]);
	}
}

static void feed(const char *text)
{
	if (write(pipe_in[1], text, strlen(text)) != (ssize_t)strlen(text))
		_exit(1);
}

static bool next_line_is(const char *expected)
{
	const char *line;
	size_t len;
	return stream_line(&s, sizeof in, &line, &len) == 0 && len == strlen(expected) &&
	       memcmp(line, expected, len) == 0;
}

static void test_lines(void)
{
	open_pipes();
	feed("250-first\r\n250 sec");
	CHECK(next_line_is("250-first"));
	feed("ond\nbare\r\n\r\n");
	CHECK(next_line_is("250 second"));
	CHECK(next_line_is("bare"));
	CHECK(next_line_is(""));
	/* Silence: a timeout, said so, and nothing consumed. */
	const char *line;
	size_t len;
	int64_t start = stream_now_ms();
	CHECK(stream_line(&s, sizeof in, &line, &len) == -1 && strcmp(s.error, "timeout") == 0);
	CHECK(stream_now_ms() - start >= 150);
	/* A line longer than the bound. */
	feed("0123456789012345678901234567890123456789");
	CHECK(stream_line(&s, 32, &line, &len) == -1 && strcmp(s.error, "line too long") == 0);
	close(pipe_in[1]);
	pipe_in[1] = -1;
	size_t pending;
	stream_pending(&s, &pending);
	stream_consume(&s, pending);
	CHECK(stream_line(&s, sizeof in, &line, &len) == -1 &&
	      strcmp(s.error, "connection closed") == 0);
	CHECK(stream_fill(&s) == 0);
	close_pipes();
}

static void test_deadline_bounds_the_whole_exchange(void)
{
	open_pipes();
	s.timeout_ms = 0;
	s.deadline = stream_now_ms() + 100;
	const char *line;
	size_t len;
	CHECK(stream_line(&s, sizeof in, &line, &len) == -1 && strcmp(s.error, "timeout") == 0);
	/* Once past the deadline, nothing waits at all. */
	int64_t start = stream_now_ms();
	CHECK(stream_fill(&s) == -1 && stream_now_ms() - start < 50);
	close_pipes();
}

static void test_writes(void)
{
	char got[64];
	open_pipes();
	/* More than the 16-byte buffer: flushed as it fills, the rest on stream_flush. */
	CHECK(stream_put(&s, "0123456789abcdefghij", 20) == 0);
	CHECK(s.out_len == 4);
	CHECK(stream_flush(&s) == 0 && s.out_len == 0);
	CHECK(read(pipe_out[0], got, sizeof got) == 20 && memcmp(got, "0123456789abcdefghij", 20) == 0);
	/* A reader that went away: an error, never a crash. */
	close(pipe_out[0]);
	pipe_out[0] = -1;
	CHECK(stream_put(&s, "x", 1) == 0 && stream_flush(&s) == -1);
	CHECK(strncmp(s.error, "write: ", 7) == 0);
	close_pipes();
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_lines();
	test_deadline_bounds_the_whole_exchange();
	test_writes();
	return test_summary("stream");
}
