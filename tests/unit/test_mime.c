/* The MIME scanner: headers with folding, Content-Type parameters, parts by boundary,
 * transfer decodings, From: addresses and the bounded walk. */
#include "mime.h"
#include "test.h"

#include <stdarg.h>
#include <stdlib.h>

static struct mime_span S(const char *text) {
	struct mime_span s = {text, strlen(text)};
	return s;
}

static bool
span_is(struct mime_span s, const char *text)
{
	return s.len == strlen(text) && memcmp(s.ptr, text, s.len) == 0;
}

static void split(const char *text, struct mime_span *h, struct mime_span *b)
{
	mime_split(text, strlen(text), h, b);
}

static void test_split_at_first_empty_line(void)
{
	struct mime_span h, b;
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

static void test_header_lookup_and_folding(void)
{
	const char *text = "From: a@b.c\r\nSubject: Autocrypt\r\n  Setup\r\n\tMessage\r\n"
			   "X-From: x@y.z\r\nFrom-Other: no\r\nsecure-join:vc-request  \r\n"
			   "Received: one\r\nReceived: two\r\n";
	struct mime_span h = S(text), v;
	CHECK(mime_header_find(h, "from", &v) && span_is(v, " a@b.c"));
	CHECK(mime_header_find(h, "SUBJECT", &v) &&
	      span_is(v, " Autocrypt\r\n  Setup\r\n\tMessage"));
	CHECK(mime_value_is(v, "Autocrypt  Setup\tMessage"));
	CHECK(!mime_value_is(v, "Autocrypt Setup Message"));
	char out[64];
	size_t len;
	CHECK(mime_unfold(v, out, sizeof out, &len) && len == 24);
	CHECK_STR(out, "Autocrypt  Setup\tMessage");
	CHECK(mime_unfold(v, out, 25, &len));
	CHECK(!mime_unfold(v, out, 24, &len));
	CHECK(!mime_unfold(v, out, 0, &len));
	CHECK(mime_header_find(h, "Secure-Join", &v) && mime_value_is(v, "vc-request"));
	CHECK(!mime_value_is(v, "VC-request") && mime_value_is_nocase(v, "VC-Request"));
	CHECK(!mime_header_find(h, "Fro", &v));
	CHECK(!mime_header_find(h, "Message", &v));
	CHECK(mime_header_count(h, "From") == 1);
	CHECK(mime_header_count(h, "Received") == 2);
	CHECK(mime_header_count(h, "To") == 0);
	size_t pos = 0;
	CHECK(mime_header_next(h, "received", &pos, &v) && span_is(v, " one"));
	CHECK(mime_header_next(h, "received", &pos, &v) && span_is(v, " two"));
	CHECK(!mime_header_next(h, "received", &pos, &v));
	/* A continuation before any field, and a space before the colon, name nothing. */
	h = S(" From: lost@x.y\nFrom : spaced@x.y\nTo: b\n");
	CHECK(!mime_header_find(h, "From", &v));
	/* Folding with bare LF, and a field at the very end without a line end. */
	h = S("To: a\nSubject: one\n two\nX: last");
	CHECK(mime_header_find(h, "subject", &v) && mime_value_is(v, "one two"));
	CHECK(mime_header_find(h, "x", &v) && span_is(v, " last"));
	CHECK(mime_value_is(S("  \r\n "), ""));
	CHECK(!mime_value_is(S(" a"), ""));
}

static void test_content_type_and_parameters(void)
{
	struct mime_span t, st, p;
	CHECK(mime_content_type(S("text/plain"), &t, &st) && span_is(t, "text") &&
	      span_is(st, "plain"));
	CHECK(mime_content_type(S(" (c) Multipart / Encrypted (x) ; a=b"), &t, &st) &&
	      span_is(t, "Multipart") && span_is(st, "Encrypted"));
	CHECK(!mime_content_type(S("text"), &t, &st));
	CHECK(!mime_content_type(S("text/"), &t, &st));
	CHECK(!mime_content_type(S("/plain"), &t, &st));
	CHECK(!mime_content_type(S("text/plain garbage"), &t, &st));
	CHECK(!mime_content_type(S(""), &t, &st));

	struct mime_span v = S("multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n"
			       "\tBOUNDARY=\"=_b;x=(y)\" ; charset=utf-8");
	CHECK(mime_param(v, "boundary", &p) && span_is(p, "=_b;x=(y)"));
	CHECK(mime_param(v, "protocol", &p) && span_is(p, "application/pgp-encrypted"));
	CHECK(mime_param(v, "charset", &p) && span_is(p, "utf-8"));
	CHECK(!mime_param(v, "name", &p));
	CHECK(mime_param(S("multipart/mixed;boundary=abc-1.2"), "boundary", &p) &&
	      span_is(p, "abc-1.2"));
	CHECK(mime_param(S("multipart/mixed ; ; boundary = abc ;"), "boundary", &p) &&
	      span_is(p, "abc"));
	CHECK(mime_param(S("multipart/mixed; boundary=\"\""), "boundary", &p) && p.len == 0);
	/* A backslash escape would need a copy: the parameter is not usable. */
	CHECK(!mime_param(S("multipart/mixed; boundary=\"a\\\"b\""), "boundary", &p));
	CHECK(!mime_param(S("multipart/mixed; boundary=\"abc"), "boundary", &p));
	CHECK(!mime_param(S("multipart/mixed; boundary"), "boundary", &p));
	CHECK(!mime_param(S("multipart/mixed boundary=abc"), "boundary", &p));
	/* The first of two wins. */
	CHECK(mime_param(S("multipart/mixed; boundary=one; boundary=two"), "boundary", &p) &&
	      span_is(p, "one"));
	/* RFC 2231: an extended value without %-escapes is usable, continuations are not. */
	CHECK(mime_param(S("multipart/mixed; boundary*=us-ascii'en'abc"), "boundary", &p) &&
	      span_is(p, "abc"));
	CHECK(mime_param(S("multipart/mixed; boundary*=''abc"), "boundary", &p) &&
	      span_is(p, "abc"));
	CHECK(!mime_param(S("multipart/mixed; boundary*=''a%20b"), "boundary", &p));
	CHECK(!mime_param(S("multipart/mixed; boundary*=abc"), "boundary", &p));
	CHECK(!mime_param(S("multipart/mixed; boundary*0=ab; boundary*1=c"), "boundary", &p));
}

static void test_entity_defaults_and_encodings(void)
{
	struct mime_entity e;
	const char *m = "Subject: x\n\nbody";
	mime_entity_parse(m, strlen(m), &e);
	CHECK(mime_entity_is(&e, "text", "plain") && e.boundary.len == 0);
	CHECK(e.encoding == MIME_ENCODING_IDENTITY && span_is(e.body, "body"));
	m = "Content-Type: garbage\n\nbody";
	mime_entity_parse(m, strlen(m), &e);
	CHECK(mime_entity_is(&e, "text", "plain"));
	m = "content-type: Multipart/Mixed;\n boundary=\"b1\"\n"
	    "Content-Transfer-Encoding: BASE64 (why not)\n\n";
	mime_entity_parse(m, strlen(m), &e);
	CHECK(mime_entity_is(&e, "multipart", NULL) && mime_entity_is(&e, "MULTIPART", "mixed"));
	CHECK(!mime_entity_is(&e, "multipart", "alternative"));
	CHECK(span_is(e.boundary, "b1") && e.encoding == MIME_ENCODING_BASE64);
	m = "Content-Type: text/plain; boundary=b1\nContent-Transfer-Encoding: "
	    "quoted-printable\n\n";
	mime_entity_parse(m, strlen(m), &e);
	CHECK(e.boundary.len == 0 && e.encoding == MIME_ENCODING_QUOTED_PRINTABLE);
	m = "Content-Type: multipart/mixed; boundary=\"\"\nContent-Transfer-Encoding: 8bit\n\n";
	mime_entity_parse(m, strlen(m), &e);
	CHECK(e.boundary.len == 0 && e.encoding == MIME_ENCODING_IDENTITY);
	m = "Content-Type: multipart/mixed; boundary=\"a\r\n b\"\n\n";
	mime_entity_parse(m, strlen(m), &e);
	CHECK(e.boundary.len == 0);
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
	struct mime_span part;
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
	struct mime_span part;
	unsigned count = 0;
	mime_parts_init(&it, (struct mime_span){body, len}, S("b"));
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
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct mime_span a;
		bool ok = mime_single_address(S(cases[i].value), &a);
		CHECK(ok == (cases[i].address != NULL));
		if (ok && cases[i].address != NULL)
			CHECK(span_is(a, cases[i].address));
		if (ok != (cases[i].address != NULL))
			fprintf(stderr, "address case %zu: %s\n", i, cases[i].value);
	}
}

struct walk_log {
	unsigned entities, deepest, stop_at;
	char types[16];
};

static bool log_entity(const struct mime_entity *e, unsigned depth, void *context)
{
	struct walk_log *log = context;
	if (log->entities < sizeof log->types - 1)
		log->types[log->entities] = e->type.len > 0 ? e->type.ptr[0] : '?';
	log->entities++;
	if (depth > log->deepest)
		log->deepest = depth;
	return log->entities != log->stop_at;
}

/* Appends formatted text at *n, aborting rather than truncating. */
static void append(char *buf, size_t cap, size_t *n, const char *format, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t cap, size_t *n, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	int written = vsnprintf(buf + *n, cap - *n, format, ap);
	va_end(ap);
	if (written < 0 || (size_t)written >= cap - *n)
		abort();
	*n += (size_t)written;
}

/* depth nested multiparts around one text part. */
static char *nested(unsigned depth, size_t *len)
{
	size_t cap = (size_t)depth * 96 + 128, n = 0;
	char *m = malloc(cap);
	if (m == NULL)
		abort();
	append(m, cap, &n, "Content-Type: multipart/mixed; boundary=b0\n\n");
	for (unsigned i = 0; i < depth; i++)
		append(m, cap, &n, "--b%u\nContent-Type: multipart/mixed; boundary=b%u\n\n", i,
		       i + 1);
	append(m, cap, &n, "--b%u\n\nleaf\n", depth);
	*len = n;
	return m;
}

static void test_walk_is_bounded(void)
{
	const char *m =
	    "Content-Type: multipart/mixed; boundary=o\n\n--o\n\ntext\n--o\n"
	    "Content-Type: multipart/alternative; boundary=i\n\n--i\n\na\n--i\n"
	    "Content-Type: image/png\n\nb\n--i--\n--o\nContent-Type: application/pdf\n\nc\n"
	    "--o--\n";
	struct walk_log log = {0};
	CHECK(mime_walk(m, strlen(m), log_entity, &log) == MIME_WALK_DONE);
	CHECK(log.entities == 6 && log.deepest == 2);
	CHECK_STR(log.types, "mtmtia");
	memset(&log, 0, sizeof log);
	log.stop_at = 3;
	CHECK(mime_walk(m, strlen(m), log_entity, &log) == MIME_WALK_STOPPED && log.entities == 3);

	size_t len;
	char *deep = nested(MIME_DEPTH_MAX - 1, &len);
	memset(&log, 0, sizeof log);
	CHECK(mime_walk(deep, len, log_entity, &log) == MIME_WALK_DONE);
	CHECK(log.deepest == MIME_DEPTH_MAX && log.entities == MIME_DEPTH_MAX + 1);
	free(deep);
	deep = nested(MIME_DEPTH_MAX, &len);
	memset(&log, 0, sizeof log);
	CHECK(mime_walk(deep, len, log_entity, &log) == MIME_WALK_TOO_DEEP);
	free(deep);
	deep = nested(10000, &len);
	memset(&log, 0, sizeof log);
	CHECK(mime_walk(deep, len, log_entity, &log) == MIME_WALK_TOO_DEEP);
	CHECK(log.deepest == MIME_DEPTH_MAX);
	free(deep);
}

static void test_walk_counts_parts(void)
{
	/* Many parts spread over nested multiparts are counted together. */
	size_t cap = 64 * 1024, n = 0;
	char *m = malloc(cap);
	if (m == NULL)
		abort();
	append(m, cap, &n, "Content-Type: multipart/mixed; boundary=o\n\n");
	for (int i = 0; i < 3; i++) {
		append(m, cap, &n, "--o\nContent-Type: multipart/mixed; boundary=i%d\n\n", i);
		for (int k = 0; k < 400; k++)
			append(m, cap, &n, "--i%d\n\nx\n", i);
		append(m, cap, &n, "--i%d--\n", i);
	}
	append(m, cap, &n, "--o--\n");
	CHECK(n < cap);
	struct walk_log log = {0};
	CHECK(mime_walk(m, n, log_entity, &log) == MIME_WALK_TOO_MANY);
	CHECK(log.entities == MIME_PARTS_MAX);
	free(m);
}

int main(void)
{
	test_split_at_first_empty_line();
	test_header_lookup_and_folding();
	test_content_type_and_parameters();
	test_entity_defaults_and_encodings();
	test_parts_by_boundary();
	test_parts_are_bounded();
	test_body_decoding();
	test_single_address();
	test_walk_is_bounded();
	test_walk_counts_parts();
	return test_summary("mime");
}
