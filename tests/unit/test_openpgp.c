/* The OpenPGP check: every length encoding, packet order, truncation, and the armor around. */
#include "openpgp.h"
#include "test.h"

#include <stdlib.h>

/* A packet image under construction. */
struct bytes {
	unsigned char data[16384];
	size_t len;
};

static void put(struct bytes *b, const void *data, size_t len)
{
	if (b->len + len > sizeof b->data)
		abort();
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static void put_octet(struct bytes *b, unsigned octet)
{
	unsigned char c = (unsigned char)octet;
	put(b, &c, 1);
}

static void put_body(struct bytes *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		put_octet(b, (unsigned)(i * 37 + 11));
}

/* A new-format packet with the shortest length encoding. */
static void put_packet(struct bytes *b, unsigned tag, size_t len)
{
	put_octet(b, 0xc0 | tag);
	if (len < 192) {
		put_octet(b, (unsigned)len);
	} else if (len < 8384) {
		put_octet(b, (unsigned)(((len - 192) >> 8) + 192));
		put_octet(b, (unsigned)((len - 192) & 0xff));
	} else {
		put_octet(b, 255);
		put_octet(b, (unsigned)(len >> 24));
		put_octet(b, (unsigned)(len >> 16));
		put_octet(b, (unsigned)(len >> 8));
		put_octet(b, (unsigned)len);
	}
	put_body(b, len);
}

static enum openpgp_status check(const struct bytes *b)
{
	return openpgp_packets_check(b->data, b->len);
}

/* The same data fed one octet at a time must give the same verdict. */
static enum openpgp_status check_bytewise(const struct bytes *b)
{
	struct openpgp_packets p;
	openpgp_packets_init(&p);
	for (size_t i = 0; i < b->len; i++)
		openpgp_packets_feed(&p, b->data + i, 1);
	return openpgp_packets_end(&p);
}

#define CHECK_PACKETS(b, expected)                                                                 \
	do {                                                                                       \
		CHECK(check(b) == (expected));                                                     \
		CHECK(check_bytewise(b) == (expected));                                            \
	} while (0)

static void test_one_two_and_five_octet_lengths(void)
{
	size_t sizes[] = {0, 1, 191, 192, 193, 447, 448, 8383, 8384, 4000};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		struct bytes b = {0};
		put_packet(&b, OPENPGP_TAG_PKESK, 94);
		put_packet(&b, OPENPGP_TAG_SEIPD, sizes[i]);
		CHECK_PACKETS(&b, OPENPGP_OK);
	}
	/* 192 in two octets is C0 00; 8383 is DF FF. */
	struct bytes b = {0};
	put_packet(&b, OPENPGP_TAG_SEIPD, 192);
	CHECK(b.data[1] == 0xc0 && b.data[2] == 0x00);
	b.len = 0;
	put_packet(&b, OPENPGP_TAG_SEIPD, 300);
	CHECK(b.data[1] == 0xc0 && b.data[2] == 0x6c);
	/* A five-octet length for a small body is legal. */
	b.len = 0;
	put(&b, "\xd2\xff\x00\x00\x01\x00", 6);
	put_body(&b, 256);
	CHECK_PACKETS(&b, OPENPGP_OK);
}

static void test_session_key_packets_then_one_seipd(void)
{
	struct bytes b = {0};
	put_packet(&b, OPENPGP_TAG_SEIPD, 50);
	CHECK_PACKETS(&b, OPENPGP_OK);
	b.len = 0;
	put_packet(&b, OPENPGP_TAG_PKESK, 94);
	put_packet(&b, OPENPGP_TAG_SKESK, 13);
	put_packet(&b, OPENPGP_TAG_PKESK, 268);
	put_packet(&b, OPENPGP_TAG_SEIPD, 50);
	CHECK_PACKETS(&b, OPENPGP_OK);
	b.len = 0;
	put_packet(&b, OPENPGP_TAG_PKESK, 94);
	CHECK_PACKETS(&b, OPENPGP_NO_SEIPD);
	b.len = 0;
	CHECK_PACKETS(&b, OPENPGP_EMPTY);
	/* Wrong order and a second SEIPD are data after the SEIPD. */
	put_packet(&b, OPENPGP_TAG_SEIPD, 50);
	put_packet(&b, OPENPGP_TAG_PKESK, 94);
	CHECK_PACKETS(&b, OPENPGP_TRAILING_DATA);
	b.len = 0;
	put_packet(&b, OPENPGP_TAG_SEIPD, 50);
	put_packet(&b, OPENPGP_TAG_SEIPD, 50);
	CHECK_PACKETS(&b, OPENPGP_TRAILING_DATA);
	b.len = 0;
	put_packet(&b, OPENPGP_TAG_SEIPD, 50);
	put_octet(&b, 0);
	CHECK_PACKETS(&b, OPENPGP_TRAILING_DATA);
}

static void test_other_packets_are_not_encrypted(void)
{
	unsigned tags[] = {0, 2, 4, 5, 6, 8, 9, 11, 14, 19, 20, 60, 63};
	for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++) {
		struct bytes b = {0};
		put_packet(&b, tags[i], 20);
		CHECK_PACKETS(&b, OPENPGP_UNEXPECTED_PACKET);
		b.len = 0;
		put_packet(&b, OPENPGP_TAG_PKESK, 94);
		put_packet(&b, tags[i], 20);
		put_packet(&b, OPENPGP_TAG_SEIPD, 20);
		CHECK_PACKETS(&b, OPENPGP_UNEXPECTED_PACKET);
	}
}

static void test_old_format_and_garbage(void)
{
	struct bytes b = {0};
	/* Old format PKESK: 10 0001 00, one-octet length, as GnuPG 2.2 writes it. */
	put(&b, "\x84\x5e", 2);
	put_body(&b, 94);
	put_packet(&b, OPENPGP_TAG_SEIPD, 50);
	CHECK_PACKETS(&b, OPENPGP_OLD_FORMAT);
	b.len = 0;
	put_packet(&b, OPENPGP_TAG_PKESK, 94);
	put(&b, "\xa4\x10", 2); /* old format tag 9 */
	put_body(&b, 16);
	CHECK_PACKETS(&b, OPENPGP_OLD_FORMAT);
	b.len = 0;
	put(&b, "Hello", 5);
	CHECK_PACKETS(&b, OPENPGP_NOT_PACKET);
}

static void test_partial_lengths_only_on_seipd(void)
{
	struct bytes b = {0};
	put_packet(&b, OPENPGP_TAG_PKESK, 94);
	put_octet(&b, 0xd2);
	put_octet(&b, 0xe9); /* 512 */
	put_body(&b, 512);
	put_octet(&b, 0xe0); /* 1 */
	put_body(&b, 1);
	put_octet(&b, 0xea); /* 1024 */
	put_body(&b, 1024);
	put_octet(&b, 0xc0); /* final two-octet length 200 */
	put_octet(&b, 8);
	put_body(&b, 200);
	CHECK_PACKETS(&b, OPENPGP_OK);
	/* The final length may be zero, or five octets. */
	b.len = 0;
	put(&b, "\xd2\xe9", 2);
	put_body(&b, 512);
	put_octet(&b, 0);
	CHECK_PACKETS(&b, OPENPGP_OK);
	b.len = 0;
	put(&b, "\xd2\xe9", 2);
	put_body(&b, 512);
	put(&b, "\xff\x00\x00\x00\x03", 5);
	put_body(&b, 3);
	CHECK_PACKETS(&b, OPENPGP_OK);
	/* A partial chunk with no final length is unfinished. */
	b.len = 0;
	put(&b, "\xd2\xe9", 2);
	put_body(&b, 512);
	CHECK_PACKETS(&b, OPENPGP_TRUNCATED);
	/* Session key packets may not use them. */
	b.len = 0;
	put(&b, "\xc1\xe9", 2);
	put_body(&b, 512);
	put_octet(&b, 10);
	put_body(&b, 10);
	put_packet(&b, OPENPGP_TAG_SEIPD, 20);
	CHECK_PACKETS(&b, OPENPGP_PARTIAL_LENGTH);
	b.len = 0;
	put(&b, "\xc3\xe0\x00\xd2\x01\x00", 6);
	CHECK_PACKETS(&b, OPENPGP_PARTIAL_LENGTH);
}

static void test_truncation_anywhere(void)
{
	struct bytes full = {0};
	put_packet(&full, OPENPGP_TAG_PKESK, 94);
	put(&full, "\xd2\xff\x00\x00\x01\x00", 6);
	put_body(&full, 256);
	CHECK_PACKETS(&full, OPENPGP_OK);
	for (size_t cut = 1; cut < full.len; cut++) {
		struct bytes b = {0};
		put(&b, full.data, cut);
		enum openpgp_status expected = cut == 96 ? OPENPGP_NO_SEIPD : OPENPGP_TRUNCATED;
		CHECK_PACKETS(&b, expected);
	}
	/* Huge lengths are counted, not allocated. */
	struct bytes b = {0};
	put(&b, "\xd2\xff\xff\xff\xff\xff\x01\x02", 8);
	CHECK_PACKETS(&b, OPENPGP_TRUNCATED);
	b.len = 0;
	put(&b, "\xd2\xfe\x01", 3); /* a partial chunk of 2^30 */
	CHECK_PACKETS(&b, OPENPGP_TRUNCATED);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of data wrapped every width characters, lines ended by eol. */
static size_t encode(const struct bytes *in, size_t width, const char *eol, char *out, size_t cap)
{
	size_t n = 0, column = 0, eol_len = strlen(eol);
	for (size_t i = 0; i < in->len; i += 3) {
		unsigned v = (unsigned)in->data[i] << 16;
		size_t left = in->len - i;
		if (left > 1)
			v |= (unsigned)in->data[i + 1] << 8;
		if (left > 2)
			v |= in->data[i + 2];
		const char quad[4] = {b64[v >> 18 & 63], b64[v >> 12 & 63],
				      left > 1 ? b64[v >> 6 & 63] : '=',
				      left > 2 ? b64[v & 63] : '='};
		for (int k = 0; k < 4; k++) {
			if (n + eol_len + 1 >= cap)
				abort();
			out[n++] = quad[k];
			if (++column == width) {
				memcpy(out + n, eol, eol_len);
				n += eol_len;
				column = 0;
			}
		}
	}
	if (column > 0) {
		memcpy(out + n, eol, eol_len);
		n += eol_len;
	}
	out[n] = '\0';
	return n;
}

static struct bytes good_packets(void)
{
	struct bytes b = {0};
	put_packet(&b, OPENPGP_TAG_PKESK, 94);
	put_packet(&b, OPENPGP_TAG_SEIPD, 180);
	return b;
}

/* An armor: begin, headers (each ending in eol), empty line, data, crc, end, after. */
static enum openpgp_status armored(const char *headers, const struct bytes *data, size_t width,
				   const char *eol, const char *crc, const char *after,
				   bool *header)
{
	static char text[16384];
	char body[12288];
	encode(data, width, eol, body, sizeof body);
	int n = snprintf(text, sizeof text,
			 "-----BEGIN PGP MESSAGE-----%s%s%s%s%s%s-----END PGP "
			 "MESSAGE-----%s%s",
			 eol, headers, eol, body, crc, crc[0] ? eol : "", eol, after);
	if (n < 0 || (size_t)n >= sizeof text)
		abort();
	return openpgp_armor_check(text, (size_t)n, header);
}

static enum openpgp_status text_check(const char *text, bool *header)
{
	return openpgp_armor_check(text, strlen(text), header);
}

static void test_armor_line_ends_wrapping_and_crc(void)
{
	struct bytes data = good_packets();
	bool header = true;
	CHECK(armored("", &data, 64, "\r\n", "=njUN", "", &header) == OPENPGP_OK);
	CHECK(!header);
	CHECK(armored("", &data, 64, "\n", "=njUN", "", &header) == OPENPGP_OK);
	CHECK(armored("", &data, 76, "\r\n", "", "", &header) == OPENPGP_OK);
	/* Any wrapping, down to one character a line ("==" alone on the last). */
	CHECK(armored("", &data, 1, "\n", "=abcd", "", &header) == OPENPGP_OK);
	CHECK(armored("", &data, 7, "\r\n", "", "", &header) == OPENPGP_OK);
	CHECK(armored("", &data, 100000, "\r\n", "", "", &header) == OPENPGP_OK);
	/* Empty lines (and only those) may follow the END line. */
	CHECK(armored("", &data, 64, "\r\n", "=njUN", "\r\n\r\n  \r\n", &header) == OPENPGP_OK);
	CHECK(armored("", &data, 64, "\r\n", "=njUN", "PS\r\n", &header) == OPENPGP_NO_ARMOR);
	/* Spaces inside base64 lines and trailing ones on armor lines are ignored. */
	CHECK(text_check(
		  "-----BEGIN PGP MESSAGE----- \n\n0g A=\n=AAAA \n-----END PGP MESSAGE-----\t\n",
		  &header) == OPENPGP_OK);
}

static void test_armor_headers_are_reported(void)
{
	struct bytes data = good_packets();
	bool header = false;
	CHECK(armored("Version: ProtonMail\r\n", &data, 64, "\r\n", "=njUN", "", &header) ==
	      OPENPGP_OK);
	CHECK(header);
	header = false;
	CHECK(armored("Comment: a\nCharset: UTF-8\n", &data, 64, "\n", "", "", &header) ==
	      OPENPGP_OK);
	CHECK(header);
	/* Without the empty line after a header line: the reference tolerates it, GnuPG and a
	 * MIME reader do not read the next line as data (found by the oracle): not encrypted. */
	CHECK(
	    text_check("-----BEGIN PGP MESSAGE-----\nVersion: 1\n0gA=\n-----END PGP MESSAGE-----\n",
		       &header) == OPENPGP_NO_ARMOR);
	/* "Key:value" is no header line, and no base64 either. */
	CHECK(text_check("-----BEGIN PGP MESSAGE-----\nVersion:1\n\n0gA=\n-----END PGP MESSAGE-----\n",
			 &header) != OPENPGP_OK);
	/* A CR inside a line ends it for some readers only. */
	CHECK(text_check("-----BEGIN PGP MESSAGE-----\nComment: a\rb\n\n0gA=\n-----END PGP MESSAGE-----\n",
			 &header) == OPENPGP_NO_ARMOR);
	/* Without an empty line at all: not read alike either. */
	CHECK(text_check("-----BEGIN PGP MESSAGE-----\n0gA=\n-----END PGP MESSAGE-----\n",
			 &header) == OPENPGP_NO_ARMOR);
	CHECK(!header);
	/* A header after the data is just broken base64. */
	CHECK(text_check(
		  "-----BEGIN PGP MESSAGE-----\n\n0gA=\nVersion: 1\n-----END PGP MESSAGE-----\n",
		  &header) == OPENPGP_BAD_BASE64);
}

static void test_armor_framing(void)
{
	bool header;
	const char *end = "-----END PGP MESSAGE-----\n";
	CHECK(text_check("", &header) == OPENPGP_NO_ARMOR);
	CHECK(text_check(end, &header) == OPENPGP_NO_ARMOR);
	CHECK(text_check("-----BEGIN PGP MESSAGE-----\n", &header) == OPENPGP_NO_ARMOR);
	CHECK(text_check("-----BEGIN PGP MESSAGE-----\n\n0gA=\n", &header) == OPENPGP_NO_ARMOR);
	CHECK(text_check("\n-----BEGIN PGP MESSAGE-----\n\n0gA=\n-----END PGP MESSAGE-----\n",
			 &header) == OPENPGP_NO_ARMOR);
	CHECK(text_check("-----BEGIN PGP SIGNATURE-----\n\n0gA=\n-----END PGP SIGNATURE-----\n",
			 &header) == OPENPGP_NO_ARMOR);
	CHECK(text_check("-----BEGIN PGP MESSAGE-----\n\n0gA=\n-----END PGP MESSAGE-----",
			 &header) == OPENPGP_OK);
	CHECK(text_check("-----BEGIN PGP MESSAGE-----\n\n=njUN\n-----END PGP MESSAGE-----\n",
			 &header) == OPENPGP_EMPTY);
	CHECK(text_check("-----BEGIN PGP MESSAGE-----\n\n\n-----END PGP MESSAGE-----\n", &header) ==
	      OPENPGP_EMPTY);
	/* After the CRC only the END line may come. */
	CHECK(
	    text_check("-----BEGIN PGP MESSAGE-----\n\n0gA=\n=njUN\n\n-----END PGP MESSAGE-----\n",
		       &header) == OPENPGP_OK);
	CHECK(text_check(
		  "-----BEGIN PGP MESSAGE-----\n\n0gA=\n=njUN\n0gA=\n-----END PGP MESSAGE-----\n",
		  &header) == OPENPGP_BAD_BASE64);
}

static void test_armor_base64_errors(void)
{
	bool header;
	const char *cases[] = {
	    "HELLOWORLD!", /* '!' */
	    "0gA",	   /* stops mid-group */
	    "0g=A",	   /* data after '=' */
	    "0===",	   /* '=' too early */
	    "0gA=0gA=",	   /* data after the padding */
	    "Definitely not base64 encoded PGP message content.",
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[256];
		int n = snprintf(text, sizeof text,
				 "-----BEGIN PGP MESSAGE-----\n\n%s\n-----END PGP MESSAGE-----\n",
				 cases[i]);
		CHECK(n > 0 && (size_t)n < sizeof text);
		CHECK(openpgp_armor_check(text, (size_t)n, &header) == OPENPGP_BAD_BASE64);
	}
	/* "HELLOWORLD" alone is valid base64, but not a packet. */
	CHECK(text_check("-----BEGIN PGP MESSAGE-----\n\nHELLOWORLD==\n-----END PGP MESSAGE-----\n",
			 &header) == OPENPGP_NOT_PACKET);
}

static void test_armor_carries_packet_verdicts(void)
{
	bool header;
	struct bytes b = {0};
	put(&b, "\x84\x5e", 2);
	put_body(&b, 94);
	CHECK(armored("", &b, 64, "\r\n", "", "", &header) == OPENPGP_OLD_FORMAT);
	b.len = 0;
	put_packet(&b, OPENPGP_TAG_PKESK, 94);
	put_packet(&b, OPENPGP_TAG_SEIPD, 180);
	b.len -= 10;
	CHECK(armored("", &b, 64, "\r\n", "", "", &header) == OPENPGP_TRUNCATED);
	b.len += 10;
	put_octet(&b, 0xd2);
	put_octet(&b, 0);
	CHECK(armored("", &b, 64, "\r\n", "", "", &header) == OPENPGP_TRAILING_DATA);
}

static void test_status_texts(void)
{
	for (int s = OPENPGP_OK; s <= OPENPGP_TRAILING_DATA; s++)
		CHECK(strlen(openpgp_status_text((enum openpgp_status)s)) > 0);
	CHECK_STR(openpgp_status_text(OPENPGP_OK), "encrypted");
}

int main(void)
{
	test_one_two_and_five_octet_lengths();
	test_session_key_packets_then_one_seipd();
	test_other_packets_are_not_encrypted();
	test_old_format_and_garbage();
	test_partial_lengths_only_on_seipd();
	test_truncation_anywhere();
	test_armor_line_ends_wrapping_and_crc();
	test_armor_headers_are_reported();
	test_armor_framing();
	test_armor_base64_errors();
	test_armor_carries_packet_verdicts();
	test_status_texts();
	return test_summary("openpgp");
}
