/* libFuzzer: the SMTP server state machine on any client bytes, split into reads anywhere,
 * never reads out of bounds, keeps its bounds (recipients, message size, reply length), and
 * answers with well-formed replies. The first byte chooses the read size. */
#include "smtp_server.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MESSAGE_LIMIT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const struct smtp_server *server)
{
	const char *reply = server->reply;
	size_t len = server->reply_len;

	if (len < 6 || len > sizeof server->reply || reply[len - 2] != '\r' ||
	    reply[len - 1] != '\n')
		abort();
	if (reply[0] < '2' || reply[0] > '5')
		abort();
	for (size_t i = 0; i + 2 < len; i++)
		if (reply[i] == '\n' && (reply[i - 1] != '\r' || reply[i + 1] < '2'))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_server server;
	size_t step, pos = 1, end = 0;

	if (size == 0)
		return 0;
	step = (size_t)data[0] % 64 + 1;
	smtp_server_init(&server, "example.org", FUZZ_MESSAGE_LIMIT);
	/* A reader's buffer: bytes arrive step at a time and stay until taken. */
	while (pos < size || end > 0) {
		static char buf[2 * SMTP_LINE_MAX];
		size_t room = sizeof buf - end, n = size - pos < step ? size - pos : step;
		if (n > room)
			n = room;
		memcpy(buf + end, data + pos, n);
		end += n;
		pos += n;
		size_t consumed;
		enum smtp_action action = smtp_server_input(&server, buf, end, &consumed);
		if (consumed > end)
			abort();
		memmove(buf, buf + consumed, end - consumed);
		end -= consumed;
		if (action == SMTP_ACTION_NONE && consumed == 0 &&
		    (pos == size || end == sizeof buf)) {
			if (end == sizeof buf)
				abort(); /* a full buffer must always make progress */
			break;
		}
		if (action == SMTP_ACTION_MAIL)
			(data[pos - 1] & 1) ? smtp_server_mail_accept(&server)
					    : smtp_server_refuse(&server, 450, "4.7.1 later");
		if (action == SMTP_ACTION_RCPT)
			(data[pos - 1] & 2) ? smtp_server_rcpt_accept(&server)
					    : smtp_server_rcpt_refuse(&server, 550, "5.1.1 unknown");
		if (action == SMTP_ACTION_MESSAGE) {
			if (server.tx.data.len > FUZZ_MESSAGE_LIMIT || server.tx.data.problems != 0 ||
			    server.tx.recipient_count == 0)
				abort();
			smtp_server_message_done(&server, 250, "2.0.0 Ok", 8);
		}
		if (action != SMTP_ACTION_NONE)
			check_reply(&server);
		if (server.tx.recipient_count > SMTP_RECIPIENT_LIMIT)
			abort();
		if (action == SMTP_ACTION_CLOSE)
			break;
	}
	smtp_server_free(&server);
	return 0;
}
