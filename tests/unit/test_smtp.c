/* SMTP lines, commands, paths, XFORWARD, reply lines and dot-stuffing (lib/smtp.h). */
#include "smtp.h"
#include "test.h"

#include <stdlib.h>

static enum smtp_line_status find(const char *buf, size_t max, size_t *line_len, size_t *consumed)
{
	return smtp_line_find(buf, strlen(buf), max, line_len, consumed);
}

static void test_lines(void)
{
	size_t line_len = 99, consumed = 99;

	CHECK(find("NOOP\r\nQUIT\r\n", 1000, &line_len, &consumed) == SMTP_LINE_OK);
	CHECK(line_len == 4 && consumed == 6);
	CHECK(find("NOOP\r", 1000, &line_len, &consumed) == SMTP_LINE_MORE);
	CHECK(find("", 1000, &line_len, &consumed) == SMTP_LINE_MORE);
	CHECK(find("NOOP\nQUIT\r\n", 1000, &line_len, &consumed) == SMTP_LINE_BARE_LF);
	CHECK(line_len == 4 && consumed == 5);
	CHECK(find("\n", 1000, &line_len, &consumed) == SMTP_LINE_BARE_LF);
	CHECK(line_len == 0 && consumed == 1);
	CHECK(find("\r\n", 1000, &line_len, &consumed) == SMTP_LINE_OK);
	CHECK(line_len == 0 && consumed == 2);
	CHECK(smtp_line_find("NO\0OP\r\n", 7, 1000, &line_len, &consumed) == SMTP_LINE_NUL);
	CHECK(consumed == 7);

	/* The bound counts the line end: 8 bytes fit "123456\r\n", not "1234567\r\n". */
	CHECK(find("123456\r\n", 8, &line_len, &consumed) == SMTP_LINE_OK);
	CHECK(find("1234567\r\n", 8, &line_len, &consumed) == SMTP_LINE_TOO_LONG);
	CHECK(consumed == 8);
	CHECK(find("1234567", 8, &line_len, &consumed) == SMTP_LINE_MORE);
	CHECK(find("12345678", 8, &line_len, &consumed) == SMTP_LINE_TOO_LONG);

	char big[SMTP_LINE_MAX + 10];
	memset(big, 'a', sizeof big);
	CHECK(smtp_line_find(big, sizeof big, SMTP_LINE_MAX, &line_len, &consumed) ==
	      SMTP_LINE_TOO_LONG);
	CHECK(consumed == SMTP_LINE_MAX);
	memcpy(big + SMTP_LINE_MAX - 2, "\r\n", 2);
	CHECK(smtp_line_find(big, sizeof big, SMTP_LINE_MAX, &line_len, &consumed) == SMTP_LINE_OK);
	CHECK(line_len == SMTP_LINE_MAX - 2);
}

static struct smtp_command parse(const char *line)
{
	struct smtp_command cmd;
	smtp_command_parse(line, strlen(line), &cmd);
	return cmd;
}

static void test_commands(void)
{
	struct smtp_command cmd = parse("mail FROM:<a@b>  ");
	CHECK(cmd.verb == SMTP_VERB_MAIL);
	CHECK(cmd.arg_len == 10 && strncmp(cmd.arg, "FROM:<a@b>", 10) == 0);
	CHECK(parse("EHLO x").verb == SMTP_VERB_EHLO);
	CHECK(parse("Helo x").verb == SMTP_VERB_HELO);
	CHECK(parse("RCPT TO:<a@b>").verb == SMTP_VERB_RCPT);
	CHECK(parse("DATA").verb == SMTP_VERB_DATA);
	CHECK(parse("DATA").arg_len == 0);
	CHECK(parse("rset").verb == SMTP_VERB_RSET);
	CHECK(parse("NOOP").verb == SMTP_VERB_NOOP);
	CHECK(parse("QUIT").verb == SMTP_VERB_QUIT);
	CHECK(parse("XFORWARD NAME=x").verb == SMTP_VERB_XFORWARD);
	CHECK(parse("VRFY x").verb == SMTP_VERB_VRFY);
	CHECK(parse("HELP").verb == SMTP_VERB_HELP);
	CHECK(parse("MAILFROM:<a@b>").verb == SMTP_VERB_UNKNOWN);
	CHECK(parse("QUI").verb == SMTP_VERB_UNKNOWN);
	CHECK(parse("QUITT").verb == SMTP_VERB_UNKNOWN);
	CHECK(parse("STARTTLS").verb == SMTP_VERB_UNKNOWN);
	CHECK(parse("").verb == SMTP_VERB_UNKNOWN);
	CHECK(parse(" NOOP").verb == SMTP_VERB_UNKNOWN);
}

static enum smtp_path_status mail(const char *arg, struct smtp_path *path)
{
	return smtp_parse_mail(arg, strlen(arg), path);
}

static enum smtp_path_status rcpt(const char *arg, struct smtp_path *path)
{
	return smtp_parse_rcpt(arg, strlen(arg), path);
}

static void test_paths(void)
{
	struct smtp_path p;

	CHECK(mail("FROM:<alice@example.org>", &p) == SMTP_PATH_OK);
	CHECK_STR(p.address, "alice@example.org");
	CHECK(p.address_len == 17 && !p.has_size && !p.body_8bit && !p.smtputf8);
	CHECK(mail("from:<>", &p) == SMTP_PATH_OK);
	CHECK(p.address_len == 0 && p.address[0] == '\0');
	CHECK(mail("FROM:<a@b> SIZE=1234 BODY=8BITMIME SMTPUTF8", &p) == SMTP_PATH_OK);
	CHECK(p.has_size && p.size == 1234 && p.body_8bit && p.smtputf8);
	CHECK(mail("FROM:<a@b> BODY=7bit", &p) == SMTP_PATH_OK && !p.body_8bit);
	/* What Postfix takes and passes on: a space after the colon, no brackets. */
	CHECK(mail("FROM: <a@b>", &p) == SMTP_PATH_OK);
	CHECK_STR(p.address, "a@b");
	CHECK(mail("FROM:a@b SIZE=5", &p) == SMTP_PATH_OK);
	CHECK_STR(p.address, "a@b");
	CHECK(p.size == 5);
	/* Unknown parameters (AUTH, RET, ENVID...) are taken and ignored. */
	CHECK(mail("FROM:<a@b> AUTH=<> RET=HDRS ENVID=x+2By", &p) == SMTP_PATH_OK);
	/* A source route is dropped; quoted local parts keep their quotes. */
	CHECK(mail("FROM:<@relay.example,@other.example:a@b>", &p) == SMTP_PATH_OK);
	CHECK_STR(p.address, "a@b");
	CHECK(mail("FROM:<\"a b>\\\"c\"@b>", &p) == SMTP_PATH_OK);
	CHECK_STR(p.address, "\"a b>\\\"c\"@b");
	/* 8-bit addresses (SMTPUTF8) pass through untouched. */
	CHECK(mail("FROM:<j\xc3\xb6rg@b> SMTPUTF8", &p) == SMTP_PATH_OK);
	CHECK_STR(p.address, "j\xc3\xb6rg@b");

	CHECK(mail("FROM <a@b>", &p) == SMTP_PATH_SYNTAX);
	CHECK(mail("TO:<a@b>", &p) == SMTP_PATH_SYNTAX);
	CHECK(mail("FROM:", &p) == SMTP_PATH_SYNTAX);
	CHECK(mail("FROM:<a@b", &p) == SMTP_PATH_SYNTAX);
	CHECK(mail("FROM:<a b@c>", &p) == SMTP_PATH_SYNTAX);
	CHECK(mail("FROM:<a<b@c>", &p) == SMTP_PATH_SYNTAX);
	CHECK(mail("FROM:<a\tb@c>", &p) == SMTP_PATH_SYNTAX);
	CHECK(mail("FROM:<a\rb@c>", &p) == SMTP_PATH_SYNTAX);
	CHECK(mail("FROM:<\"a@b>", &p) == SMTP_PATH_SYNTAX);
	CHECK(mail("FROM:<a@b>x", &p) == SMTP_PATH_SYNTAX);
	CHECK(mail("FROM:<@relay:>", &p) == SMTP_PATH_OK);
	CHECK(mail("FROM:<@relay>", &p) == SMTP_PATH_SYNTAX);
	CHECK(mail("FROM:a>b", &p) == SMTP_PATH_SYNTAX);
	CHECK(mail("FROM:<a@b> =x", &p) == SMTP_PATH_SYNTAX);
	CHECK(mail("FROM:<a@b> -X=1", &p) == SMTP_PATH_SYNTAX);
	CHECK(mail("FROM:<a@b> X=a=b", &p) == SMTP_PATH_SYNTAX);
	CHECK(mail("FROM:<a@b> SMTPUTF8=yes", &p) == SMTP_PATH_SYNTAX);
	CHECK(smtp_parse_mail("FROM:<a@b> X=\x01", 14, &p) == SMTP_PATH_SYNTAX);

	CHECK(mail("FROM:<a@b> SIZE=", &p) == SMTP_PATH_PARAMETER);
	CHECK(mail("FROM:<a@b> SIZE=12x", &p) == SMTP_PATH_PARAMETER);
	CHECK(mail("FROM:<a@b> SIZE=18446744073709551615", &p) == SMTP_PATH_OK);
	CHECK(p.size == UINT64_MAX);
	CHECK(mail("FROM:<a@b> SIZE=18446744073709551616", &p) == SMTP_PATH_PARAMETER);
	CHECK(mail("FROM:<a@b> SIZE=999999999999999999999", &p) == SMTP_PATH_PARAMETER);
	CHECK(mail("FROM:<a@b> BODY=BINARYMIME", &p) == SMTP_PATH_PARAMETER);
	CHECK(mail("FROM:<a@b> BODY", &p) == SMTP_PATH_PARAMETER);

	char longest[SMTP_ADDRESS_MAX + 16] = "FROM:<";
	memset(longest + 6, 'a', SMTP_ADDRESS_MAX);
	memcpy(longest + 6 + SMTP_ADDRESS_MAX, ">", 2);
	CHECK(mail(longest, &p) == SMTP_PATH_OK);
	CHECK(p.address_len == SMTP_ADDRESS_MAX);
	memset(longest + 6, 'a', SMTP_ADDRESS_MAX + 1);
	memcpy(longest + 7 + SMTP_ADDRESS_MAX, ">", 2);
	CHECK(mail(longest, &p) == SMTP_PATH_TOO_LONG);

	CHECK(rcpt("TO:<bob@example.org>", &p) == SMTP_PATH_OK);
	CHECK_STR(p.address, "bob@example.org");
	CHECK(rcpt("to:<Postmaster>", &p) == SMTP_PATH_OK);
	CHECK(rcpt("TO:<b@c> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@c", &p) == SMTP_PATH_OK);
	/* RCPT parameters are not acted on, so even MAIL-only ones do nothing. */
	CHECK(rcpt("TO:<b@c> SIZE=x", &p) == SMTP_PATH_OK && !p.has_size);
	CHECK(rcpt("TO:<>", &p) == SMTP_PATH_SYNTAX);
	CHECK(rcpt("FROM:<b@c>", &p) == SMTP_PATH_SYNTAX);
}

static int xforward(const char *arg, struct smtp_xforward *xf)
{
	return smtp_parse_xforward(arg, strlen(arg), xf);
}

static void test_xforward(void)
{
	struct smtp_xforward xf;

	memset(&xf, 0, sizeof xf);
	CHECK(xforward("NAME=mx.example.net ADDR=192.0.2.1 PORT=25", &xf) == 0);
	CHECK(xf.present[SMTP_XFORWARD_NAME] && xf.present[SMTP_XFORWARD_ADDR]);
	CHECK(!xf.present[SMTP_XFORWARD_HELO]);
	CHECK_STR(xf.value[SMTP_XFORWARD_ADDR], "192.0.2.1");
	CHECK(xforward("helo=[UNAVAILABLE] proto=ESMTP source=REMOTE ident=a+2Bb", &xf) == 0);
	CHECK_STR(xf.value[SMTP_XFORWARD_HELO], "[UNAVAILABLE]");
	CHECK_STR(xf.value[SMTP_XFORWARD_IDENT], "a+2Bb");
	CHECK(xforward("ADDR=IPV6:2001:db8::1", &xf) == 0);
	CHECK_STR(xf.value[SMTP_XFORWARD_ADDR], "IPV6:2001:db8::1");

	/* All or nothing: one bad attribute changes none. */
	CHECK(xforward("NAME=changed COLOR=blue", &xf) == -1);
	CHECK_STR(xf.value[SMTP_XFORWARD_NAME], "mx.example.net");
	CHECK(xforward("", &xf) == -1);
	CHECK(xforward("NAME", &xf) == -1);
	CHECK(xforward("NAME=", &xf) == -1);
	CHECK(xforward("NAME=a+2", &xf) == -1);
	CHECK(xforward("NAME=a+2g", &xf) == -1);
	CHECK(xforward("NAME=a+", &xf) == -1);
	CHECK(xforward("NAME=a=b", &xf) == -1);
	CHECK(xforward("NAME=\xc3\xa9", &xf) == -1);
	char long_value[SMTP_XFORWARD_VALUE_MAX + 16] = "NAME=";
	memset(long_value + 5, 'a', SMTP_XFORWARD_VALUE_MAX);
	long_value[5 + SMTP_XFORWARD_VALUE_MAX] = '\0';
	CHECK(xforward(long_value, &xf) == 0);
	/* A longer value is cut, never refused: Postfix would defer the mail forever. */
	long_value[5 + SMTP_XFORWARD_VALUE_MAX] = 'a';
	long_value[6 + SMTP_XFORWARD_VALUE_MAX] = '\0';
	CHECK(xforward(long_value, &xf) == 0);
	CHECK(strlen(xf.value[SMTP_XFORWARD_NAME]) == SMTP_XFORWARD_VALUE_MAX);
}

static void test_replies(void)
{
	struct smtp_reply_line r;

	CHECK(smtp_reply_parse("250-PIPELINING", 14, &r) == 0);
	CHECK(r.code == 250 && r.more && r.text_len == 10 &&
	      strncmp(r.text, "PIPELINING", 10) == 0);
	CHECK(smtp_reply_parse("451 4.3.0 try later", 19, &r) == 0);
	CHECK(r.code == 451 && !r.more && r.text_len == 15);
	CHECK(smtp_reply_parse("250", 3, &r) == 0);
	CHECK(r.code == 250 && !r.more && r.text_len == 0);
	CHECK(smtp_reply_parse("25", 2, &r) == -1);
	CHECK(smtp_reply_parse("2500 x", 6, &r) == -1);
	CHECK(smtp_reply_parse("199 x", 5, &r) == -1);
	CHECK(smtp_reply_parse("600 x", 5, &r) == -1);
	CHECK(smtp_reply_parse("abc x", 5, &r) == -1);
	CHECK(smtp_reply_parse("25x x", 5, &r) == -1);

	const char *params;
	size_t params_len;
	CHECK(smtp_ehlo_keyword("SIZE 1000", 9, "size", &params, &params_len));
	CHECK(params_len == 4 && strncmp(params, "1000", 4) == 0);
	CHECK(smtp_ehlo_keyword("XFORWARD NAME ADDR", 18, "XFORWARD", &params, &params_len));
	CHECK(params_len == 9);
	CHECK(smtp_ehlo_keyword("8BITMIME", 8, "8BITMIME", &params, &params_len));
	CHECK(params_len == 0);
	CHECK(!smtp_ehlo_keyword("SIZEX 1", 7, "SIZE", &params, &params_len));
	CHECK(!smtp_ehlo_keyword("SIZ", 3, "SIZE", &params, &params_len));

	char out[64];
	CHECK(smtp_reply_format(out, sizeof out, 250, false, "2.0.0 Ok", 8) == 14);
	CHECK_STR(out, "250 2.0.0 Ok\r\n");
	CHECK(smtp_reply_format(out, sizeof out, 250, true, "SIZE 5", 6) == 12);
	CHECK_STR(out, "250-SIZE 5\r\n");
	/* A peer's text cannot break the reply into lines or carry escapes. */
	CHECK(smtp_reply_format(out, sizeof out, 554, false, "a\r\nb\x1b", 5) == 11);
	CHECK_STR(out, "554 a??b?\r\n");
	CHECK(smtp_reply_format(out, 10, 250, false, "2.0.0 Ok", 8) == 0);
	CHECK(smtp_reply_format(out, sizeof out, 99, false, "x", 1) == 0);
	CHECK(smtp_reply_format(out, sizeof out, 600, false, "x", 1) == 0);
}

/* Stuffs in through an output window of out_size bytes, as a sender with a small buffer. */
static char *stuff_all(const char *in, size_t out_size)
{
	struct smtp_stuffer stuffer;
	char *result = calloc(1, 2 * strlen(in) + 1), window[64];
	size_t pos = 0, len = strlen(in), result_len = 0, consumed;

	smtp_stuffer_init(&stuffer);
	while (pos < len) {
		size_t n = smtp_stuff(&stuffer, in + pos, len - pos, window, out_size, &consumed);
		memcpy(result + result_len, window, n);
		result_len += n;
		pos += consumed;
	}
	return result;
}

static void test_stuffing(void)
{
	const char *in = ".a\r\nb.c\r\n..\r\n.\r\n\r\n.";
	const char *want = "..a\r\nb.c\r\n...\r\n..\r\n\r\n..";
	for (size_t window = 2; window <= 64; window++) {
		char *out = stuff_all(in, window);
		CHECK_STR(out, want);
		free(out);
	}
	char *plain = stuff_all("no dots\r\nhere\r\n", 64);
	CHECK_STR(plain, "no dots\r\nhere\r\n");
	free(plain);
}

int main(void)
{
	test_lines();
	test_commands();
	test_paths();
	test_xforward();
	test_replies();
	test_stuffing();
	return test_summary("smtp");
}
