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

static void test_sending(void)
{
	char url[64];

	CHECK(mxdeliv_url("b.test", url, sizeof url) == 0);
	CHECK_STR(url, "https://b.test/mxdeliv");
	CHECK(mxdeliv_url("192.0.2.1", url, sizeof url) == 0);
	CHECK_STR(url, "https://192.0.2.1/mxdeliv");
	CHECK(mxdeliv_url("2001:db8::1", url, sizeof url) == 0);
	CHECK_STR(url, "https://[2001:db8::1]/mxdeliv");
	CHECK(mxdeliv_url("", url, sizeof url) == -1);
	CHECK(mxdeliv_url("a-very-long-host-name-that-does-not-fit.example", url, 32) == -1);
	CHECK(mxdeliv_verify("b.test"));
	CHECK(!mxdeliv_verify("[192.0.2.1]"));
	CHECK(!mxdeliv_verify("_test.example"));
	/* no /mxdeliv: no answer, 404, 405, 5xx; a working one refuses with 400 or 413 */
	CHECK(mxdeliv_host_lacks_it(0) && mxdeliv_host_lacks_it(404) && mxdeliv_host_lacks_it(502));
	CHECK(!mxdeliv_host_lacks_it(400) && !mxdeliv_host_lacks_it(413));
}

static void test_memory(void)
{
	static struct mxdeliv_memory memory;
	const int64_t now = 1000000;

	CHECK(!mxdeliv_memory_smtp_only(&memory, "b.test", now));
	mxdeliv_memory_remember(&memory, "b.test", now);
	CHECK(mxdeliv_memory_smtp_only(&memory, "b.test", now));
	CHECK(mxdeliv_memory_smtp_only(&memory, "B.Test", now + MXDELIV_SMTP_ONLY_SECONDS - 1));
	/* 30 minutes later it is tried over HTTPS again */
	CHECK(!mxdeliv_memory_smtp_only(&memory, "b.test", now + MXDELIV_SMTP_ONLY_SECONDS));
	CHECK(!mxdeliv_memory_smtp_only(&memory, "c.test", now));
	/* remembered again: one slot, a new time */
	mxdeliv_memory_remember(&memory, "b.test", now + 10);
	int slots = 0;
	for (size_t i = 0; i < MXDELIV_MEMORY_HOSTS; i++)
		slots += memory.entry[i].until != 0;
	CHECK(slots == 1);
	CHECK(mxdeliv_memory_smtp_only(&memory, "b.test", now + MXDELIV_SMTP_ONLY_SECONDS + 5));
	/* a full table forgets the host whose time ends first */
	char host[32];
	for (int i = 0; i < MXDELIV_MEMORY_HOSTS; i++) {
		snprintf(host, sizeof host, "h%d.test", i);
		mxdeliv_memory_remember(&memory, host, now + 100 + i);
	}
	CHECK(!mxdeliv_memory_smtp_only(&memory, "b.test", now + 100));
	CHECK(mxdeliv_memory_smtp_only(&memory, "h0.test", now + 100));
	CHECK(mxdeliv_memory_smtp_only(&memory, "h255.test", now + 100));
	mxdeliv_memory_remember(&memory, "new.test", now + 1000);
	CHECK(!mxdeliv_memory_smtp_only(&memory, "h0.test", now + 100));
	CHECK(mxdeliv_memory_smtp_only(&memory, "new.test", now + 1000));
	/* a name longer than a slot is never remembered (nor matched by its prefix) */
	char longest[MXDELIV_HOST_MAX + 2];
	memset(longest, 'a', sizeof longest - 1);
	longest[sizeof longest - 1] = '\0';
	mxdeliv_memory_remember(&memory, longest, now);
	CHECK(!mxdeliv_memory_smtp_only(&memory, longest, now));
}

int main(void)
{
	test_sending();
	test_memory();
	test_sender();
	test_recipients();
	test_content_length();
	test_crlf();
	test_status();
	return test_summary("test_mxdeliv");
}
