/* The DATA decoder (lib/smtp_data.h): end detection, dot-unstuffing, bounds, bad bytes. */
#include "smtp.h"
#include "smtp_data.h"
#include "test.h"

#include <stdlib.h>

/* Feeds in[0..len) in pieces of step bytes; returns the bytes taken before the end. */
static size_t feed(struct smtp_data *data, const char *in, size_t len, size_t step)
{
	size_t pos = 0;
	while (pos < len && !data->done) {
		size_t n = len - pos < step ? len - pos : step;
		pos += smtp_data_feed(data, in + pos, n);
	}
	return pos;
}

/* The message in decodes to want, whatever the piece size, and the end is found exactly. */
static void check_decodes(const char *in, const char *want, size_t after)
{
	size_t len = strlen(in);
	for (size_t step = 1; step <= len; step++) {
		struct smtp_data data = {0};
		smtp_data_begin(&data, 1 << 20);
		size_t taken = feed(&data, in, len, step);
		CHECK(data.done);
		CHECK(data.problems == 0);
		CHECK(taken == len - after);
		CHECK(data.len == strlen(want));
		CHECK(data.len == 0 || memcmp(data.message, want, data.len) == 0);
		smtp_data_free(&data);
	}
}

static unsigned problems_of(const char *in, size_t len, size_t limit)
{
	struct smtp_data data = {0};
	smtp_data_begin(&data, limit);
	feed(&data, in, len, len);
	unsigned problems = data.done ? data.problems : 0xffff;
	smtp_data_free(&data);
	return problems;
}

static void test_end_and_unstuffing(void)
{
	check_decodes("a\r\n.\r\n", "a\r\n", 0);
	check_decodes(".\r\n", "", 0);
	check_decodes("a\r\n.\r\nQUIT\r\n", "a\r\n", 6);
	check_decodes("..a\r\n.b\r\n...\r\n..\r\n.\r\n", ".a\r\nb\r\n..\r\n.\r\n", 0);
	/* A dot not at a line start is content. */
	check_decodes("a.\r\n.\r\n", "a.\r\n", 0);
	/* ".\r" followed by something else: the dot was stuffing, the CR stays. */
	check_decodes(".\rx\r\n.\r\n", "\rx\r\n", 0);
	check_decodes(".\r\r\n.\r\n", "\r\r\n", 0);
	/* Bare CRs stay as they came. */
	check_decodes("a\rb\r\r\n.\r\n", "a\rb\r\r\n", 0);
	/* The blank line between headers and body. */
	check_decodes("H: v\r\n\r\nbody\r\n.\r\n", "H: v\r\n\r\nbody\r\n", 0);
}

static void test_problems(void)
{
	/* Only CRLF.CRLF ends DATA: LF.LF, CR.CR and LF.CRLF do not (no SMTP smuggling). */
	CHECK(problems_of("a\n.\nb\r\n.\r\n", 11, 1024) == SMTP_DATA_BARE_LF);
	CHECK(problems_of("a\n.\r\nb\r\n.\r\n", 12, 1024) == SMTP_DATA_BARE_LF);
	CHECK(problems_of("a\r.\rb\r\n.\r\n", 11, 1024) == 0);
	CHECK(problems_of(".\n\r\n.\r\n", 7, 1024) == SMTP_DATA_BARE_LF);
	CHECK(problems_of("a\0b\r\n.\r\n", 8, 1024) == SMTP_DATA_NUL);
	CHECK(problems_of("a\0b\nc\r\n.\r\n", 10, 1024) == (SMTP_DATA_NUL | SMTP_DATA_BARE_LF));

	/* The size limit counts the decoded message: exactly the limit passes. */
	CHECK(problems_of("12345678\r\n.\r\n", 13, 10) == 0);
	CHECK(problems_of("123456789\r\n.\r\n", 14, 10) == SMTP_DATA_TOO_BIG);
	CHECK(problems_of("..345678\r\n.\r\n", 13, 9) == 0);
}

static void test_bounds(void)
{
	/* A line of SMTP_DATA_LINE_MAX bytes with its CRLF passes; one more byte does not. */
	size_t len = SMTP_DATA_LINE_MAX + 16;
	char *in = malloc(len);
	memset(in, 'x', len);
	memcpy(in + SMTP_DATA_LINE_MAX - 2, "\r\n.\r\n", 5);
	CHECK(problems_of(in, SMTP_DATA_LINE_MAX + 3, 1 << 20) == 0);
	memset(in, 'x', len);
	memcpy(in + SMTP_DATA_LINE_MAX - 1, "\r\n.\r\n", 5);
	CHECK(problems_of(in, SMTP_DATA_LINE_MAX + 4, 1 << 20) == SMTP_DATA_LINE_TOO_LONG);
	free(in);

	/* A 1 MB line: refused, drained, and never stored past the problem. */
	struct smtp_data data = {0};
	char chunk[4096];
	memset(chunk, 'y', sizeof chunk);
	smtp_data_begin(&data, 32 << 20);
	for (int i = 0; i < 256; i++)
		CHECK(smtp_data_feed(&data, chunk, sizeof chunk) == sizeof chunk);
	CHECK(!data.done);
	CHECK(data.problems == SMTP_DATA_LINE_TOO_LONG);
	CHECK(data.size <= 2 * SMTP_DATA_LINE_MAX);
	CHECK(smtp_data_feed(&data, "\r\n.\r\n", 5) == 5);
	CHECK(data.done);
	smtp_data_free(&data);

	/* The buffer grows with the message, not to the limit up front. */
	smtp_data_begin(&data, 1u << 31);
	CHECK(smtp_data_feed(&data, "hi\r\n.\r\n", 7) == 7);
	CHECK(data.size == SMTP_DATA_INITIAL_SIZE);
	smtp_data_free(&data);

	/* A limit below the first allocation caps it. */
	smtp_data_begin(&data, 1024);
	CHECK(smtp_data_feed(&data, "hi\r\n.\r\n", 7) == 7);
	CHECK(data.size == 1024);
	smtp_data_free(&data);

	/* A big message grows by doubling and stays within its limit. */
	size_t limit = 3 * SMTP_DATA_INITIAL_SIZE + 7;
	smtp_data_begin(&data, limit);
	char line[1000];
	memset(line, 'z', sizeof line);
	memcpy(line + sizeof line - 2, "\r\n", 2);
	while (data.problems == 0)
		smtp_data_feed(&data, line, sizeof line);
	CHECK(data.problems == SMTP_DATA_TOO_BIG);
	CHECK(data.size == limit);
	CHECK(data.len <= limit);
	smtp_data_free(&data);
}

int main(void)
{
	test_end_and_unstuffing();
	test_problems();
	test_bounds();
	return test_summary("smtp_data");
}
