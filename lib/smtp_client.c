/* Relay of one message to 127.0.0.1:port in lockstep: greeting, EHLO, XFORWARD, MAIL, RCPT...,
 * DATA, the dot-stuffed message, the final dot. One deadline bounds it all. */
#include "smtp_client.h"

#include "log.h"
#include "stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_INPUT_SIZE 8192
#define CLIENT_OUTPUT_SIZE 65536
/* An XFORWARD command stays below Postfix's own bound for it. */
#define CLIENT_XFORWARD_MAX 500
#define CLIENT_QUIT_WAIT_MS 1000

struct features {
	bool size;
	bool eightbit;
	bool smtputf8;
	bool xforward[SMTP_XFORWARD_COUNT];
};

struct reply {
	int code;
	char text[SMTP_REPLY_TEXT_MAX + 1];
	size_t text_len;
};

/* One hand-over: the socket as a stream, and its buffers (allocated per relay, not static). */
struct connection {
	struct stream io;
	char in[CLIENT_INPUT_SIZE];
	char out[CLIENT_OUTPUT_SIZE];
};

static int fail(struct connection *c, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct connection *c, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	if (vsnprintf(c->io.error, sizeof c->io.error, format, args) < 0)
		c->io.error[0] = '\0';
	va_end(args);
	return -1;
}

static int open_connection(struct connection *c, const struct smtp_client_request *request)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(request->port)};
	int error = 0;
	socklen_t error_len = sizeof error;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return fail(c, "socket: %s", strerror(errno));
	c->io.in_fd = c->io.out_fd = fd;
	if (request->source_address != NULL) {
		struct sockaddr_in from = {.sin_family = AF_INET};
		if (inet_pton(AF_INET, request->source_address, &from.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&from, sizeof from) != 0)
			return fail(c, "bind %s: %s", request->source_address, strerror(errno));
	}
	if (connect(fd, (struct sockaddr *)&to, sizeof to) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return fail(c, "connect: %s", strerror(errno));
	if (stream_wait(&c->io, fd, POLLOUT) != 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len) != 0 || error != 0)
		return fail(c, "connect: %s", strerror(error != 0 ? error : errno));
	return 0;
}

static int command(struct connection *c, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* Sends one command line (CRLF added) and flushes. */
static int command(struct connection *c, const char *format, ...)
{
	char line[SMTP_LINE_MAX + 1];
	va_list args;

	va_start(args, format);
	int n = vsnprintf(line, sizeof line - 2, format, args);
	va_end(args);
	if (n < 0 || (size_t)n >= sizeof line - 2)
		return fail(c, "command too long");
	memcpy(line + n, "\r\n", 2);
	if (stream_put(&c->io, line, (size_t)n + 2) != 0)
		return -1;
	return stream_flush(&c->io);
}

static void note_features(const char *text, size_t len, struct features *features)
{
	const char *params;
	size_t params_len;

	if (smtp_ehlo_keyword(text, len, "SIZE", &params, &params_len))
		features->size = true;
	else if (smtp_ehlo_keyword(text, len, "8BITMIME", &params, &params_len))
		features->eightbit = true;
	else if (smtp_ehlo_keyword(text, len, "SMTPUTF8", &params, &params_len))
		features->smtputf8 = true;
	else if (smtp_ehlo_keyword(text, len, "XFORWARD", &params, &params_len))
		for (size_t i = 0; i < params_len;) {
			size_t word = i;
			while (word < params_len && params[word] != ' ')
				word++;
			for (int a = 0; a < SMTP_XFORWARD_COUNT; a++)
				if (strlen(smtp_xforward_names[a]) == word - i &&
				    strncasecmp(smtp_xforward_names[a], params + i, word - i) == 0)
					features->xforward[a] = true;
			i = word + 1;
		}
}

/* Reads a whole (multi-line) reply; keeps the code and the last line's text. */
static int read_reply(struct connection *c, struct reply *reply, struct features *features)
{
	struct smtp_reply_line parsed;
	const char *line = NULL;
	size_t len = 0;

	for (int lines = 0; lines < SMTP_CLIENT_REPLY_LINES_MAX; lines++) {
		if (stream_line(&c->io, SMTP_CLIENT_LINE_MAX, &line, &len) != 0)
			return -1;
		if (smtp_reply_parse(line, len, &parsed) != 0)
			return fail(c, "malformed reply");
		if (features != NULL)
			note_features(parsed.text, parsed.text_len, features);
		if (parsed.more)
			continue;
		reply->code = parsed.code;
		reply->text_len =
		    parsed.text_len < SMTP_REPLY_TEXT_MAX ? parsed.text_len : SMTP_REPLY_TEXT_MAX;
		memcpy(reply->text, parsed.text, reply->text_len);
		reply->text[reply->text_len] = '\0';
		return 0;
	}
	return fail(c, "reply of too many lines");
}

/* Reads a reply and checks its class: 2 for 2xx, 3 for 3xx. A 4xx/5xx reply is passed back
 * to the filter's client as it came (returns 1); anything else is a failure (-1). */
static int expect(struct connection *c, int class, struct reply *reply, struct features *f,
		  const char *step)
{
	if (read_reply(c, reply, f) != 0)
		return -1;
	if (reply->code / 100 == class)
		return 0;
	if (reply->code >= 400)
		return 1;
	return fail(c, "unexpected reply %d to %s", reply->code, step);
}

static int send_xforward(struct connection *c, const struct smtp_xforward *xforward,
			 const struct features *features, struct reply *reply)
{
	char line[CLIENT_XFORWARD_MAX + SMTP_XFORWARD_VALUE_MAX + 16];
	size_t len = 0;

	for (int a = 0; a <= SMTP_XFORWARD_COUNT; a++) {
		bool last = a == SMTP_XFORWARD_COUNT;
		size_t add =
		    last ? 0 : strlen(smtp_xforward_names[a]) + strlen(xforward->value[a]) + 2;
		if (!last && (!xforward->present[a] || !features->xforward[a]))
			continue;
		if (len > 0 && (last || len + add > CLIENT_XFORWARD_MAX)) {
			int rc;
			if (command(c, "XFORWARD%.*s", (int)len, line) != 0 ||
			    (rc = expect(c, 2, reply, NULL, "XFORWARD")) < 0)
				return -1;
			if (rc > 0)
				return fail(c, "XFORWARD refused: %d", reply->code);
			len = 0;
		}
		if (last)
			break;
		int n = snprintf(line + len, sizeof line - len, " %s=%s", smtp_xforward_names[a],
				 xforward->value[a]);
		if (n < 0 || (size_t)n >= sizeof line - len)
			return fail(c, "XFORWARD too long");
		len += (size_t)n;
	}
	return 0;
}

static int send_message(struct connection *c, const char *message, size_t len)
{
	struct smtp_stuffer stuffer;
	size_t pos = 0, consumed;

	struct stream *io = &c->io;
	smtp_stuffer_init(&stuffer);
	while (pos < len) {
		/* Stuffed straight into the output buffer: no copy of the message. */
		io->out_len += smtp_stuff(&stuffer, message + pos, len - pos, io->out + io->out_len,
					  io->out_size - io->out_len, &consumed);
		pos += consumed;
		if (io->out_size - io->out_len < 2 && stream_flush(io) != 0)
			return -1;
	}
	if (len > 0 && (len < 2 || message[len - 2] != '\r' || message[len - 1] != '\n') &&
	    stream_put(io, "\r\n", 2) != 0)
		return -1;
	if (stream_put(io, ".\r\n", 3) != 0)
		return -1;
	return stream_flush(io);
}

/* The envelope up to DATA's 354. Returns 0, 1 (reply holds a refusal) or -1. */
static int send_envelope(struct connection *c, const struct smtp_client_request *request,
			 struct reply *reply)
{
	struct features features = {0};
	const struct smtp_tx *tx = request->tx;
	const struct smtp_path *mail = &tx->mail;
	int rc;

	if ((rc = expect(c, 2, reply, NULL, "greeting")) != 0)
		return rc < 0 ? -1 : fail(c, "greeting refused: %d", reply->code);
	if (command(c, "EHLO %s", request->helo) != 0)
		return -1;
	if ((rc = expect(c, 2, reply, &features, "EHLO")) != 0)
		return rc < 0 ? -1 : fail(c, "EHLO refused: %d", reply->code);
	if (send_xforward(c, &tx->xforward, &features, reply) != 0)
		return -1;
	char size[32] = "";
	if (features.size && snprintf(size, sizeof size, " SIZE=%zu", tx->data.len) < 0)
		size[0] = '\0';
	if (command(c, "MAIL FROM:<%s>%s%s%s", request->null_sender ? "" : mail->address, size,
		    mail->body_8bit && features.eightbit ? " BODY=8BITMIME" : "",
		    mail->smtputf8 && features.smtputf8 ? " SMTPUTF8" : "") != 0)
		return -1;
	if ((rc = expect(c, 2, reply, NULL, "MAIL")) != 0)
		return rc;
	for (size_t i = 0; i < tx->recipient_count; i++) {
		if (command(c, "RCPT TO:<%s>", tx->recipients[i].address) != 0)
			return -1;
		if ((rc = expect(c, 2, reply, NULL, "RCPT")) != 0)
			return rc;
	}
	if (command(c, "DATA") != 0)
		return -1;
	return expect(c, 3, reply, NULL, "DATA");
}

static void answer_with(struct smtp_client_answer *answer, const struct reply *reply)
{
	answer->code = reply->code;
	answer->text_len = reply->text_len;
	memcpy(answer->text, reply->text, reply->text_len + 1);
	answer->accepted = reply->code / 100 == 2;
}

static void temporary_failure(struct smtp_client_answer *answer)
{
	static const char text[] = "4.3.0 Error: mail queue unavailable, try again later";
	answer->code = SMTP_REPLY_LOCAL_ERROR;
	answer->text_len = sizeof text - 1;
	memcpy(answer->text, text, sizeof text);
	answer->accepted = false;
}

void smtp_client_relay(const struct smtp_client_request *request, struct smtp_client_answer *answer)
{
	struct connection *c = malloc(sizeof *c);
	struct reply reply = {0};
	int rc;

	if (c == NULL) {
		log_warn("cannot hand the message to 127.0.0.1:%u: out of memory", request->port);
		temporary_failure(answer);
		return;
	}
	stream_init(&c->io, -1, -1, c->in, sizeof c->in, c->out, sizeof c->out);
	c->io.deadline = stream_now_ms() + (int64_t)request->time_limit * 1000;
	rc = open_connection(c, request);
	if (rc == 0)
		rc = send_envelope(c, request, &reply);
	/* After a refusal at 354, closing without the final dot drops the transaction. */
	if (rc == 0 &&
	    (rc = send_message(c, smtp_tx_message(request->tx), request->tx->data.len)) == 0)
		rc = expect(c, 2, &reply, NULL, "end of data");
	if (rc >= 0) {
		answer_with(answer, &reply);
		if (rc > 0)
			log_info("127.0.0.1:%u refused the message: %d %s", request->port,
				 reply.code, reply.text);
		/* A polite QUIT, but the answer is already known: do not wait long for 221. */
		int64_t quit_deadline = stream_now_ms() + CLIENT_QUIT_WAIT_MS;
		if (quit_deadline < c->io.deadline)
			c->io.deadline = quit_deadline;
		if (command(c, "QUIT") == 0)
			(void)read_reply(c, &reply, NULL);
	} else {
		log_warn("cannot hand the message to 127.0.0.1:%u: %s", request->port, c->io.error);
		temporary_failure(answer);
	}
	if (c->io.in_fd >= 0)
		close(c->io.in_fd);
	free(c);
}
