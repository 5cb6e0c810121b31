/* Deterministic mutations of encrypted messages: each is named after what it changes, and
 * written with "\n" for the base's line end, %B for its boundary and %0 for a NUL byte. */
#include "mutations.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_LEN 256
#define CT_ENCRYPTED "multipart/encrypted; protocol=\"application/pgp-encrypted\"; "

struct text {
	char *data;
	size_t len, cap;
};

struct style {
	const char *eol;      /* "\r\n" or "\n" */
	const char *boundary; /* NUL-terminated */
};

static void put_bytes(struct text *t, const char *p, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		t->cap = 2 * (t->len + n + 1);
		t->data = realloc(t->data, t->cap);
		if (t->data == NULL)
			abort();
	}
	memcpy(t->data + t->len, p, n);
	t->len += n;
	t->data[t->len] = '\0';
}

/* A template: "\n" is the line end, %B the boundary, %0 a NUL byte. */
static void put(struct text *t, const char *template, const struct style *s)
{
	for (const char *p = template; *p != '\0'; p++) {
		if (*p == '\n')
			put_bytes(t, s->eol, strlen(s->eol));
		else if (p[0] == '%' && p[1] == 'B' && ++p)
			put_bytes(t, s->boundary, strlen(s->boundary));
		else if (p[0] == '%' && p[1] == '0' && ++p)
			put_bytes(t, "", 1);
		else
			put_bytes(t, p, 1);
	}
}

/* ---- header edits of a corpus message ---- */

enum where { BEFORE, AFTER, REPLACE, FIRST, LAST, SEPARATOR };

struct header_edit {
	const char *name;
	enum where where;
	const char *anchor; /* a field name for BEFORE, AFTER, REPLACE */
	const char *text;
	bool canonical;
};

static const struct header_edit header_edits[] = {
    /* colons */
    {"content-type-space-colon-before", .where = BEFORE, "Content-Type",
     "Content-Type : text/plain\n"},
    {"content-type-space-colon-after", .where = AFTER, "Content-Type",
     "Content-Type : text/plain\n"},
    {"content-type-tab-colon-before", .where = BEFORE, "Content-Type",
     "Content-Type\t: text/plain\n"},
    {"content-type-no-colon-before", .where = BEFORE, "Content-Type", "Content-Type text/plain\n"},
    {"content-type-two-colons-before", .where = BEFORE, "Content-Type",
     "Content-Type:: text/plain\n"},
    {"content-type-colon-space-colon", .where = BEFORE, "Content-Type",
     "Content-Type: : text/plain\n"},
    {"content-type-only-space-colon", .where = REPLACE, "Content-Type",
     "Content-Type : " CT_ENCRYPTED "boundary=\"%B\"\n"},
    {"content-type-no-space-after-colon", .where = REPLACE, "Content-Type",
     "Content-Type:" CT_ENCRYPTED "boundary=\"%B\"\n", true},
    {"from-space-colon-before", .where = BEFORE, "From", "From : <mallory@example.net>\n"},
    {"from-space-colon-after", .where = AFTER, "From", "From : <mallory@example.net>\n"},
    {"from-tab-colon-before", .where = BEFORE, "From",
     "From\t: \"Mallory\" <mallory@example.net>\n"},
    {"from-no-colon-before", .where = BEFORE, "From", "From <mallory@example.net>\n"},
    {"mbox-from-line-first", .where = FIRST, NULL,
     "From mallory@example.net Sat Nov 30 10:00:00 2024\n"},
    {"colon-without-name", .where = BEFORE, "Content-Type", ": text/plain\n"},
    {"line-without-colon-first", .where = FIRST, NULL, "Hello Bob, this is cleartext\n"},
    {"line-without-colon-last", .where = LAST, NULL, "Hello Bob, this is cleartext\n"},
    /* white space and folding */
    {"first-line-continuation", .where = FIRST, NULL, " X-Folded: x\n"},
    {"first-line-tab-content-type", .where = FIRST, NULL, "\tContent-Type: text/plain\n"},
    {"space-only-line-before-content-type", .where = BEFORE, "Content-Type", " \n"},
    {"tab-only-line-after-content-type", .where = AFTER, "Content-Type", "\t\n"},
    {"space-before-name", .where = BEFORE, "Content-Type", " Content-Type: text/plain\n"},
    {"folded-name", .where = BEFORE, "Content-Type", "Content-\n Type: text/plain\n"},
    {"space-inside-name", .where = BEFORE, "Content-Type", "Content Type: text/plain\n"},
    {"content-type-folded-at-every-token", .where = REPLACE, "Content-Type",
     "Content-Type:\n multipart/encrypted;\n protocol=\"application/pgp-encrypted\";\n"
     " boundary=\"%B\"\n",
     true},
    {"content-type-folded-inside-type", .where = REPLACE, "Content-Type",
     "Content-Type: multipart/\n encrypted; protocol=\"application/pgp-encrypted\"; "
     "boundary=\"%B\"\n"},
    {"content-type-lower-case-name", .where = REPLACE, "Content-Type",
     "content-type: " CT_ENCRYPTED "boundary=\"%B\"\n", true},
    {"content-type-empty-continuation", .where = REPLACE, "Content-Type",
     "Content-Type: " CT_ENCRYPTED "\n \n boundary=\"%B\"\n"},
    {"empty-field", .where = BEFORE, "Content-Type", "X-Empty:\n", true},
    {"parentheses-in-name", .where = BEFORE, "Content-Type", "X-(comment): a\n", true},
    {"separator-space", .where = SEPARATOR, NULL, " \n"},
    {"separator-tab", .where = SEPARATOR, NULL, "\t\n"},
    {"separator-cr", .where = SEPARATOR, NULL, "\r\n"},
    {"separator-missing", .where = SEPARATOR, NULL, ""},
    {"two-separators", .where = SEPARATOR, NULL, "\n\n"},
    /* 8-bit and control bytes in names */
    {"8bit-name", .where = BEFORE, "Content-Type", "X-T\xe9st: a\n"},
    {"utf8-content-type-name", .where = BEFORE, "Content-Type",
     "Content-Typ\xc3\xa9: text/plain\n"},
    {"control-byte-name", .where = BEFORE, "Content-Type", "X-\x01: a\n"},
    {"del-in-name", .where = BEFORE, "Content-Type",
     "Content-\x7f"
     "Type: text/plain\n"},
    {"nul-in-name", .where = BEFORE, "Content-Type", "Content-Type%0: text/plain\n"},
    {"nul-in-value", .where = BEFORE, "Content-Type", "X-Nul: a%0Content-Type: text/plain\n"},
    {"byte-order-mark-first", .where = FIRST, NULL, "\xef\xbb\xbfX-Bom: a\n"},
    {"escape-in-name", .where = BEFORE, "Content-Type", "Content-Type\x1b: text/plain\n"},
    {"from-stray-backslash", .where = REPLACE, "From",
     "From: \"Alice, at work\" (office)\\\n\t<alice@chat.example.org>\n"},
    /* From forms: a reader must find the sender's one mailbox, not another */
    {"from-bare-address", .where = REPLACE, "From", "From: alice@chat.example.org\n", true},
    {"from-encoded-word-name", .where = REPLACE, "From",
     "From: =?utf-8?q?Al=C3=AFce?= <alice@chat.example.org>\n", true},
    {"from-address-as-display-name", .where = REPLACE, "From",
     "From: \"alice@chat.example.org\" <mallory@example.net>\n"},
    {"from-unquoted-address-as-name", .where = REPLACE, "From",
     "From: alice@chat.example.org <mallory@example.net>\n"},
    {"from-group", .where = REPLACE, "From", "From: Friends: <alice@chat.example.org>;\n"},
    {"from-group-and-mailbox", .where = REPLACE, "From",
     "From: Friends: <mallory@example.net>;, <alice@chat.example.org>\n"},
    {"from-comment-in-address", .where = REPLACE, "From",
     "From: <alice(mallory@example.net)@chat.example.org>\n"},
    {"from-route", .where = REPLACE, "From", "From: <@example.net:alice@chat.example.org>\n"},
    {"from-trailing-comma", .where = REPLACE, "From", "From: <alice@chat.example.org>,\n"},
    {"from-two-angle-addresses", .where = REPLACE, "From",
     "From: Alice <alice@chat.example.org> <mallory@example.net>\n"},
    {"from-quoted-local-part", .where = REPLACE, "From", "From: <\"alice\"@chat.example.org>\n"},
    {"from-empty", .where = REPLACE, "From", "From:\n"},
    {"from-8bit-address", .where = REPLACE, "From", "From: <alice@chat.example.o\xffg>\n"},
    /* bare CR */
    {"bare-cr-before-content-type", .where = BEFORE, "Content-Type",
     "X-Cr: a\rContent-Type: text/plain\n"},
    {"bare-cr-in-content-type", .where = REPLACE, "Content-Type",
     "Content-Type: text/plain\r " CT_ENCRYPTED "boundary=\"%B\"\n"},
    {"bare-cr-line-end-before-from", .where = BEFORE, "From",
     "X-Mac: a\rFrom: <mallory@example.net>\n"},
    {"cr-cr-lf-line-end", .where = BEFORE, "Content-Type", "X-Cr: a\r\r\n"},
};

/* Repeats of the fields that decide the verdict or the sender, in several spellings. */
static const struct {
	const char *field, *value, *label;
} repeats[] = {
    {"From", "<mallory@example.net>", "other"},
    {"From", "<alice@chat.example.org>", "same"},
    {"Sender", "<mallory@example.net>", "other"},
    {"Content-Type", "text/plain", "text"},
    {"Content-Type", CT_ENCRYPTED "boundary=\"%B\"", "same"},
    {"Content-Transfer-Encoding", "base64", "base64"},
    {"MIME-Version", "1.0", "same"},
};
static const char *const spellings[] = {"as-is", "lower", "upper", "space-colon", "tab-colon"};

struct field_span {
	size_t start, end; /* the field's lines with their line ends */
};

/* The base split once: fields of its top-level header, where the separator line starts and
 * where the body starts. Good enough for the corpus, which is canonical. */
struct base {
	const char *msg;
	size_t len;
	struct field_span fields[64];
	size_t count, separator, body;
	struct style style;
	char boundary[128];
};

static bool split_base(const char *msg, size_t len, struct base *b)
{
	size_t pos = 0;
	memset(b, 0, sizeof *b);
	b->msg = msg;
	b->len = len;
	b->style.eol = memchr(msg, '\r', len) ? "\r\n" : "\n";
	while (pos < len) {
		const char *lf = memchr(msg + pos, '\n', len - pos);
		size_t end = lf ? (size_t)(lf - msg) + 1 : len;
		if (msg[pos] == '\n' ||
		    (msg[pos] == '\r' && pos + 1 < len && msg[pos + 1] == '\n')) {
			b->separator = pos;
			b->body = end;
			return b->count > 0;
		}
		if ((msg[pos] == ' ' || msg[pos] == '\t') && b->count > 0) {
			b->fields[b->count - 1].end = end;
		} else {
			if (b->count == sizeof b->fields / sizeof b->fields[0])
				return false;
			b->fields[b->count++] = (struct field_span){pos, end};
		}
		pos = end;
	}
	return false;
}

static bool field_is(const struct base *b, size_t i, const char *name)
{
	size_t n = strlen(name);
	const char *p = b->msg + b->fields[i].start;
	return b->fields[i].end - b->fields[i].start > n && strncasecmp(p, name, n) == 0 &&
	       p[n] == ':';
}

/* The boundary parameter of the base's Content-Type, quoted or not. */
static void find_boundary(struct base *b)
{
	for (size_t i = 0; i < b->count; i++) {
		if (!field_is(b, i, "Content-Type"))
			continue;
		size_t n = b->fields[i].end - b->fields[i].start, o = 0;
		const char *p = b->msg + b->fields[i].start;
		const char *q = memmem(p, n, "boundary=", 9);
		if (q == NULL)
			return;
		q += 9;
		bool quoted = *q == '"';
		q += quoted;
		while (q < p + n && o + 1 < sizeof b->boundary &&
		       (quoted ? *q != '"' : strchr(";\r\n \t", *q) == NULL))
			b->boundary[o++] = *q++;
		b->boundary[o] = '\0';
	}
}

/* The base with text placed as where says: relative to the first field called anchor, at the
 * start, after the last field, or instead of the empty separator line. */
static void apply(const struct base *b, enum where where, const char *anchor, const char *text,
		  struct text *out)
{
	bool done = false;
	out->len = 0;
	if (where == FIRST) {
		put(out, text, &b->style);
		done = true;
	}
	for (size_t i = 0; i < b->count; i++) {
		const struct field_span *f = &b->fields[i];
		bool here = !done && anchor != NULL && field_is(b, i, anchor);
		if (here && where == BEFORE)
			put(out, text, &b->style);
		if (here && where == REPLACE)
			put(out, text, &b->style);
		else
			put_bytes(out, b->msg + f->start, f->end - f->start);
		if (here && where == AFTER)
			put(out, text, &b->style);
		done = done || here;
	}
	if (where == LAST)
		put(out, text, &b->style);
	if (where == SEPARATOR)
		put(out, text, &b->style);
	else
		put_bytes(out, b->msg + b->separator, b->body - b->separator);
	put_bytes(out, b->msg + b->body, b->len - b->body);
}

static void spelled(const char *field, const char *spelling, char *out, size_t cap)
{
	size_t n = strlen(field);
	snprintf(out, cap, "%s%s", field,
		 strcmp(spelling, "space-colon") == 0 ? " "
		 : strcmp(spelling, "tab-colon") == 0 ? "\t"
						      : "");
	for (size_t i = 0; i < n; i++) {
		if (strcmp(spelling, "lower") == 0 && out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
		if (strcmp(spelling, "upper") == 0 && out[i] >= 'a' && out[i] <= 'z')
			out[i] = (char)(out[i] - 'a' + 'A');
	}
}

static void repeat_mutations(const struct base *b, const char *base_name, struct text *out,
			     oracle_input_fn *fn, void *context)
{
	char name[NAME_MAX_LEN], field[64], line[256];
	for (size_t r = 0; r < sizeof repeats / sizeof repeats[0]; r++)
		for (size_t s = 0; s < sizeof spellings / sizeof spellings[0]; s++)
			for (int after = 0; after < 2; after++) {
				bool present = false;
				for (size_t i = 0; i < b->count; i++)
					present = present || field_is(b, i, repeats[r].field);
				spelled(repeats[r].field, spellings[s], field, sizeof field);
				/* A field the base lacks comes twice: once plainly, once so. */
				if (present)
					snprintf(line, sizeof line, "%s: %s\n", field,
						 repeats[r].value);
				else
					snprintf(line, sizeof line, "%s: %s\n%s: %s\n",
						 repeats[r].field, repeats[r].value, field,
						 repeats[r].value);
				apply(b, after ? AFTER : BEFORE,
				      present ? repeats[r].field : "Content-Type", line, out);
				snprintf(name, sizeof name, "%s+repeat-%s-%s-%s-%s", base_name,
					 repeats[r].field, repeats[r].label, spellings[s],
					 after ? "after" : "before");
				fn(name, out->data, out->len, ANY, context);
			}
}

/* One field of exactly size bytes as Postfix counts them (folded lines joined by "\n"):
 * prefix, 'a's (folded every 76 bytes when asked), suffix. */
static void padded_field(const char *prefix, const char *suffix, size_t size, bool folded,
			 struct text *out)
{
	size_t line = 0;
	out->len = 0;
	put_bytes(out, prefix, strlen(prefix));
	while (out->len + strlen(suffix) < size) {
		if (folded && line >= 76 && out->len + 2 + strlen(suffix) < size) {
			put_bytes(out, "\n ", 2);
			line = 0;
		} else {
			put_bytes(out, "a", 1);
			line++;
		}
	}
	put_bytes(out, suffix, strlen(suffix));
	put_bytes(out, "\n", 1);
}

static void length_mutations(const struct base *b, const char *base_name, size_t limit,
			     struct text *out, oracle_input_fn *fn, void *context)
{
	static const struct {
		const char *label, *anchor, *prefix, *suffix;
		enum where where;
	} forms[] = {
	    {"x-pad", "Content-Type", "X-Pad: ", "", BEFORE},
	    {"subject", "Subject", "Subject: ", "", REPLACE},
	    {"from-display-name", "From", "From: \"", "\" <alice@chat.example.org>", REPLACE},
	    {"content-type-parameter", "Content-Type", "Content-Type: " CT_ENCRYPTED "x-pad=\"",
	     "\"; boundary=\"%B\"", REPLACE},
	};
	struct text field = {0};
	char name[NAME_MAX_LEN];
	for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++)
		for (int folded = 0; folded < 2; folded++)
			for (long delta = -1; delta <= 1; delta++) {
				/* %B becomes the boundary: count that, not the marker */
				size_t size = limit + (size_t)delta;
				size_t marker = strstr(forms[f].suffix, "%B") ? 2 : 0;
				size_t real = marker ? strlen(b->style.boundary) : 0;
				padded_field(forms[f].prefix, forms[f].suffix, size + marker - real,
					     folded, &field);
				apply(b, forms[f].where, forms[f].anchor, field.data, out);
				snprintf(name, sizeof name, "%s+length-%s%s-%zu", base_name,
					 forms[f].label, folded ? "-folded" : "", size);
				fn(name, out->data, out->len, ANY, context);
			}
	free(field.data);
}

void header_mutations(const char *name, const char *msg, size_t len, size_t header_size_limit,
		      oracle_input_fn *fn, void *context)
{
	struct base b;
	struct text out = {0};
	char mutation[NAME_MAX_LEN];
	if (!split_base(msg, len, &b)) {
		fprintf(stderr, "oracle: cannot split %s into header and body\n", name);
		exit(2);
	}
	find_boundary(&b);
	b.style.boundary = b.boundary;
	for (size_t e = 0; e < sizeof header_edits / sizeof header_edits[0]; e++) {
		const struct header_edit *edit = &header_edits[e];
		apply(&b, edit->where, edit->anchor, edit->text, &out);
		snprintf(mutation, sizeof mutation, "%s+%s", name, edit->name);
		fn(mutation, out.data, out.len, edit->canonical ? AS_BASE : ANY, context);
	}
	repeat_mutations(&b, name, &out, fn, context);
	length_mutations(&b, name, header_size_limit, &out, fn, context);
	free(out.data);
}

/* ---- PGP/MIME structures around one armored message ---- */

#define TOP_FIELDS                                                                                 \
	"From: <alice@chat.example.org>\nTo: <bob@example.net>\nSubject: [...]\n"                  \
	"Date: Sat, 30 Nov 2024 10:00:00 +0000\nMessage-ID: <oracle@chat.example.org>\n"           \
	"MIME-Version: 1.0\n"
#define BOUNDARY "LtN3B8k2dQ4oYx7sZ0vRwAcE"
#define CT_DEFAULT "multipart/encrypted; protocol=\"application/pgp-encrypted\";\n\tboundary=\"%B\""
#define CT_WITH(params) "multipart/encrypted; protocol=\"application/pgp-encrypted\"; " params
#define PART1                                                                                      \
	"Content-Type: application/pgp-encrypted\n"                                                \
	"Content-Description: PGP/MIME version identification\n\nVersion: 1\n\n"
#define PART2                                                                                      \
	"Content-Type: application/octet-stream; name=\"encrypted.asc\"\n"                         \
	"Content-Description: OpenPGP encrypted message\n"                                         \
	"Content-Disposition: inline; filename=\"encrypted.asc\";\n"
#define CTE(value) "Content-Transfer-Encoding: " value "\n"
#define TAIL "\n--%B--\n"
#define CLEARTEXT_PART "Content-Type: text/plain\n\nHello Bob, this is cleartext.\n"

enum armor_form {
	ARMOR_PLAIN,  /* the armor as it stands */
	ARMOR_BASE64, /* the armor base64-encoded */
	ARMOR_QP,     /* the armor quoted-printable-encoded */
};

struct structure {
	const char *name;
	const char *content_type; /* the top Content-Type's value; CT_DEFAULT when NULL */
	const char *boundary;	  /* BOUNDARY when NULL */
	const char *top_extra;	  /* fields before Content-Type */
	const char *part1;	  /* the whole first part; PART1 when NULL */
	const char *part2;	  /* the second part's header; PART2 when NULL */
	enum armor_form form;
	const char *tail; /* after the armor; TAIL when NULL */
	bool canonical;
};

static const struct structure structures[] = {
    /* transfer encodings */
    {"cte-7bit", .part2 = PART2 CTE("7bit"), .canonical = true},
    {"cte-8bit", .part2 = PART2 CTE("8bit"), .canonical = true},
    {"cte-binary", .part2 = PART2 CTE("binary"), .canonical = true},
    {"cte-base64", .part2 = PART2 CTE("base64"), .form = ARMOR_BASE64, .canonical = true},
    {"cte-base64-upper-case", .part2 = PART2 CTE("BASE64"), .form = ARMOR_BASE64,
     .canonical = true},
    {"cte-quoted-printable", .part2 = PART2 CTE("quoted-printable"), .form = ARMOR_QP,
     .canonical = true},
    {"cte-base64-over-plain-armor", .part2 = PART2 CTE("base64")},
    {"cte-quoted-printable-over-plain-armor", .part2 = PART2 CTE("quoted-printable")},
    {"cte-unknown", .part2 = PART2 CTE("x-unknown")},
    {"cte-uuencode", .part2 = PART2 CTE("x-uuencode")},
    {"cte-empty", .part2 = PART2 "Content-Transfer-Encoding:\n"},
    {"cte-comment", .part2 = PART2 CTE("7bit (comment)")},
    {"cte-twice-same", .part2 = PART2 CTE("7bit") CTE("7bit")},
    {"cte-base64-then-7bit-plain-armor", .part2 = PART2 CTE("base64") CTE("7bit")},
    {"cte-7bit-then-base64-plain-armor", .part2 = PART2 CTE("7bit") CTE("base64")},
    {"cte-base64-then-7bit-base64-armor", .part2 = PART2 CTE("base64") CTE("7bit"),
     .form = ARMOR_BASE64},
    {"cte-7bit-then-base64-base64-armor", .part2 = PART2 CTE("7bit") CTE("base64"),
     .form = ARMOR_BASE64},
    {"cte-twice-spelled", .part2 = PART2 "content-transfer-encoding: base64\n"
					 "Content-Transfer-Encoding : 7bit\n"},
    {"cte-space-colon-base64", .part2 = PART2 "Content-Transfer-Encoding : base64\n"},
    {"cte-top-base64", .top_extra = CTE("base64")},
    {"cte-top-quoted-printable", .top_extra = CTE("quoted-printable")},
    {"cte-top-7bit", .top_extra = CTE("7bit"), .canonical = true},
    {"version-part-base64",
     .part1 = "Content-Type: application/pgp-encrypted\n" CTE("base64") "\nVmVyc2lvbjogMQ==\n\n",
     .canonical = true},
    /* Content-Type parameters */
    {"boundary-twice-same", .content_type = CT_WITH("boundary=\"%B\"; boundary=\"%B\"")},
    {"boundary-twice-other-first", .content_type = CT_WITH("boundary=\"other\"; boundary=\"%B\"")},
    {"boundary-twice-other-last", .content_type = CT_WITH("boundary=\"%B\"; boundary=\"other\"")},
    {"boundary-twice-other-case", .content_type = CT_WITH("BOUNDARY=\"other\"; boundary=\"%B\"")},
    {"boundary-upper-case-name", .content_type = CT_WITH("BOUNDARY=\"%B\""), .canonical = true},
    {"boundary-unquoted", .content_type = CT_WITH("boundary=%B"), .canonical = true},
    {"boundary-rfc2231", .content_type = CT_WITH("boundary*=us-ascii''%B")},
    {"boundary-rfc2231-and-plain",
     .content_type = CT_WITH("boundary*=us-ascii''other; boundary=\"%B\"")},
    {"boundary-plain-and-rfc2231",
     .content_type = CT_WITH("boundary=\"%B\"; boundary*=us-ascii''other")},
    {"boundary-rfc2231-continuation",
     .content_type = CT_WITH("boundary*0=\"LtN3B8k2\"; boundary*1=\"dQ4oYx7sZ0vRwAcE\"")},
    {"boundary-continuation-and-plain",
     .content_type = CT_WITH("boundary*0=\"other\"; boundary=\"%B\"")},
    {"boundary-space-around-equals", .content_type = CT_WITH("boundary = \"%B\"")},
    {"boundary-in-comment", .content_type = CT_WITH("(boundary=\"other\") boundary=\"%B\"")},
    {"protocol-twice-other", .content_type =
				 "multipart/encrypted; protocol=\"text/plain\"; "
				 "protocol=\"application/pgp-encrypted\"; boundary=\"%B\""},
    {"protocol-twice-same",
     .content_type = CT_WITH("protocol=\"application/pgp-encrypted\"; boundary=\"%B\"")},
    {"nul-in-protocol", .content_type =
			    "multipart/encrypted; "
			    "protocol=\"application/pgp-encrypted%0\"; boundary=\"%B\""},
    {"protocol-missing", .content_type = "multipart/encrypted; boundary=\"%B\""},
    {"content-type-upper-case",
     .content_type = "MULTIPART/ENCRYPTED; PROTOCOL=\"application/pgp-encrypted\"; "
		     "boundary=\"%B\"",
     .canonical = true},
    {"content-type-comment", .content_type =
				 "multipart/encrypted (PGP/MIME); "
				 "protocol=\"application/pgp-encrypted\"; boundary=\"%B\""},
    {"content-type-space-around-slash", .content_type = "multipart / encrypted; boundary=\"%B\""},
    {"content-type-no-semicolon", .content_type = "multipart/encrypted boundary=\"%B\""},
    {"content-type-trailing-semicolon", .content_type = CT_WITH("boundary=\"%B\";")},
    {"content-type-two-types", .content_type = "text/plain; multipart/encrypted; boundary=\"%B\""},
    {"content-type-quoted-type", .content_type = "\"multipart/encrypted\"; boundary=\"%B\""},
    /* boundaries with odd characters, used alike in the body */
    {"boundary-spaces-inside", .boundary = "a b c"},
    {"boundary-trailing-space", .boundary = "abc "},
    {"boundary-quoted-pair", .content_type = CT_WITH("boundary=\"a\\\"b\""), .boundary = "a\"b"},
    {"boundary-backslash", .content_type = CT_WITH("boundary=\"a\\\\b\""), .boundary = "a\\b"},
    {"boundary-71-characters",
     .boundary = "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz012345678"},
    {"boundary-special-characters", .boundary = "'()+_,-./:=?"},
    {"boundary-unquoted-special", .content_type = CT_WITH("boundary=a/b:c"), .boundary = "a/b:c"},
    {"boundary-8bit", .boundary = "ab\xc3\xa9"},
    {"boundary-control", .boundary = "ab\x01"
				     "cd"},
    {"boundary-empty", .boundary = ""},
    {"boundary-dashes", .boundary = "--"},
    {"boundary-bare-cr", .boundary = "ab\rcd"},
    /* delimiters */
    {"third-part-delimiter-trailing-space", .tail = "\n--%B \n" CLEARTEXT_PART "--%B--\n"},
    {"third-part-delimiter-trailing-tab", .tail = "\n--%B\t\n" CLEARTEXT_PART "--%B--\n"},
    {"third-part-delimiter-with-suffix", .tail = "\n--%Bx\n" CLEARTEXT_PART "--%B--\n"},
    {"third-part-delimiter-bare-cr", .tail = "\n--%B\r" CLEARTEXT_PART "--%B--\n"},
    {"third-part-after-close-delimiter", .tail = "\n--%B--\n--%B\n" CLEARTEXT_PART "--%B--\n"},
    {"close-delimiter-missing", .tail = "\n"},
    {"close-delimiter-trailing-text", .tail = "\n--%B--trailing\n"},
    {"epilogue", .tail = "\n--%B--\nepilogue text\n", .canonical = true},
    /* part headers */
    {"part2-content-type-space-colon", .part2 = "Content-Type : application/octet-stream\n"},
    {"part2-content-type-twice", .part2 = "Content-Type: text/plain\n" PART2},
    {"part2-content-type-twice-reversed", .part2 = PART2 "Content-Type: text/plain\n"},
    {"part2-line-without-colon", .part2 = "X-Junk\n" PART2},
    {"part2-first-line-continuation", .part2 = " X-Folded: x\n" PART2},
    {"part2-bare-cr", .part2 = "X-Cr: a\rContent-Type: text/plain\n" PART2},
    {"part2-8bit-name", .part2 = "X-T\xe9st: a\n" PART2},
    {"part2-no-header", .part2 = ""},
    {"part2-nul-in-value", .part2 = "Content-Description: a%0Content-Type: text/plain\n" PART2},
    {"part2-message-rfc822", .part2 = "Content-Type: message/rfc822\n"},
    {"part1-content-type-twice",
     .part1 = "Content-Type: text/plain\nContent-Type: application/pgp-encrypted\n\n"
	      "Version: 1\n\n"},
    {"part1-line-without-colon",
     .part1 = "X-Junk\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n"},
};

/* The armored message of a corpus message, with LF line ends, through its END line. */
static char *armor_of(const char *msg, size_t len)
{
	const char *begin = memmem(msg, len, "-----BEGIN PGP MESSAGE-----", 27);
	const char *end =
	    begin ? memmem(begin, len - (size_t)(begin - msg), "-----END PGP MESSAGE-----", 25)
		  : NULL;
	struct text out = {0};
	if (end == NULL)
		return NULL;
	for (const char *p = begin; p < end + 25; p++)
		if (*p != '\r')
			put_bytes(&out, p, 1);
	put_bytes(&out, "\n", 1);
	return out.data;
}

static void base64_encode(const char *in, size_t len, struct text *out)
{
	static const char digits[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t column = 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned long v = (unsigned long)(unsigned char)in[i] << 16;
		char group[4];
		if (i + 1 < len)
			v |= (unsigned long)(unsigned char)in[i + 1] << 8;
		if (i + 2 < len)
			v |= (unsigned char)in[i + 2];
		group[0] = digits[v >> 18];
		group[1] = digits[(v >> 12) & 63];
		group[2] = i + 1 < len ? digits[(v >> 6) & 63] : '=';
		group[3] = i + 2 < len ? digits[v & 63] : '=';
		put_bytes(out, group, 4);
		column += 4;
		if (column == 76 || i + 3 >= len) {
			put_bytes(out, "\n", 1);
			column = 0;
		}
	}
}

/* The armor in the line ends of the message, then encoded as the form says. */
static void put_armor(struct text *t, const char *armor, enum armor_form form,
		      const struct style *s)
{
	struct text lines = {0};
	if (form == ARMOR_PLAIN) {
		put(t, armor, s);
		return;
	}
	if (form == ARMOR_BASE64) {
		struct text b64 = {0};
		put(&lines, armor, s);
		base64_encode(lines.data, lines.len, &b64);
		put(t, b64.data, s);
		free(b64.data);
	} else {
		for (const char *p = armor; *p != '\0'; p++)
			put_bytes(&lines, *p == '=' ? "=3D" : p, *p == '=' ? 3 : 1);
		put(t, lines.data, s);
	}
	free(lines.data);
}

static void build(const struct structure *c, const char *armor, const char *eol, struct text *out)
{
	struct style s = {eol, c->boundary ? c->boundary : BOUNDARY};
	out->len = 0;
	put(out, TOP_FIELDS, &s);
	if (c->top_extra)
		put(out, c->top_extra, &s);
	put(out, "Content-Type: ", &s);
	put(out, c->content_type ? c->content_type : CT_DEFAULT, &s);
	put(out, "\n\n--%B\n", &s);
	put(out, c->part1 ? c->part1 : PART1, &s);
	put(out, "--%B\n", &s);
	put(out, c->part2 ? c->part2 : PART2, &s);
	put(out, "\n", &s);
	put_armor(out, armor, c->form, &s);
	put(out, c->tail ? c->tail : TAIL, &s);
}

void structure_mutations(const char *encrypted_eml, size_t len, oracle_input_fn *fn, void *context)
{
	static const struct structure plain = {.name = "structure"};
	static const char *const eols[][2] = {{"\r\n", "crlf"}, {"\n", "lf"}};
	char *armor = armor_of(encrypted_eml, len);
	struct text out = {0};
	char name[NAME_MAX_LEN];
	if (armor == NULL) {
		fprintf(stderr, "oracle: no armored message in encrypted.eml\n");
		exit(2);
	}
	for (size_t e = 0; e < 2; e++) {
		build(&plain, armor, eols[e][0], &out);
		snprintf(name, sizeof name, "structure-%s", eols[e][1]);
		fn(name, out.data, out.len, IS_BASE, context);
		for (size_t i = 0; i < sizeof structures / sizeof structures[0]; i++) {
			build(&structures[i], armor, eols[e][0], &out);
			snprintf(name, sizeof name, "structure-%s+%s", eols[e][1],
				 structures[i].name);
			fn(name, out.data, out.len, structures[i].canonical ? AS_BASE : ANY,
			   context);
		}
	}
	free(out.data);
	free(armor);
}
