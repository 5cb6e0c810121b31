/* SMTP server state machine: one function per command, replies with enhanced status codes. */
#include "smtp_server.h"

#include "address.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_reply(struct smtp_server *server, int code, const char *text)
{
	size_t len = strlen(text);

	if (len > SMTP_REPLY_TEXT_MAX)
		len = SMTP_REPLY_TEXT_MAX;
	server->reply_len =
	    smtp_reply_format(server->reply, sizeof server->reply, code, false, text, len);
	if (code >= 500)
		server->errors++;
}

/* Appends one line of a multi-line reply. */
static void add_reply_line(struct smtp_server *server, int code, bool more, const char *text)
{
	size_t room = sizeof server->reply - server->reply_len;
	size_t n = smtp_reply_format(server->reply + server->reply_len, room, code, more, text,
				     strlen(text));
	server->reply_len += n;
}

static void reset_transaction(struct smtp_server *server)
{
	smtp_tx_reset(&server->tx);
	if (server->state != SMTP_STATE_START)
		server->state = SMTP_STATE_READY;
}

void smtp_server_init(struct smtp_server *server, const char *hostname, uint64_t max_message_size)
{
	char text[SMTP_HOSTNAME_MAX + 32];

	memset(server, 0, sizeof *server);
	snprintf(server->hostname, sizeof server->hostname, "%s", hostname);
	server->max_message_size = max_message_size;
	server->state = SMTP_STATE_START;
	smtp_tx_reset(&server->tx);
	if (snprintf(text, sizeof text, "%s ESMTP filtermail", server->hostname) < 0)
		text[0] = '\0';
	set_reply(server, SMTP_REPLY_READY, text);
}

void smtp_server_free(struct smtp_server *server)
{
	reset_transaction(server);
}

static enum smtp_action reply(struct smtp_server *server, int code, const char *text)
{
	set_reply(server, code, text);
	if (server->errors >= SMTP_ERROR_LIMIT) {
		char line[SMTP_HOSTNAME_MAX + 64];
		if (snprintf(line, sizeof line, "4.7.0 %s Error: too many errors",
			     server->hostname) < 0)
			line[0] = '\0';
		set_reply(server, SMTP_REPLY_UNAVAILABLE, line);
		return SMTP_ACTION_CLOSE;
	}
	return SMTP_ACTION_REPLY;
}

static enum smtp_action command_ehlo(struct smtp_server *server, const struct smtp_command *cmd,
				     bool extended)
{
	char line[64];

	if (cmd->arg_len == 0)
		return reply(server, SMTP_REPLY_ARGUMENT_SYNTAX,
			     extended ? "5.5.4 Syntax: EHLO hostname"
				      : "5.5.4 Syntax: HELO hostname");
	server->state = SMTP_STATE_READY;
	reset_transaction(server);
	if (!extended) {
		set_reply(server, SMTP_REPLY_OK, server->hostname);
		return SMTP_ACTION_REPLY;
	}
	server->reply_len = 0;
	add_reply_line(server, SMTP_REPLY_OK, true, server->hostname);
	add_reply_line(server, SMTP_REPLY_OK, true, "PIPELINING");
	if (snprintf(line, sizeof line, "SIZE %" PRIu64, server->max_message_size) < 0)
		line[0] = '\0';
	add_reply_line(server, SMTP_REPLY_OK, true, line);
	add_reply_line(server, SMTP_REPLY_OK, true, "8BITMIME");
	add_reply_line(server, SMTP_REPLY_OK, true, "ENHANCEDSTATUSCODES");
	add_reply_line(server, SMTP_REPLY_OK, false,
		       "XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE");
	return SMTP_ACTION_REPLY;
}

static enum smtp_action command_xforward(struct smtp_server *server, const struct smtp_command *cmd)
{
	if (server->state == SMTP_STATE_START)
		return reply(server, SMTP_REPLY_BAD_SEQUENCE, "5.5.1 Error: send HELO/EHLO first");
	if (server->state != SMTP_STATE_READY)
		return reply(server, SMTP_REPLY_BAD_SEQUENCE,
			     "5.5.1 Error: MAIL transaction in progress");
	if (smtp_parse_xforward(cmd->arg, cmd->arg_len, &server->tx.xforward) != 0)
		return reply(server, SMTP_REPLY_ARGUMENT_SYNTAX,
			     "5.5.4 Syntax: XFORWARD attribute=value...");
	return reply(server, SMTP_REPLY_OK, "2.0.0 Ok");
}

static enum smtp_action command_mail(struct smtp_server *server, const struct smtp_command *cmd)
{
	if (server->state == SMTP_STATE_START)
		return reply(server, SMTP_REPLY_BAD_SEQUENCE, "5.5.1 Error: send HELO/EHLO first");
	if (server->state != SMTP_STATE_READY)
		return reply(server, SMTP_REPLY_BAD_SEQUENCE, "5.5.1 Error: nested MAIL command");
	switch (smtp_parse_mail(cmd->arg, cmd->arg_len, &server->tx.mail)) {
	case SMTP_PATH_OK:
		break;
	case SMTP_PATH_SYNTAX:
		return reply(server, SMTP_REPLY_ARGUMENT_SYNTAX,
			     "5.5.4 Syntax: MAIL FROM:<address>");
	case SMTP_PATH_TOO_LONG:
		return reply(server, SMTP_REPLY_ARGUMENT_SYNTAX,
			     "5.1.7 Error: sender address too long");
	case SMTP_PATH_PARAMETER:
		return reply(server, SMTP_REPLY_BAD_PARAMETER, "5.5.4 Error: unsupported option");
	}
	if (server->tx.mail.has_size && server->tx.mail.size > server->max_message_size)
		return reply(server, SMTP_REPLY_TOO_BIG, "5.3.4 Message size exceeds fixed limit");
	if (address_canonical(server->tx.mail.address, server->tx.mail.address_len,
			      server->tx.sender, sizeof server->tx.sender) < 0)
		server->tx.sender[0] = '\0';
	return SMTP_ACTION_MAIL;
}

void smtp_server_mail_accept(struct smtp_server *server)
{
	server->state = SMTP_STATE_MAIL;
	set_reply(server, SMTP_REPLY_OK, "2.1.0 Ok");
}

void smtp_server_refuse(struct smtp_server *server, int code, const char *text)
{
	set_reply(server, code, text);
}

static enum smtp_action command_rcpt(struct smtp_server *server, const struct smtp_command *cmd)
{
	struct smtp_path path;

	if (server->state != SMTP_STATE_MAIL && server->state != SMTP_STATE_RCPT)
		return reply(server, SMTP_REPLY_BAD_SEQUENCE, "5.5.1 Error: need MAIL command");
	switch (smtp_parse_rcpt(cmd->arg, cmd->arg_len, &path)) {
	case SMTP_PATH_OK:
		break;
	case SMTP_PATH_SYNTAX:
	case SMTP_PATH_PARAMETER:
		return reply(server, SMTP_REPLY_ARGUMENT_SYNTAX, "5.5.4 Syntax: RCPT TO:<address>");
	case SMTP_PATH_TOO_LONG:
		return reply(server, SMTP_REPLY_ARGUMENT_SYNTAX,
			     "5.1.3 Error: recipient address too long");
	}
	if (server->tx.recipient_count >= SMTP_RECIPIENT_LIMIT)
		return reply(server, SMTP_REPLY_TOO_MANY, "4.5.3 Error: too many recipients");
	if (smtp_tx_add_recipient(&server->tx, &path) != 0)
		return reply(server, SMTP_REPLY_LOCAL_ERROR,
			     "4.3.0 Error: insufficient system resources");
	return SMTP_ACTION_RCPT;
}

void smtp_server_rcpt_accept(struct smtp_server *server)
{
	server->state = SMTP_STATE_RCPT;
	set_reply(server, SMTP_REPLY_OK, "2.1.5 Ok");
}

void smtp_server_rcpt_refuse(struct smtp_server *server, int code, const char *text)
{
	if (server->tx.recipient_count > 0)
		server->tx.recipient_count--;
	set_reply(server, code, text);
}

static enum smtp_action command_data(struct smtp_server *server, const struct smtp_command *cmd)
{
	if (cmd->arg_len > 0)
		return reply(server, SMTP_REPLY_ARGUMENT_SYNTAX, "5.5.4 Syntax: DATA");
	if (server->state == SMTP_STATE_MAIL)
		return reply(server, SMTP_REPLY_FAILED, "5.5.1 Error: no valid recipients");
	if (server->state != SMTP_STATE_RCPT)
		return reply(server, SMTP_REPLY_BAD_SEQUENCE, "5.5.1 Error: need RCPT command");
	size_t limit =
	    server->max_message_size > SIZE_MAX ? SIZE_MAX : (size_t)server->max_message_size;
	smtp_data_begin(&server->tx.data, limit);
	server->state = SMTP_STATE_DATA;
	set_reply(server, SMTP_REPLY_START_DATA, "End data with <CR><LF>.<CR><LF>");
	return SMTP_ACTION_DATA;
}

static enum smtp_action command(struct smtp_server *server, const char *line, size_t len)
{
	struct smtp_command cmd;

	if (len == 0)
		return reply(server, SMTP_REPLY_SYNTAX, "5.5.2 Error: bad syntax");
	smtp_command_parse(line, len, &cmd);
	switch (cmd.verb) {
	case SMTP_VERB_EHLO:
		return command_ehlo(server, &cmd, true);
	case SMTP_VERB_HELO:
		return command_ehlo(server, &cmd, false);
	case SMTP_VERB_XFORWARD:
		return command_xforward(server, &cmd);
	case SMTP_VERB_MAIL:
		return command_mail(server, &cmd);
	case SMTP_VERB_RCPT:
		return command_rcpt(server, &cmd);
	case SMTP_VERB_DATA:
		return command_data(server, &cmd);
	case SMTP_VERB_RSET:
		if (cmd.arg_len > 0)
			return reply(server, SMTP_REPLY_ARGUMENT_SYNTAX, "5.5.4 Syntax: RSET");
		reset_transaction(server);
		return reply(server, SMTP_REPLY_OK, "2.0.0 Ok");
	case SMTP_VERB_NOOP:
		return reply(server, SMTP_REPLY_OK, "2.0.0 Ok");
	case SMTP_VERB_QUIT:
		set_reply(server, SMTP_REPLY_CLOSING, "2.0.0 Bye");
		return SMTP_ACTION_CLOSE;
	case SMTP_VERB_VRFY:
		return reply(server, SMTP_REPLY_NOT_IMPLEMENTED, "5.5.1 VRFY command is disabled");
	case SMTP_VERB_HELP:
		return reply(server, 214, "2.0.0 EHLO HELO MAIL RCPT DATA RSET NOOP QUIT XFORWARD");
	case SMTP_VERB_UNKNOWN:
		break;
	}
	return reply(server, SMTP_REPLY_NOT_IMPLEMENTED, "5.5.2 Error: command not recognized");
}

static enum smtp_action message_end(struct smtp_server *server)
{
	unsigned problems = server->tx.data.problems;
	char text[96];

	if (problems == 0)
		return SMTP_ACTION_MESSAGE;
	reset_transaction(server);
	if (problems & SMTP_DATA_NO_MEMORY)
		return reply(server, SMTP_REPLY_LOCAL_ERROR,
			     "4.3.0 Error: insufficient system resources");
	if (problems & SMTP_DATA_TOO_BIG)
		return reply(server, SMTP_REPLY_TOO_BIG, "5.3.4 Message size exceeds fixed limit");
	if (problems & SMTP_DATA_NUL)
		return reply(server, SMTP_REPLY_FAILED, "5.6.0 Error: NUL character in message");
	if (problems & SMTP_DATA_BARE_LF)
		return reply(server, SMTP_REPLY_FAILED, "5.6.0 Error: bare <LF> in message");
	if (snprintf(text, sizeof text, "5.6.0 Error: message line longer than %d octets",
		     SMTP_DATA_LINE_MAX) < 0)
		text[0] = '\0';
	return reply(server, SMTP_REPLY_FAILED, text);
}

/* A command line beyond SMTP_LINE_MAX: drop it up to its end, then answer once. */
static enum smtp_action skip_long_line(struct smtp_server *server, const char *buf, size_t len,
				       size_t *consumed)
{
	const char *lf = memchr(buf, '\n', len);

	if (lf == NULL) {
		*consumed = len;
		return SMTP_ACTION_NONE;
	}
	*consumed = (size_t)(lf - buf) + 1;
	server->skipping = false;
	return reply(server, SMTP_REPLY_SYNTAX, "5.5.2 Error: line too long");
}

enum smtp_action smtp_server_input(struct smtp_server *server, const char *buf, size_t len,
				   size_t *consumed)
{
	size_t line_len = 0;

	*consumed = 0;
	if (server->state == SMTP_STATE_DATA) {
		*consumed = smtp_data_feed(&server->tx.data, buf, len);
		return server->tx.data.done ? message_end(server) : SMTP_ACTION_NONE;
	}
	if (server->skipping)
		return skip_long_line(server, buf, len, consumed);
	switch (smtp_line_find(buf, len, SMTP_LINE_MAX, &line_len, consumed)) {
	case SMTP_LINE_MORE:
		return SMTP_ACTION_NONE;
	case SMTP_LINE_TOO_LONG:
		server->skipping = true;
		return SMTP_ACTION_NONE;
	case SMTP_LINE_BARE_LF:
		return reply(server, SMTP_REPLY_SYNTAX, "5.5.2 Error: bare <LF> received");
	case SMTP_LINE_NUL:
		return reply(server, SMTP_REPLY_SYNTAX, "5.5.2 Error: NUL character in command");
	case SMTP_LINE_OK:
		break;
	}
	return command(server, buf, line_len);
}

void smtp_server_message_done(struct smtp_server *server, int code, const char *text,
			      size_t text_len)
{
	reset_transaction(server);
	if (text_len > SMTP_REPLY_TEXT_MAX)
		text_len = SMTP_REPLY_TEXT_MAX;
	server->reply_len =
	    smtp_reply_format(server->reply, sizeof server->reply, code, false, text, text_len);
	if (code >= 500)
		server->errors++;
}

void smtp_server_timeout(struct smtp_server *server)
{
	char text[SMTP_HOSTNAME_MAX + 64];

	if (snprintf(text, sizeof text, "4.4.2 %s Error: timeout exceeded", server->hostname) < 0)
		text[0] = '\0';
	set_reply(server, SMTP_REPLY_UNAVAILABLE, text);
}
