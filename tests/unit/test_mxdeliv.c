/* /mxdeliv request reading (SPEC §5b): the envelope headers as nginx passes them (one line per
 * recipient, or nginx 1.23+'s ", "-joined list), the body's line ends, the answer's status. */
#include "mxdeliv.h"
#include "smtp.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static int recipients(struct smtp_tx *tx, const char *value)
{
	return mxdeliv_recipients(tx, value, strlen(value));
}

static void test_sender(void)
{
	struct smtp_tx tx = {0};

	CHECK(mxdeliv_sender(&tx, "a@b.test", 8) == 0);
	CHECK_STR(tx.mail.address, "a@b.test");
	CHECK_STR(tx.sender, "a@b.test");
	CHECK(mxdeliv_sender(&tx, " <A+x@B.test> ", 14) == 0);
	CHECK_STR(tx.mail.address, "A+x@B.test");
	CHECK_STR(tx.sender, "a@b.test"); /* canonical, as filtermail reads MAIL FROM */
	/* absent or empty: the null sender (bounces) */
	CHECK(mxdeliv_sender(&tx, NULL, 0) == 0);
	CHECK_STR(tx.mail.address, "");
	CHECK(mxdeliv_sender(&tx, "<>", 2) == 0);
	CHECK_STR(tx.mail.address, "");
	/* one address only: two (repeated field joined by nginx) or none are refused */
	CHECK(mxdeliv_sender(&tx, "a@b.test, c@d.test", 18) == -1);
	CHECK(mxdeliv_sender(&tx, "nobody", 6) == -1);
	CHECK(mxdeliv_sender(&tx, "\"a b\"@c.test", 12) == -1);
	CHECK(mxdeliv_sender(&tx, "a@b.test\r\nX: y", 14) == -1);
	char longest[SMTP_ADDRESS_MAX + 2];
	memset(longest, 'a', sizeof longest);
	longest[1] = '@';
	CHECK(mxdeliv_sender(&tx, longest, SMTP_ADDRESS_MAX) == 0);
	CHECK(mxdeliv_sender(&tx, longest, SMTP_ADDRESS_MAX + 1) == -1);
	smtp_tx_reset(&tx);
}

static void test_recipients(void)
{
	struct smtp_tx tx = {0};

	/* nginx 1.22 (Debian 12) passes each X-Mail-To line on its own */
	CHECK(recipients(&tx, "a@b.test") == 0);
	CHECK(recipients(&tx, "<c@b.test>") == 0);
	/* nginx 1.23+ joins repeated lines with ", " */
	CHECK(recipients(&tx, "d@b.test, <e+x@B.test>,f@b.test") == 0);
	CHECK(tx.recipient_count == 5);
	CHECK_STR(tx.recipients[0].address, "a@b.test");
	CHECK_STR(tx.recipients[1].address, "c@b.test");
	CHECK_STR(tx.recipients[3].address, "e+x@B.test");
	CHECK_STR(tx.recipients[3].canonical, "e@b.test");
	CHECK_STR(tx.recipients[4].address, "f@b.test");
	/* an empty element, an empty value, a space inside or a quote refuse the request */
	CHECK(recipients(&tx, "a@b.test,,c@b.test") == -1);
	CHECK(recipients(&tx, "") == -1);
	CHECK(recipients(&tx, "<>") == -1);
	CHECK(recipients(&tx, "a b@b.test") == -1);
	CHECK(recipients(&tx, "\"a,b\"@b.test") == -1);
	smtp_tx_reset(&tx);
	/* at most SMTP_RECIPIENT_LIMIT */
	int over = 0;
	for (int i = 0; i <= SMTP_RECIPIENT_LIMIT; i++)
		over |= recipients(&tx, "a@b.test");
	CHECK(over == -1 && tx.recipient_count == SMTP_RECIPIENT_LIMIT);
	smtp_tx_reset(&tx);
	char *big = malloc(MXDELIV_HEADER_VALUE_MAX + 2);
	memset(big, 'a', MXDELIV_HEADER_VALUE_MAX + 1);
	big[MXDELIV_HEADER_VALUE_MAX + 1] = '\0';
	CHECK(recipients(&tx, big) == -1);
	free(big);
	smtp_tx_reset(&tx);
}

static void test_content_length(void)
{
	size_t n = 1;

	CHECK(mxdeliv_content_length("0", 10, &n) == 0 && n == 0);
	CHECK(mxdeliv_content_length("10", 10, &n) == 0 && n == 10);
	CHECK(mxdeliv_content_length("11", 10, &n) == 1);
	CHECK(mxdeliv_content_length("99999999999999999999999999", 31457280, &n) == 1);
	CHECK(mxdeliv_content_length("31457280", 31457280, &n) == 0 && n == 31457280);
	CHECK(mxdeliv_content_length("31457281", 31457280, &n) == 1);
	CHECK(mxdeliv_content_length("", 10, &n) == -1);
	CHECK(mxdeliv_content_length(NULL, 10, &n) == -1);
	CHECK(mxdeliv_content_length("-1", 10, &n) == -1);
	CHECK(mxdeliv_content_length("1 ", 10, &n) == -1);
	CHECK(mxdeliv_content_length("5", 3, &n) == 1);
}

static void test_crlf(void)
{
	const char *in = "a\nb\r\nc\n\n";
	char out[32];
	size_t size = mxdeliv_crlf_size(in, strlen(in));
	CHECK(size == strlen(in) + 3);
	CHECK(mxdeliv_crlf(in, strlen(in), out) == size);
	CHECK(memcmp(out, "a\r\nb\r\nc\r\n\r\n", size) == 0);
	CHECK(mxdeliv_crlf_size("\n", 1) == 2);
	CHECK(mxdeliv_crlf_size("", 0) == 0);
}

static void test_status(void)
{
	CHECK(mxdeliv_http_status(250) == MXDELIV_HTTP_OK);
	CHECK(mxdeliv_http_status(451) == MXDELIV_HTTP_REFUSED);
	CHECK(mxdeliv_http_status(523) == MXDELIV_HTTP_REFUSED);
	CHECK(mxdeliv_http_status(554) == MXDELIV_HTTP_REFUSED);
	CHECK(mxdeliv_accepted(200) && mxdeliv_accepted(202));
	CHECK(!mxdeliv_accepted(0) && !mxdeliv_accepted(301) && !mxdeliv_accepted(400) &&
	      !mxdeliv_accepted(404) && !mxdeliv_accepted(413) && !mxdeliv_accepted(502));
}

int main(void)
{
	test_sender();
	test_recipients();
	test_content_length();
	test_crlf();
	test_status();
	return test_summary("test_mxdeliv");
}
