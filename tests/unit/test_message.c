/* The one scan of a message (lib/message.h): the encrypted corpus message with one thing
 * changed at a time, each change a way Postfix, Dovecot or a MIME reader would read the
 * message differently from a lenient filter. */
#include "message.h"
#include "test.h"

#include <stdlib.h>

#define CORPUS "tests/data/eml/"
#define MESSAGE_MAX (512 * 1024)

static char *load(const char *file, size_t *len)
{
	char *text = malloc(MESSAGE_MAX);
	FILE *f = fopen(file, "rb");
	if (text == NULL || f == NULL) {
		fprintf(stderr, "cannot open %s (run from the repository root)\n", file);
		exit(1);
	}
	*len = fread(text, 1, MESSAGE_MAX, f);
	fclose(f);
	return text;
}

/* The message with insert placed before the first occurrence of anchor. */
static char *with(const char *text, size_t len, const char *anchor, const char *insert,
		  size_t *out_len)
{
	const char *at = memmem(text, len, anchor, strlen(anchor));
	size_t n = strlen(insert), head = (size_t)(at - text);
	char *out = malloc(len + n + 1);
	if (at == NULL || out == NULL)
		abort();
	memcpy(out, text, head);
	memcpy(out + head, insert, n);
	memcpy(out + head + n, at, len - head);
	*out_len = len + n;
	return out;
}

static const char *problem_with(const char *anchor, const char *insert)
{
	static char *base;
	static size_t base_len;
	if (base == NULL)
		base = load(CORPUS "encrypted.eml", &base_len);
	size_t len;
	char *m = with(base, base_len, anchor, insert, &len);
	struct message scanned;
	CHECK(message_parse(m, len, &scanned) == 0);
	free(m);
	return scanned.encryption_problem;
}

/* "X-Long: aaa…" of exactly n bytes with its CRLF. */
static char *field_of(size_t n)
{
	char *f = malloc(n + 1);
	if (f == NULL)
		abort();
	memcpy(f, "X-Long: ", 8);
	memset(f + 8, 'a', n - 10);
	memcpy(f + n - 2, "\r\n", 3);
	return f;
}

static void test_field_length_limit_in_message_and_parts(void)
{
	const char *anchors[] = {"Subject:", "Content-Description: OpenPGP encrypted message"};
	for (size_t i = 0; i < 2; i++) {
		char *fit = field_of(HEADER_FIELD_MAX), *over = field_of(HEADER_FIELD_MAX + 1);
		CHECK(problem_with(anchors[i], fit) == NULL);
		const char *p = problem_with(anchors[i], over);
		CHECK(p != NULL && strcmp(p, "header field longer than header_size_limit") == 0);
		free(fit);
		free(over);
	}
}

static void test_part_headers_are_read_as_strictly(void)
{
	const char *part = "Content-Description: OpenPGP encrypted message";
	CHECK(problem_with(part, "X-Fine: yes\r\n") == NULL);
	CHECK(problem_with(part, "Content-Type : text/plain\r\n") != NULL);
	CHECK(problem_with(part, "no field\r\n") != NULL);
	CHECK(problem_with(part, "Content-Transfer-Encoding: 7bit\r\n") == NULL);
	CHECK(problem_with(part, "Content-Transfer-Encoding: x-gzip\r\n") != NULL);
	CHECK(problem_with(part, "Content-Transfer-Encoding: 7bit\r\nContent-Transfer-Encoding: "
				 "7bit\r\n") != NULL);
	CHECK(problem_with("Content-Description: PGP/MIME", "Content-Type: text/plain\r\n") !=
	      NULL);
	/* Content-Disposition's parameters are read as strictly as Content-Type's. */
	CHECK(problem_with(part, "Content-Disposition: attachment; filename=a; filename=b\r\n") !=
	      NULL);
	CHECK(problem_with(part, "Content-Disposition: (x) inline\r\n") != NULL);
	/* The message itself: a transfer encoding on the multipart, a second MIME-Version. */
	CHECK(problem_with("Content-Type: multipart", "Content-Transfer-Encoding: base64\r\n") !=
	      NULL);
	CHECK(problem_with("Content-Type: multipart", "Content-Transfer-Encoding: 8bit\r\n") ==
	      NULL);
	CHECK(problem_with("Content-Type: multipart", "Mime-Version: 1.0\r\n") != NULL);
	CHECK(problem_with("Content-Type: multipart", "Sender: <a@b.c>\r\n") == NULL);
	CHECK(problem_with("Content-Type: multipart", "Sender: <a@b.c>\r\nsender: <d@e.f>\r\n") !=
	      NULL);
}

static void test_armor_transfer_encodings(void)
{
	size_t len;
	struct message m;
	char *text = load(CORPUS "encrypted-base64-armor.eml", &len);
	CHECK(message_parse(text, len, &m) == 0 && m.encryption_problem == NULL);
	/* One broken base64 character in the transfer encoding: not encrypted. */
	char *body = strstr(text, "LS0tLS1CRUdJTiBQR1AgTUVTU0FHRS0tLS0t");
	CHECK(body != NULL);
	if (body != NULL) {
		body[4] = '*';
		CHECK(message_parse(text, len, &m) == 0 && m.encryption_problem != NULL);
	}
	free(text);
	text = load(CORPUS "encrypted-qp-armor.eml", &len);
	CHECK(message_parse(text, len, &m) == 0 && m.encryption_problem == NULL);
	/* Raw '=' padding where quoted-printable wants =3D stays '=' (as readers decode it),
	 * and a soft line break joins lines. */
	char *soft = with(text, len, "-----BEGIN PGP", "=\r\n", &len);
	CHECK(message_parse(soft, len, &m) == 0 && m.encryption_problem == NULL);
	free(soft);
	free(text);
}

static void test_from_and_securejoin_need_a_canonical_header(void)
{
	size_t len;
	struct message m;
	char *text = load(CORPUS "securejoin-vc.eml", &len);
	CHECK(message_parse(text, len, &m) == 0 && m.securejoin && m.has_from);
	char *bad = with(text, len, "Secure-Join:", "Secure-Join : vg-request\r\n", &len);
	CHECK(message_parse(bad, len, &m) == 0 && !m.securejoin && !m.has_from);
	free(bad);
	free(text);
}

int main(void)
{
	test_field_length_limit_in_message_and_parts();
	test_part_headers_are_read_as_strictly();
	test_armor_transfer_encodings();
	test_from_and_securejoin_need_a_canonical_header();
	return test_summary("message");
}
