/* The SMTP server state machine (lib/smtp_server.h), driven with bytes as a client sends them. */
#include "smtp_server.h"
#include "test.h"

#include <stdbool.h>
#include <stdlib.h>

static struct smtp_server server;
static enum smtp_action last_action;

/* Hands input in as the filter does (one call per command, the rest again) and returns the
 * last reply's text ("" when none); last_action is the last non-NONE action. */
static const char *say(const char *input, size_t len)
{
	static char reply[SMTP_SERVER_REPLY_MAX];
	size_t pos = 0;

	reply[0] = '\0';
	last_action = SMTP_ACTION_NONE;
	while (pos < len) {
		size_t consumed;
		enum smtp_action action =
		    smtp_server_input(&server, input + pos, len - pos, &consumed);
		pos += consumed;
		if (action == SMTP_ACTION_NONE) {
			if (consumed == 0)
				break;
			continue;
		}
		last_action = action;
		if (action == SMTP_ACTION_MAIL)
			smtp_server_mail_accept(&server);
		if (action == SMTP_ACTION_RCPT)
			smtp_server_rcpt_accept(&server);
		if (action == SMTP_ACTION_MESSAGE)
			smtp_server_message_done(&server, 250, "2.0.0 queued", 12);
		memcpy(reply, server.reply, server.reply_len);
		reply[server.reply_len] = '\0';
	}
	return reply;
}

/* The pending reply is exactly expected: an empty or cut reply is no match. */
static bool reply_is(const char *expected)
{
	size_t len = strlen(expected);
	return server.reply_len == len && memcmp(server.reply, expected, len) == 0;
}

static const char *line(const char *text)
{
	return say(text, strlen(text));
}

static void start(void)
{
	smtp_server_free(&server);
	smtp_server_init(&server, "example.org", 1000000);
}

static void test_greeting_and_ehlo(void)
{
	start();
	CHECK(reply_is("220 example.org ESMTP filtermail\r\n"));
	const char *ehlo = line("EHLO client.example\r\n");
	CHECK(last_action == SMTP_ACTION_REPLY);
	CHECK(strstr(ehlo, "250-example.org\r\n") == ehlo);
	CHECK(strstr(ehlo, "250-PIPELINING\r\n") != NULL);
	CHECK(strstr(ehlo, "250-SIZE 1000000\r\n") != NULL);
	CHECK(strstr(ehlo, "250-8BITMIME\r\n") != NULL);
	CHECK(strstr(ehlo, "250 XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE\r\n") != NULL);
	CHECK(server.state == SMTP_STATE_READY);
	CHECK_STR(line("EHLO\r\n"), "501 5.5.4 Syntax: EHLO hostname\r\n");
	CHECK_STR(line("HELO x\r\n"), "250 example.org\r\n");
}

static void test_sequence(void)
{
	start();
	CHECK_STR(line("MAIL FROM:<a@b>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
	CHECK_STR(line("RCPT TO:<a@b>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
	CHECK_STR(line("DATA\r\n"), "503 5.5.1 Error: need RCPT command\r\n");
	CHECK_STR(line("XFORWARD NAME=x\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
	line("EHLO x\r\n");
	CHECK_STR(line("XFORWARD NAME=x ADDR=192.0.2.1\r\n"), "250 2.0.0 Ok\r\n");
	CHECK(server.tx.xforward.present[SMTP_XFORWARD_ADDR]);
	CHECK_STR(line("XFORWARD NAME\r\n"), "501 5.5.4 Syntax: XFORWARD attribute=value...\r\n");

	/* MAIL waits for the caller's decision. */
	size_t consumed;
	CHECK(smtp_server_input(&server, "MAIL FROM:<a@b>\r\n", 17, &consumed) == SMTP_ACTION_MAIL);
	CHECK(consumed == 17);
	CHECK(server.state == SMTP_STATE_READY);
	smtp_server_refuse(&server, 450, "4.7.1: Too much mail from a@b");
	CHECK(reply_is("450 4.7.1: Too much mail from a@b\r\n"));
	CHECK_STR(line("RCPT TO:<c@d>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");

	CHECK_STR(line("MAIL FROM:<a@b>\r\n"), "250 2.1.0 Ok\r\n");
	CHECK(last_action == SMTP_ACTION_MAIL);
	CHECK_STR(line("MAIL FROM:<a@b>\r\n"), "503 5.5.1 Error: nested MAIL command\r\n");
	CHECK_STR(line("XFORWARD NAME=y\r\n"), "503 5.5.1 Error: MAIL transaction in progress\r\n");
	CHECK_STR(line("DATA\r\n"), "554 5.5.1 Error: no valid recipients\r\n");
	CHECK_STR(line("RCPT TO:<>\r\n"), "501 5.5.4 Syntax: RCPT TO:<address>\r\n");
	CHECK_STR(line("RCPT TO:<c@d>\r\n"), "250 2.1.5 Ok\r\n");
	CHECK_STR(line("DATA x\r\n"), "501 5.5.4 Syntax: DATA\r\n");
	CHECK_STR(line("RSET\r\n"), "250 2.0.0 Ok\r\n");
	CHECK(server.tx.recipient_count == 0);
	CHECK(server.state == SMTP_STATE_READY);
	CHECK_STR(line("RCPT TO:<c@d>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
	/* EHLO also ends a transaction and forgets XFORWARD attributes. */
	line("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\n");
	line("EHLO again\r\n");
	CHECK(server.tx.recipient_count == 0 && !server.tx.xforward.present[SMTP_XFORWARD_ADDR]);
}

static void test_rcpt_waits_for_the_callers_decision(void)
{
	size_t consumed;
	start();
	line("EHLO x\r\nMAIL FROM:<\"A\"@B.org.>\r\n");
	/* The sender's canonical form is kept beside what the client wrote. */
	CHECK_STR(server.tx.mail.address, "\"A\"@B.org.");
	CHECK_STR(server.tx.sender, "a@b.org");
	const char *rcpt = "RCPT TO:<User+Tag@Example.ORG.>\r\n";
	CHECK(smtp_server_input(&server, rcpt, strlen(rcpt), &consumed) == SMTP_ACTION_RCPT);
	CHECK(server.tx.recipient_count == 1 && server.state == SMTP_STATE_MAIL);
	CHECK_STR(server.tx.recipients[0].address, "User+Tag@Example.ORG.");
	CHECK_STR(server.tx.recipients[0].canonical, "user@example.org");
	smtp_server_rcpt_refuse(&server, 550, "5.1.1 Recipient address rejected: User unknown");
	const char *refusal = "550 5.1.1 Recipient address rejected: User unknown\r\n";
	CHECK(server.reply_len == strlen(refusal) &&
	      memcmp(server.reply, refusal, server.reply_len) == 0);
	CHECK(server.tx.recipient_count == 0 && server.state == SMTP_STATE_MAIL);
	CHECK_STR(line("DATA\r\n"), "554 5.5.1 Error: no valid recipients\r\n");
	CHECK_STR(line("RCPT TO:<c@d>\r\n"), "250 2.1.5 Ok\r\n");
	CHECK(server.tx.recipient_count == 1 && server.state == SMTP_STATE_RCPT);
	CHECK_STR(server.tx.recipients[0].address, "c@d");
}

/* Postfix sends the client's HELO as it came, up to 255 bytes and more once xtext-encoded: a
 * value past our buffer is shortened, never refused (that would defer the mail forever). */
static void test_xforward_values_are_truncated(void)
{
	char cmd[SMTP_LINE_MAX];
	start();
	line("EHLO x\r\n");
	memcpy(cmd, "XFORWARD HELO=", 14);
	memset(cmd + 14, 'h', 400);
	memcpy(cmd + 414, "+2B\r\n", 6);
	CHECK_STR(say(cmd, 420), "250 2.0.0 Ok\r\n");
	CHECK(strlen(server.tx.xforward.value[SMTP_XFORWARD_HELO]) == SMTP_XFORWARD_VALUE_MAX);
	/* A cut never splits an escape. */
	memset(cmd + 14, 'h', SMTP_XFORWARD_VALUE_MAX - 2);
	memcpy(cmd + 14 + SMTP_XFORWARD_VALUE_MAX - 2, "+2Bhh\r\n", 8);
	CHECK_STR(say(cmd, 14 + SMTP_XFORWARD_VALUE_MAX + 6), "250 2.0.0 Ok\r\n");
	CHECK(strlen(server.tx.xforward.value[SMTP_XFORWARD_HELO]) ==
	      SMTP_XFORWARD_VALUE_MAX - 2);
	memset(cmd + 14, 'h', SMTP_XFORWARD_VALUE_MAX - 1);
	memcpy(cmd + 14 + SMTP_XFORWARD_VALUE_MAX - 1, "+2Bhh\r\n", 8);
	CHECK_STR(say(cmd, 14 + SMTP_XFORWARD_VALUE_MAX + 7), "250 2.0.0 Ok\r\n");
	CHECK(strlen(server.tx.xforward.value[SMTP_XFORWARD_HELO]) ==
	      SMTP_XFORWARD_VALUE_MAX - 1);
	/* An unknown attribute or a value that is not xtext is still refused. */
	CHECK_STR(line("XFORWARD HELO=a b=c\r\n"),
		  "501 5.5.4 Syntax: XFORWARD attribute=value...\r\n");
}

static void test_mail_arguments(void)
{
	start();
	line("EHLO x\r\n");
	CHECK_STR(line("MAIL FROM:a@b@\r\n"), "250 2.1.0 Ok\r\n"); /* '@' counting is policy */
	line("RSET\r\n");
	CHECK_STR(line("MAIL FROM:<a@b> SIZE=1000001\r\n"),
		  "552 5.3.4 Message size exceeds fixed limit\r\n");
	CHECK_STR(line("MAIL FROM:<a@b> BODY=BINARYMIME\r\n"),
		  "555 5.5.4 Error: unsupported option\r\n");
	CHECK_STR(line("MAIL TO:<a@b>\r\n"), "501 5.5.4 Syntax: MAIL FROM:<address>\r\n");
	char mail[400] = "MAIL FROM:<";
	memset(mail + 11, 'a', 300);
	memcpy(mail + 311, ">\r\n", 4);
	CHECK_STR(line(mail), "501 5.1.7 Error: sender address too long\r\n");
	CHECK_STR(line("MAIL FROM:<a@b> SIZE=1000000\r\n"), "250 2.1.0 Ok\r\n");
	memcpy(mail, "RCPT TO:<", 9);
	memset(mail + 9, 'a', 300);
	memcpy(mail + 309, ">\r\n", 4);
	CHECK_STR(line(mail), "501 5.1.3 Error: recipient address too long\r\n");
}

static void test_message(void)
{
	start();
	line("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nRCPT TO:<e@f>\r\n");
	CHECK(server.tx.recipient_count == 2);
	CHECK_STR(server.tx.recipients[1].address, "e@f");
	CHECK_STR(line("DATA\r\n"), "354 End data with <CR><LF>.<CR><LF>\r\n");
	CHECK(last_action == SMTP_ACTION_DATA);
	CHECK(server.state == SMTP_STATE_DATA);
	/* Commands in DATA are content. */
	size_t consumed;
	CHECK(smtp_server_input(&server, "QUIT\r\n..x\r\n", 11, &consumed) == SMTP_ACTION_NONE);
	CHECK(consumed == 11);
	CHECK(smtp_server_input(&server, ".\r\nNOOP\r\n", 9, &consumed) == SMTP_ACTION_MESSAGE);
	CHECK(consumed == 3);
	CHECK(server.tx.data.len == 10 && memcmp(server.tx.data.message, "QUIT\r\n.x\r\n", 10) == 0);
	CHECK(server.tx.recipient_count == 2);
	smtp_server_message_done(&server, 250, "2.0.0 Ok: queued as X", 21);
	CHECK(reply_is("250 2.0.0 Ok: queued as X\r\n"));
	CHECK(server.state == SMTP_STATE_READY);
	CHECK(server.tx.recipient_count == 0 && server.tx.data.message == NULL);
	CHECK_STR(line("NOOP\r\n"), "250 2.0.0 Ok\r\n");

	/* A message with a problem never reaches the caller. */
	line("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
	CHECK_STR(line("a\nb\r\n.\r\n"), "554 5.6.0 Error: bare <LF> in message\r\n");
	CHECK(last_action == SMTP_ACTION_REPLY);
	CHECK(server.state == SMTP_STATE_READY && server.tx.recipient_count == 0);
	line("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
	CHECK_STR(say("a\0b\r\n.\r\n", 8), "554 5.6.0 Error: NUL character in message\r\n");

	smtp_server_free(&server);
	smtp_server_init(&server, "example.org", 1024);
	line("EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n");
	char big[3000];
	memset(big, 'x', sizeof big);
	for (size_t i = 70; i < sizeof big; i += 72)
		memcpy(big + i, "\r\n", 2);
	memcpy(big + sizeof big - 5, "\r\n.\r\n", 5);
	CHECK_STR(say(big, sizeof big), "552 5.3.4 Message size exceeds fixed limit\r\n");
}

static void test_pipelining(void)
{
	start();
	const char *batch =
	    "EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n";
	size_t pos = 0, len = strlen(batch), consumed;
	enum smtp_action seen[8];
	size_t count = 0;
	while (pos < len && count < 8) {
		enum smtp_action action =
		    smtp_server_input(&server, batch + pos, len - pos, &consumed);
		pos += consumed;
		seen[count++] = action;
		if (action == SMTP_ACTION_MAIL)
			smtp_server_mail_accept(&server);
		if (action == SMTP_ACTION_RCPT)
			smtp_server_rcpt_accept(&server);
		if (action == SMTP_ACTION_MESSAGE)
			smtp_server_message_done(&server, 250, "2.0.0 Ok", 8);
	}
	CHECK(count == 6);
	CHECK(seen[0] == SMTP_ACTION_REPLY && seen[1] == SMTP_ACTION_MAIL);
	CHECK(seen[2] == SMTP_ACTION_RCPT && seen[3] == SMTP_ACTION_DATA);
	CHECK(seen[4] == SMTP_ACTION_MESSAGE && seen[5] == SMTP_ACTION_CLOSE);
	CHECK(reply_is("221 2.0.0 Bye\r\n"));
}

static void test_bad_lines(void)
{
	start();
	line("EHLO x\r\n");
	CHECK_STR(line("NOOP\n"), "500 5.5.2 Error: bare <LF> received\r\n");
	CHECK_STR(say("NO\0OP\r\n", 7), "500 5.5.2 Error: NUL character in command\r\n");
	CHECK_STR(line("\r\n"), "500 5.5.2 Error: bad syntax\r\n");
	CHECK_STR(line("STARTTLS\r\n"), "502 5.5.2 Error: command not recognized\r\n");
	CHECK_STR(line("VRFY x\r\n"), "502 5.5.1 VRFY command is disabled\r\n");

	/* A long line: a reader's buffer holds part of it (read more), then SMTP_LINE_MAX of it
	 * (dropped from then on, in pieces), then its end is answered once. */
	char chunk[1500];
	memset(chunk, 'a', sizeof chunk);
	size_t consumed;
	CHECK(smtp_server_input(&server, chunk, 700, &consumed) == SMTP_ACTION_NONE);
	CHECK(consumed == 0);
	CHECK(smtp_server_input(&server, chunk, sizeof chunk, &consumed) == SMTP_ACTION_NONE);
	CHECK(consumed == SMTP_LINE_MAX);
	bool all_dropped = true;
	for (int i = 0; i < 1000; i++)
		all_dropped &= smtp_server_input(&server, chunk, sizeof chunk, &consumed) ==
				   SMTP_ACTION_NONE &&
			       consumed == sizeof chunk;
	CHECK(all_dropped);
	CHECK(smtp_server_input(&server, "a\r\nNOOP\r\n", 9, &consumed) == SMTP_ACTION_REPLY);
	CHECK(consumed == 3);
	CHECK(reply_is("500 5.5.2 Error: line too long\r\n"));
	CHECK_STR(line("NOOP\r\n"), "250 2.0.0 Ok\r\n");
}

static void test_limits(void)
{
	char rcpt[64];

	start();
	line("EHLO x\r\nMAIL FROM:<a@b>\r\n");
	for (int i = 0; i < SMTP_RECIPIENT_LIMIT; i++) {
		int n = snprintf(rcpt, sizeof rcpt, "RCPT TO:<r%d@example.org>\r\n", i);
		CHECK(strcmp(say(rcpt, (size_t)n), "250 2.1.5 Ok\r\n") == 0);
	}
	for (int i = 0; i < 30; i++)
		CHECK_STR(line("RCPT TO:<more@example.org>\r\n"),
			  "452 4.5.3 Error: too many recipients\r\n");
	CHECK(server.tx.recipient_count == SMTP_RECIPIENT_LIMIT);
	/* 452 is not an error toward the hang-up limit: the client sends DATA next. */
	CHECK_STR(line("DATA\r\n"), "354 End data with <CR><LF>.<CR><LF>\r\n");

	start();
	line("EHLO x\r\n");
	for (int i = 1; i < SMTP_ERROR_LIMIT; i++)
		CHECK_STR(line("BOGUS\r\n"), "502 5.5.2 Error: command not recognized\r\n");
	CHECK_STR(line("BOGUS\r\n"), "421 4.7.0 example.org Error: too many errors\r\n");
	CHECK(last_action == SMTP_ACTION_CLOSE);

	start();
	smtp_server_timeout(&server);
	CHECK(reply_is("421 4.4.2 example.org Error: timeout exceeded\r\n"));
	CHECK_STR(line("QUIT\r\n"), "221 2.0.0 Bye\r\n");
	CHECK(last_action == SMTP_ACTION_CLOSE);
}

int main(void)
{
	test_greeting_and_ehlo();
	test_sequence();
	test_mail_arguments();
	test_rcpt_waits_for_the_callers_decision();
	test_xforward_values_are_truncated();
	test_message();
	test_pipelining();
	test_bad_lines();
	test_limits();
	smtp_server_free(&server);
	return test_summary("smtp_server");
}
