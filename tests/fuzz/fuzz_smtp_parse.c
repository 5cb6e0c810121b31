/* libFuzzer: MAIL/RCPT paths, XFORWARD attributes and reply lines parse within bounds, and
 * dot-stuffing then DATA decoding gives back any message with CRLF line ends. */
#include "smtp.h"
#include "smtp_data.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const struct smtp_path *path)
{
	if (path->address_len > SMTP_ADDRESS_MAX || strlen(path->address) != path->address_len)
		abort();
	for (size_t i = 0; i < path->address_len; i++)
		if ((unsigned char)path->address[i] < 0x20 || path->address[i] == 0x7f)
			abort();
}

/* A message made of the input: CR and LF only as CRLF pairs, no NUL; then stuffed, ended,
 * and decoded again through a small output window. */
static void check_round_trip(const char *text, size_t size)
{
	char *message = malloc(2 * size + 3), *stuffed = malloc(4 * size + 8);
	size_t len = 0, stuffed_len = 0, consumed;

	for (size_t i = 0; i < size; i++) {
		if (text[i] == '\n') {
			memcpy(message + len, "\r\n", 2);
			len += 2;
		} else if (text[i] != '\r' && text[i] != '\0') {
			message[len++] = text[i];
		}
	}
	memcpy(message + len, "\r\n", 2);
	len += 2;
	struct smtp_stuffer stuffer;
	smtp_stuffer_init(&stuffer);
	for (size_t pos = 0; pos < len; pos += consumed)
		stuffed_len += smtp_stuff(&stuffer, message + pos, len - pos, stuffed + stuffed_len,
					  size % 7 + 2, &consumed);
	memcpy(stuffed + stuffed_len, ".\r\n", 3);
	stuffed_len += 3;

	struct smtp_data decoded = {0};
	smtp_data_begin(&decoded, len + 1);
	if (smtp_data_feed(&decoded, stuffed, stuffed_len) != stuffed_len || !decoded.done)
		abort();
	if (decoded.problems == 0 &&
	    (decoded.len != len || memcmp(decoded.message, message, len) != 0))
		abort();
	if (decoded.problems & ~SMTP_DATA_LINE_TOO_LONG)
		abort();
	smtp_data_free(&decoded);
	free(message);
	free(stuffed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct smtp_path path;
	struct smtp_command command;

	smtp_command_parse(text, size, &command);
	if (command.arg < text || command.arg + command.arg_len > text + size)
		abort();
	if (smtp_parse_mail(text, size, &path) == SMTP_PATH_OK)
		check_path(&path);
	if (smtp_parse_rcpt(text, size, &path) == SMTP_PATH_OK) {
		check_path(&path);
		if (path.address_len == 0)
			abort();
	}

	struct smtp_xforward xforward;
	memset(&xforward, 0, sizeof xforward);
	if (smtp_parse_xforward(text, size, &xforward) == 0)
		for (int a = 0; a < SMTP_XFORWARD_COUNT; a++)
			if (xforward.present[a] &&
			    (strlen(xforward.value[a]) == 0 ||
			     strlen(xforward.value[a]) > SMTP_XFORWARD_VALUE_MAX ||
			     strpbrk(xforward.value[a], " =\r\n") != NULL))
				abort();

	struct smtp_reply_line reply;
	if (smtp_reply_parse(text, size, &reply) == 0 &&
	    (reply.code < 200 || reply.code > 599 || reply.text + reply.text_len > text + size))
		abort();

	char formatted[64];
	size_t n = smtp_reply_format(formatted, sizeof formatted, 250, false, text, size);
	if (n != 0 && (n != size + 6 || memchr(formatted, '\n', n - 1) != NULL))
		abort();

	check_round_trip(text, size);
	return 0;
}
