/* The DATA phase of one message: finds <CRLF>.<CRLF>, undoes dot-stuffing, and keeps the
 * message within max_message_size, growing its buffer as bytes arrive, never up front. */
#ifndef CHATMAIL_SMTP_DATA_H
#define CHATMAIL_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>

/* What is wrong with a message; any of them refuses it once its DATA has ended. */
#define SMTP_DATA_TOO_BIG 0x01	     /* more than the limit (max_message_size) */
#define SMTP_DATA_LINE_TOO_LONG 0x02 /* a line beyond SMTP_DATA_LINE_MAX */
#define SMTP_DATA_BARE_LF 0x04	     /* an LF without CR: never a line end (no smuggling) */
#define SMTP_DATA_NUL 0x08	     /* a NUL byte, which no SMTP text may hold */
#define SMTP_DATA_NO_MEMORY 0x10     /* the buffer could not grow */

/* The first allocation; each growth doubles it, up to the limit. */
#define SMTP_DATA_INITIAL_SIZE (64 * 1024)

enum smtp_data_state {
	SMTP_DATA_LINE_START, /* after CRLF (or at the start) */
	SMTP_DATA_DOT,	      /* a '.' at a line start */
	SMTP_DATA_DOT_CR,     /* ".\r" at a line start */
	SMTP_DATA_IN_LINE,
	SMTP_DATA_CR, /* a CR not yet known to end the line */
};

struct smtp_data {
	char *message; /* the message as sent, dot-stuffing undone, CRLF line ends */
	size_t len;
	size_t size;  /* allocated */
	size_t limit; /* max_message_size */
	size_t line_len;
	enum smtp_data_state state;
	unsigned problems;
	bool done;
};

/* Starts a message of at most limit bytes. Any earlier message is freed. */
void smtp_data_begin(struct smtp_data *data, size_t limit);

/* Takes DATA bytes up to and including the terminating <CRLF>.<CRLF> and returns how many it
 * took; data->done tells whether the end was reached. Past a problem, bytes are only
 * drained, not stored. */
size_t smtp_data_feed(struct smtp_data *data, const char *buf, size_t len);

void smtp_data_free(struct smtp_data *data);

#endif
