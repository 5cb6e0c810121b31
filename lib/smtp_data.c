/* DATA decoding as a byte state machine: only <CRLF>.<CRLF> ends a message. */
#include "smtp_data.h"

#include "smtp.h"

#include <stdlib.h>
#include <string.h>

void smtp_data_begin(struct smtp_data *data, size_t limit)
{
	smtp_data_free(data);
	data->limit = limit;
}

void smtp_data_free(struct smtp_data *data)
{
	free(data->message);
	memset(data, 0, sizeof *data);
	data->state = SMTP_DATA_LINE_START;
}

static int grow(struct smtp_data *data, size_t need)
{
	size_t size = data->size > 0 ? data->size : SMTP_DATA_INITIAL_SIZE;

	while (size < need && size <= data->limit / 2)
		size *= 2;
	if (size < need || size > data->limit)
		size = data->limit;
	char *message = realloc(data->message, size);
	if (message == NULL)
		return -1;
	data->message = message;
	data->size = size;
	return 0;
}

static void emit(struct smtp_data *data, const char *bytes, size_t n)
{
	data->line_len += n;
	if (data->line_len > SMTP_DATA_LINE_MAX)
		data->problems |= SMTP_DATA_LINE_TOO_LONG;
	if (data->problems != 0)
		return;
	if (n > data->limit - data->len) {
		data->problems |= SMTP_DATA_TOO_BIG;
		return;
	}
	if (data->len + n > data->size && grow(data, data->len + n) != 0) {
		data->problems |= SMTP_DATA_NO_MEMORY;
		return;
	}
	memcpy(data->message + data->len, bytes, n);
	data->len += n;
}

/* The first CR, LF or NUL in buf[0..len), or len: three vectorized scans. */
static size_t line_stop(const char *buf, size_t len)
{
	const char *end = memchr(buf, '\r', len);
	if (end != NULL)
		len = (size_t)(end - buf);
	if ((end = memchr(buf, '\n', len)) != NULL)
		len = (size_t)(end - buf);
	if ((end = memchr(buf, '\0', len)) != NULL)
		len = (size_t)(end - buf);
	return len;
}

/* The length of the run of ordinary line bytes at buf[0..len), looked for window by window
 * rather than byte by byte: a scan for a CR that is far away (bare LF lines) then costs one
 * window per line, not the rest of the buffer. */
#define PLAIN_RUN_WINDOW 256
static size_t plain_run(const char *buf, size_t len)
{
	size_t run = 0;
	while (run < len) {
		size_t window = len - run < PLAIN_RUN_WINDOW ? len - run : PLAIN_RUN_WINDOW;
		size_t stop = line_stop(buf + run, window);
		run += stop;
		if (stop < window)
			break;
	}
	return run;
}

size_t smtp_data_feed(struct smtp_data *data, const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && !data->done) {
		char c = buf[i];
		switch (data->state) {
		case SMTP_DATA_LINE_START:
			data->state = SMTP_DATA_IN_LINE;
			if (c == '.') {
				data->state = SMTP_DATA_DOT;
				i++;
			}
			break;
		case SMTP_DATA_DOT:
			/* A stuffed dot is dropped; ".\r\n" may end the message. */
			data->state = SMTP_DATA_IN_LINE;
			if (c == '\r') {
				data->state = SMTP_DATA_DOT_CR;
				i++;
			}
			break;
		case SMTP_DATA_DOT_CR:
			if (c == '\n') {
				data->done = true;
				i++;
			} else {
				data->state = SMTP_DATA_CR;
			}
			break;
		case SMTP_DATA_CR:
			if (c == '\n') {
				emit(data, "\r\n", 2);
				data->line_len = 0;
				data->state = SMTP_DATA_LINE_START;
				i++;
			} else {
				emit(data, "\r", 1);
				data->state = SMTP_DATA_IN_LINE;
			}
			break;
		case SMTP_DATA_IN_LINE: {
			size_t run = plain_run(buf + i, len - i);
			if (run > 0) {
				emit(data, buf + i, run);
				i += run;
			} else if (c == '\r') {
				data->state = SMTP_DATA_CR;
				i++;
			} else {
				data->problems |= c == '\n' ? SMTP_DATA_BARE_LF : SMTP_DATA_NUL;
				emit(data, &c, 1);
				i++;
			}
			break;
		}
		}
	}
	return i;
}
