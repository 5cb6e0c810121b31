/* Header blocks as Postfix cleanup reads them: the split, fields with folding, "Name :",
 * every kind of line that makes a header not canonical, and single addresses. */
#include "header.h"
#include "test.h"

#include <stdlib.h>

static struct span S(const char *text)
{
	return span_of(text, strlen(text));
}

static bool span_is(struct span s, const char *text)
{
	return s.len == strlen(text) && memcmp(s.ptr, text, s.len) == 0;
}

static void split(const char *text, struct span *h, struct span *b)
{
	header_split(text, strlen(text), h, b);
}

static void test_split_at_first_empty_line(void)
{
	struct span h, b;
	split("A: 1\r\nB: 2\r\n\r\nbody\r\n\r\nmore", &h, &b);
	CHECK(span_is(h, "A: 1\r\nB: 2\r\n"));
	CHECK(span_is(b, "body\r\n\r\nmore"));
	split("A: 1\n\nbody", &h, &b);
	CHECK(span_is(h, "A: 1\n") && span_is(b, "body"));
	split("\r\nbody", &h, &b);
	CHECK(h.len == 0 && span_is(b, "body"));
	split("A: 1\r\nB: 2", &h, &b);
	CHECK(span_is(h, "A: 1\r\nB: 2") && b.len == 0);
	/* A line holding only spaces is not empty. */
	split("A: 1\n \nB: 2\n\nx", &h, &b);
	CHECK(span_is(h, "A: 1\n \nB: 2\n") && span_is(b, "x"));
	split("", &h, &b);
	CHECK(h.len == 0 && b.len == 0);
}

static void test_field_lookup_and_folding(void)
{
	const char *text = "From: a@b.c\r\nSubject: Autocrypt\r\n  Setup\r\n\tMessage\r\n"
			   "X-From: x@y.z\r\nFrom-Other: no\r\nsecure-join:vc-request  \r\n"
			   "Received: one\r\nReceived: two\r\n";
	struct span h = S(text), v;
	CHECK(header_find(h, "from", &v) && span_is(v, " a@b.c"));
	CHECK(header_find(h, "SUBJECT", &v) && span_is(v, " Autocrypt\r\n  Setup\r\n\tMessage"));
	CHECK(header_value_is(v, "Autocrypt  Setup\tMessage"));
	CHECK(!header_value_is(v, "Autocrypt Setup Message"));
	CHECK(header_find(h, "Secure-Join", &v) && header_value_is(v, "vc-request"));
	CHECK(!header_value_is(v, "VC-request") && header_value_is_nocase(v, "VC-Request"));
	CHECK(!header_find(h, "Fro", &v));
	CHECK(!header_find(h, "Message", &v));
	CHECK(header_count(h, "From") == 1);
	CHECK(header_count(h, "Received") == 2);
	CHECK(header_count(h, "To") == 0);
	size_t pos = 0;
	CHECK(header_next(h, "received", &pos, &v) && span_is(v, " one"));
	CHECK(header_next(h, "received", &pos, &v) && span_is(v, " two"));
	CHECK(!header_next(h, "received", &pos, &v));
	/* A continuation before any field names nothing; "Name :" is the field Name, as
	 * Postfix reads it. */
	h = S(" From: lost@x.y\nFrom : spaced@x.y\nTo: b\n");
	CHECK(header_find(h, "From", &v) && span_is(v, " spaced@x.y"));
	h = S("Content-Type\t: text/plain\n");
	CHECK(header_find(h, "content-type", &v) && span_is(v, " text/plain"));
	/* Folding with bare LF, and a field at the very end without a line end. */
	h = S("To: a\nSubject: one\n two\nX: last");
	CHECK(header_find(h, "subject", &v) && header_value_is(v, "one two"));
	CHECK(header_find(h, "x", &v) && span_is(v, " last"));
	CHECK(header_value_is(S("  \r\n "), ""));
	CHECK(!header_value_is(S(" a"), ""));
}

static void test_canonical_headers_pass(void)
{
	CHECK(header_problem(S("")) == NULL);
	CHECK(header_problem(S("From: a@b.c\r\nTo: d@e.f\r\nSubject: x\r\n y\r\n")) == NULL);
	CHECK(header_problem(S("X-Odd_name.1!#$%&'*+-/=?^`{|}~: v\n")) == NULL);
	CHECK(header_problem(S("Empty:\nFrom : a@b.c\n")) == NULL);
	/* Repeats of fields that decide nothing are fine. */
	CHECK(header_problem(S("Received: 1\nReceived: 2\nTo: a\nTo: b\n")) == NULL);
	CHECK(header_problem(S("From: a@b.c")) == NULL);
}

static void test_noncanonical_headers_fail(void)
{
	static const char *const bad[] = {
	    "From: a@b.c\nnot a field\n",
	    "From: a@b.c\nNoColon\n",
	    " Folded: first\n",
	    "\tFrom: a@b.c\n",
	    "From: a@b.c\n \n",
	    "From: a@b.c\n\t \t\n",
	    ": empty name\n",
	    "Content Type: text/plain\n",
	    "From: a@b.c\nFrom: d@e.f\n",
	    "From: a@b.c\nfrom : d@e.f\n",
	    "Content-Type: text/plain\nContent-Type : multipart/encrypted\n",
	    "Content-Transfer-Encoding: 7bit\nCONTENT-TRANSFER-ENCODING: base64\n",
	    "MIME-Version: 1.0\nMime-Version: 1.0\n",
	    "Sender: a@b.c\nSender: d@e.f\n",
	    "Secure-Join: vc-request\nSecure-Join: vg-request\n",
	    "Auto-Submitted: auto-replied\nAuto-Submitted: no\n",
	    "Subject: a\nSubject: b\n",
	    "X-A: one\rtwo\n",
	    "X-A: one\r",
	    "X\xc3\xa4: 8-bit name\n",
	    "X\x01: control in name\n",
	    "From\x7f: a@b.c\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		bool refused = header_problem(S(bad[i])) != NULL;
		CHECK(refused);
		if (!refused)
			fprintf(stderr, "bad header %zu passed: %s\n", i, bad[i]);
	}
}

/* A field of n bytes with its CRLF, as one line or folded into lines of 998 bytes. */
static char *long_field(size_t n, bool folded)
{
	char *h = malloc(n + 1);
	if (h == NULL)
		abort();
	memcpy(h, "X-Long: ", 8);
	for (size_t i = 8; i < n - 2; i++)
		h[i] = folded && i % 1000 == 0 ? ' ' : 'a';
	for (size_t i = 1000; folded && i < n - 2; i += 1000) {
		h[i - 2] = '\r';
		h[i - 1] = '\n';
	}
	memcpy(h + n - 2, "\r\n", 3);
	return h;
}

static void test_nul_in_a_header_is_refused(void)
{
	static const char nul[] = "X-Nul: a\0Content-Type: text/plain\n";
	CHECK(header_problem(span_of(nul, sizeof nul - 1)) != NULL);
}

static void test_field_length_is_postfix_header_size_limit(void)
{
	for (int folded = 0; folded <= 1; folded++) {
		char *h = long_field(HEADER_FIELD_MAX, folded);
		CHECK(header_problem(S(h)) == NULL);
		free(h);
		h = long_field(HEADER_FIELD_MAX + 1, folded);
		CHECK(header_problem(S(h)) != NULL);
		free(h);
	}
	/* The limit is per field: many fields together may be longer. */
	size_t n = 0, cap = 3 * HEADER_FIELD_MAX;
	char *h = malloc(cap);
	if (h == NULL)
		abort();
	while (n + 1000 < cap) {
		memcpy(h + n, "X-Many: ", 8);
		memset(h + n + 8, 'b', 990);
		memcpy(h + n + 998, "\r\n", 2);
		n += 1000;
	}
	CHECK(header_problem(span_of(h, n)) == NULL);
	free(h);
}

static void test_single_address(void)
{
	struct {
		const char *value;
		const char *address; /* NULL: no single address */
	} cases[] = {
	    {" alice@example.org", "alice@example.org"},
	    {" <alice@example.org>", "alice@example.org"},
	    {" Alice <alice@example.org>", "alice@example.org"},
	    {" \"Alice, at <work>\" <alice@example.org> (office)", "alice@example.org"},
	    {" (comment) alice@example.org (another)", "alice@example.org"},
	    {" =?utf-8?q?Al=C3=AFce?=\r\n <alice@example.org>", "alice@example.org"},
	    {" < alice@example.org >", "alice@example.org"},
	    {" alice@[192.0.2.1]", "alice@[192.0.2.1]"},
	    {"", NULL},
	    {" <>", NULL},
	    {" Alice", NULL},
	    {" alice@example.org, bob@example.org", NULL},
	    {" <alice@example.org>, <bob@example.org>", NULL},
	    {" Alice <alice@example.org> <bob@example.org>", NULL},
	    {" alice@example.org bob@example.org", NULL},
	    {" undisclosed-recipients:;", NULL},
	    {" friends: alice@example.org;", NULL},
	    {" <alice@example.org", NULL},
	    {" alice@example.org>", NULL},
	    {" <alice(x)@example.org>", NULL},
	    {" \"alice@example.org", NULL},
	    {" <alice@exa\r\n mple.org>", NULL},
	    /* What a MIME reader cannot parse is no address to us either (found by the oracle). */
	    {" \"Alice, at work\" (office)\\\r\n <alice@example.org>", NULL},
	    {" <alice@chat.example.o\xffg>", NULL},
	    {" alice\xc3\xa4@example.org", NULL},
	    {" \xc3\x84lice <alice@example.org>", "alice@example.org"},
	    {" <@example.org>", NULL},
	    {" .<alice@example.org>", NULL},
	    {" A. Smith <alice@example.org>", "alice@example.org"},
	    {" <alice@.example.org>", NULL},
	    {" <alice@example..org>", NULL},
	    {" <.alice@example.org>", NULL},
	    {" <al..ice@example.org>", NULL},
	    {" <alice@exa_mple.org>", NULL},
	    {" <a!#$%&'*+-/=?^_`{|}~z@example.org>", "a!#$%&'*+-/=?^_`{|}~z@example.org"},
	    {" <alice@[IPv6:2001:db8::1]>", "alice@[IPv6:2001:db8::1]"},
	    {" Alice [x] <alice@example.org>", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct span a;
		bool ok = header_single_address(S(cases[i].value), &a);
		CHECK(ok == (cases[i].address != NULL));
		if (ok && cases[i].address != NULL)
			CHECK(span_is(a, cases[i].address));
		if (ok != (cases[i].address != NULL))
			fprintf(stderr, "address case %zu: %s\n", i, cases[i].value);
	}
}

int main(void)
{
	test_split_at_first_empty_line();
	test_field_lookup_and_folding();
	test_canonical_headers_pass();
	test_noncanonical_headers_fail();
	test_nul_in_a_header_is_refused();
	test_field_length_is_postfix_header_size_limit();
	test_single_address();
	return test_summary("header");
}
