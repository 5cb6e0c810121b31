/* The MIME layer: strict Content-Type parameters, transfer encodings, parts by boundary and
 * body decoding. */
#include "mime.h"
#include "test.h"

#include <stdlib.h>

static struct span S(const char *text)
{
	return span_of(text, strlen(text));
}

static bool
span_is(struct span s, const char *text)
{
	return s.len == strlen(text) && memcmp(s.ptr, text, s.len) == 0;
}


static const char *ct(const char *value, struct mime_content_type *c)
{
	return mime_content_type(S(value), c);
}

static void test_content_type_and_parameters(void)
{
	struct mime_content_type c;
	CHECK(ct("text/plain", &c) == NULL && span_is(c.type, "text") &&
	      span_is(c.subtype, "plain") && c.boundary.len == 0);
	CHECK(ct(" Multipart/Encrypted ; a=b", &c) == NULL && span_is(c.type, "Multipart") &&
	      span_is(c.subtype, "Encrypted"));
	CHECK(ct("multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n"
		 "\tBOUNDARY=\"=_b:x=(y)\" ; charset=utf-8",
		 &c) == NULL &&
	      span_is(c.boundary, "=_b:x=(y)"));
	CHECK(ct("multipart/mixed;boundary=abc-1.2", &c) == NULL && span_is(c.boundary, "abc-1.2"));
	CHECK(ct("multipart/mixed ;\n boundary = abc ;", &c) == NULL && span_is(c.boundary, "abc"));
	CHECK(ct("multipart/mixed; boundary=\"a b\"", &c) == NULL && span_is(c.boundary, "a b"));
	/* What a reader could take another way is not canonical. */
	static const char *const bad[] = {
	    "text",
	    "text/",
	    "/plain",
	    "",
	    "text/plain garbage",
	    "multipart / encrypted",
	    "multipart/ encrypted",
	    "(c) multipart/encrypted",
	    "multipart/encrypted (c); boundary=x",
	    "multipart/encrypted; boundary=x (c)",
	    "multipart/mixed; ; boundary=abc",
	    "multipart/mixed; boundary=\"\"",
	    "multipart/mixed; boundary=\"a\\\"b\"",
	    "multipart/mixed; boundary=\"abc",
	    "multipart/mixed; boundary=\"a\r\n b\"",
	    "multipart/mixed; boundary",
	    "multipart/mixed boundary=abc",
	    "multipart/mixed; boundary=one; boundary=two",
	    "multipart/mixed; boundary=one; BOUNDARY=one",
	    "multipart/encrypted; protocol=a; protocol=b; boundary=x",
	    "multipart/mixed; boundary*=us-ascii'en'abc",
	    "multipart/mixed; boundary*0=ab; boundary*1=c",
	    "multipart/mixed; boundary=ab; boundary*=''cd",
	    "multipart/encrypted; protocol*=''application%2Fpgp-encrypted; boundary=x",
	    "multipart/mixed; boundary=\"ends in space \"",
	    "multipart/encrypted; pro*tocol=\"application/pgp-encrypted\"; boundary=x",
	    "multipart/mixed; boundary=x; *=y",
	    "multipart/mixed; boundary=x; name**=y",
	    "multipart/mixed; boundary=x; name*1a=y",
	    "multipart/mixed; boundary=\"has;semicolon\"",
	    "multipart/mixed; boundary=\"a\xc3\xa4\"",
	    "multipart/mixed; boundary=12345678901234567890123456789012345678901234567890"
	    "123456789012345678901",
	    "text/plain; a=1; b=2; c=3; d=4; e=5; f=6; g=7; h=8; i=9; j=10; k=11; l=12; m=13; "
	    "n=14; o=15; p=16; q=17",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		bool refused = ct(bad[i], &c) != NULL;
		CHECK(refused);
		if (!refused)
			fprintf(stderr, "bad Content-Type %zu passed: %s\n", i, bad[i]);
	}
	CHECK(ct("multipart/mixed; boundary=x; name*=utf-8''a; t*0=a; u*1*=b", &c) == NULL);
	CHECK(ct("multipart/mixed; boundary=1234567890123456789012345678901234567890123456789012"
		 "345678901234567890",
		 &c) == NULL);
}

static void test_entity_defaults_and_encodings(void)
{
	struct mime_entity e;
	const char *m = "Subject: x\n\nbody";
	mime_entity_parse(m, strlen(m), &e);
	CHECK(mime_entity_is(&e, "text", "plain") && e.content.boundary.len == 0);
	CHECK(e.encoding == MIME_ENCODING_IDENTITY && span_is(e.body, "body") && e.problem == NULL);
	m = "Content-Type: garbage\n\nbody";
	mime_entity_parse(m, strlen(m), &e);
	CHECK(mime_entity_is(&e, "text", "plain") && e.problem != NULL);
	m = "content-type: Multipart/Mixed;\n boundary=\"b1\"\n"
	    "Content-Transfer-Encoding: BASE64\n\n";
	mime_entity_parse(m, strlen(m), &e);
	CHECK(mime_entity_is(&e, "multipart", NULL) && mime_entity_is(&e, "MULTIPART", "mixed"));
	CHECK(!mime_entity_is(&e, "multipart", "alternative"));
	CHECK(span_is(e.content.boundary, "b1") && e.encoding == MIME_ENCODING_BASE64);
	CHECK(e.problem == NULL);
	m = "Content-Type: text/plain; boundary=b1\nContent-Transfer-Encoding: "
	    "quoted-printable\n\n";
	mime_entity_parse(m, strlen(m), &e);
	CHECK(e.encoding == MIME_ENCODING_QUOTED_PRINTABLE && e.problem == NULL);
	static const char *const identity[] = {"7bit", "8BIT", " binary ", "\r\n 7bit"};
	for (size_t i = 0; i < 4; i++) {
		char buf[128];
		snprintf(buf, sizeof buf, "Content-Transfer-Encoding:%s\n\nx", identity[i]);
		mime_entity_parse(buf, strlen(buf), &e);
		CHECK(e.encoding == MIME_ENCODING_IDENTITY && e.problem == NULL);
	}
	static const char *const unknown[] = {"x-uuencode", "base64 (why not)", "base64; x", "",
					      "quoted-printable base64"};
	for (size_t i = 0; i < 5; i++) {
		char buf[128];
		snprintf(buf, sizeof buf, "Content-Transfer-Encoding: %s\n\nx", unknown[i]);
		mime_entity_parse(buf, strlen(buf), &e);
		CHECK(e.encoding == MIME_ENCODING_UNKNOWN && e.problem != NULL);
	}
	/* A header problem is the entity's problem. */
	m = "Content-Type: text/plain\nContent-Type : multipart/encrypted; boundary=x\n\n";
	mime_entity_parse(m, strlen(m), &e);
	CHECK(e.problem != NULL);
}

/* Collects the parts of body by boundary, each as a NUL-terminated copy. */
struct parts_seen {
	unsigned count;
	char part[8][64];
	bool closed, overflow;
};

static struct parts_seen parts_of(const char *body, const char *boundary)
{
	struct parts_seen seen;
	struct mime_parts it;
	struct span part;
	memset(&seen, 0, sizeof seen);
	mime_parts_init(&it, S(body), S(boundary));
	while (mime_parts_next(&it, &part)) {
		if (seen.count < 8 && part.len < 64)
			memcpy(seen.part[seen.count], part.ptr, part.len);
		seen.count++;
	}
	seen.closed = it.closed;
	seen.overflow = it.overflow;
	return seen;
}

static void test_parts_by_boundary(void)
{
	struct parts_seen s;
	s = parts_of(
	    "preamble\r\n--b\r\nA: 1\r\n\r\none\r\n--b\r\n\r\ntwo\r\n\r\n--b--\r\nepilogue\r\n",
	    "b");
	CHECK(s.count == 2 && s.closed);
	CHECK_STR(s.part[0], "A: 1\r\n\r\none");
	CHECK_STR(s.part[1], "\r\ntwo\r\n");
	s = parts_of("--b\none\n--b\ntwo\n--b--\n", "b");
	CHECK(s.count == 2 && s.closed);
	CHECK_STR(s.part[0], "one");
	CHECK_STR(s.part[1], "two");
	/* Spaces after a delimiter are transport padding; other text makes it no delimiter. */
	s = parts_of("--b \t\none\n--bx\n--b x\n-- b\n--b--  \n", "b");
	CHECK(s.count == 1 && s.closed);
	CHECK_STR(s.part[0], "one\n--bx\n--b x\n-- b");
	/* A delimiter must start a line. */
	s = parts_of("--b\none --b\n--b--", "b");
	CHECK(s.count == 1 && s.closed);
	CHECK_STR(s.part[0], "one --b");
	/* An inner boundary that starts with the outer one is not the outer one. */
	s = parts_of(
	    "--outer\nContent-Type: multipart/mixed; boundary=outer-inner\n\n--outer-inner\n"
	    "\nx\n--outer-inner--\n--outer--\n",
	    "outer");
	CHECK(s.count == 1);
	s = parts_of("--outer-inner\nx\n--outer-inner--\n", "outer");
	CHECK(s.count == 0 && !s.closed);
	/* Without a close delimiter, the last part runs to the end. */
	s = parts_of("--b\none\n--b\ntwo\n", "b");
	CHECK(s.count == 2 && !s.closed);
	CHECK_STR(s.part[1], "two\n");
	/* Empty parts, and a close delimiter first. */
	s = parts_of("--b\n--b\n\n--b--", "b");
	CHECK(s.count == 2 && s.closed);
	CHECK_STR(s.part[0], "");
	CHECK_STR(s.part[1], "");
	s = parts_of("--b--\n--b\nx\n", "b");
	CHECK(s.count == 0 && s.closed);
	s = parts_of("no delimiter here\n", "b");
	CHECK(s.count == 0 && !s.closed);
	s = parts_of("", "b");
	CHECK(s.count == 0);
	s = parts_of("--b\nx\n--b--\n", "");
	CHECK(s.count == 0);
	/* CR LF before the delimiter belongs to it, a lone CR stays in the part. */
	s = parts_of("--b\r\nx\r\r\n--b--\r\n", "b");
	CHECK(s.count == 1);
	CHECK_STR(s.part[0], "x\r");
}

static void test_parts_are_bounded(void)
{
	size_t n = MIME_PARTS_MAX + 10, cap = n * 8 + 16, len = 0;
	char *body = malloc(cap);
	CHECK(body != NULL);
	if (body == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		memcpy(body + len, "--b\nx\n", 6);
		len += 6;
	}
	memcpy(body + len, "--b--\n", 6);
	len += 6;
	struct mime_parts it;
	struct span part;
	unsigned count = 0;
	mime_parts_init(&it, span_of(body, len), S("b"));
	while (mime_parts_next(&it, &part))
		count++;
	CHECK(count == MIME_PARTS_MAX && it.overflow);
	free(body);
}

static void test_body_decoding(void)
{
	struct mime_entity e;
	char out[64];
	size_t len;
	const char *m =
	    "Content-Transfer-Encoding: base64\n\nU2VjdXJlLUpv\naW46IHZjLXJl\ncXVlc3Q=\n";
	mime_entity_parse(m, strlen(m), &e);
	CHECK(mime_body_decode(&e, out, sizeof out, &len) && len == 23 &&
	      memcmp(out, "Secure-Join: vc-request", 23) == 0);
	CHECK(mime_body_decode(&e, out, 23, &len));
	CHECK(!mime_body_decode(&e, out, 22, &len));
	m = "Content-Transfer-Encoding: base64\n\nU2VjdXJl\nLU\n";
	mime_entity_parse(m, strlen(m), &e);
	CHECK(!mime_body_decode(&e, out, sizeof out, &len));
	m = "Content-Transfer-Encoding: quoted-printable\n\nvc=2d=\r\nreq=3Duest=\n=ZZ 100=\n";
	mime_entity_parse(m, strlen(m), &e);
	CHECK(mime_body_decode(&e, out, sizeof out, &len) && len == 18 &&
	      memcmp(out, "vc-req=uest=ZZ 100", 18) == 0);
	CHECK(!mime_body_decode(&e, out, 17, &len));
	m = "Content-Transfer-Encoding: 7bit\n\nplain =2D\n";
	mime_entity_parse(m, strlen(m), &e);
	CHECK(mime_body_decode(&e, out, sizeof out, &len) && len == 10 &&
	      memcmp(out, "plain =2D\n", 10) == 0);
	CHECK(!mime_body_decode(&e, out, 9, &len));
}

int main(void)
{
	test_content_type_and_parameters();
	test_entity_defaults_and_encodings();
	test_parts_by_boundary();
	test_parts_are_bounded();
	test_body_decoding();
	return test_summary("mime");
}
