/* The OpenPGP check of SPEC §4: armor lines, streaming base64 and a packet walker that never
 * holds more than one packet header, so its memory does not grow with the message. */
#include "openpgp.h"

#include "base64.h"

#include <string.h>

/* Decoded bytes handed to the packet walker at a time. */
#define ARMOR_CHUNK 768

static void fail(struct openpgp_packets *p, enum openpgp_status status)
{
	p->state = OPENPGP_FAILED;
	p->status = status;
}

void openpgp_packets_init(struct openpgp_packets *p)
{
	memset(p, 0, sizeof *p);
	p->state = OPENPGP_WANT_TAG;
	p->status = OPENPGP_OK;
}

static void packet_done(struct openpgp_packets *p)
{
	p->packets++;
	p->state = p->tag == OPENPGP_TAG_SEIPD ? OPENPGP_AFTER_SEIPD : OPENPGP_WANT_TAG;
}

static void chunk(struct openpgp_packets *p, uint64_t length, bool partial)
{
	p->remaining = length;
	p->partial = partial;
	if (length == 0 && !partial)
		packet_done(p);
	else
		p->state = OPENPGP_IN_BODY;
}

static void packet_tag(struct openpgp_packets *p, unsigned char octet)
{
	if ((octet & 0x80) == 0) {
		fail(p, OPENPGP_NOT_PACKET);
		return;
	}
	if ((octet & 0x40) == 0) {
		fail(p, OPENPGP_OLD_FORMAT);
		return;
	}
	p->tag = octet & 0x3f;
	if (p->tag != OPENPGP_TAG_PKESK && p->tag != OPENPGP_TAG_SKESK &&
	    p->tag != OPENPGP_TAG_SEIPD) {
		fail(p, OPENPGP_UNEXPECTED_PACKET);
		return;
	}
	p->state = OPENPGP_WANT_LENGTH;
}

/* The first length octet (RFC 4880 §4.2.2): one octet below 192, two octets up to 223, a
 * partial body length up to 254, a five-octet length at 255. */
static void packet_length(struct openpgp_packets *p, unsigned char octet)
{
	if (octet < 192) {
		chunk(p, octet, false);
	} else if (octet < 224) {
		p->length = (uint32_t)(octet - 192);
		p->length_form = 2;
		p->length_octets = 1;
		p->state = OPENPGP_WANT_LENGTH_MORE;
	} else if (octet < 255) {
		/* Partial lengths are for data packets only (RFC 4880 §4.2.2.4). */
		if (p->tag != OPENPGP_TAG_SEIPD)
			fail(p, OPENPGP_PARTIAL_LENGTH);
		else
			chunk(p, (uint64_t)1 << (octet & 0x1f), true);
	} else {
		p->length = 0;
		p->length_form = 5;
		p->length_octets = 4;
		p->state = OPENPGP_WANT_LENGTH_MORE;
	}
}

static void packet_length_more(struct openpgp_packets *p, unsigned char octet)
{
	p->length = p->length << 8 | octet;
	if (--p->length_octets > 0)
		return;
	if (p->length_form == 2)
		chunk(p, (uint64_t)p->length + 192, false);
	else
		chunk(p, p->length, false);
}

void openpgp_packets_feed(struct openpgp_packets *p, const unsigned char *data, size_t len)
{
	size_t i = 0;
	while (i < len) {
		switch (p->state) {
		case OPENPGP_FAILED:
			return;
		case OPENPGP_AFTER_SEIPD:
			fail(p, OPENPGP_TRAILING_DATA);
			return;
		case OPENPGP_WANT_TAG:
			packet_tag(p, data[i++]);
			break;
		case OPENPGP_WANT_LENGTH:
			packet_length(p, data[i++]);
			break;
		case OPENPGP_WANT_LENGTH_MORE:
			packet_length_more(p, data[i++]);
			break;
		case OPENPGP_IN_BODY:
			if (p->remaining > len - i) {
				p->remaining -= len - i;
				return;
			}
			i += (size_t)p->remaining;
			p->remaining = 0;
			if (p->partial)
				p->state = OPENPGP_WANT_LENGTH;
			else
				packet_done(p);
			break;
		}
	}
}

enum openpgp_status openpgp_packets_end(const struct openpgp_packets *p)
{
	switch (p->state) {
	case OPENPGP_FAILED:
		return p->status;
	case OPENPGP_AFTER_SEIPD:
		return OPENPGP_OK;
	case OPENPGP_WANT_TAG:
		return p->packets == 0 ? OPENPGP_EMPTY : OPENPGP_NO_SEIPD;
	case OPENPGP_WANT_LENGTH:
	case OPENPGP_WANT_LENGTH_MORE:
	case OPENPGP_IN_BODY:
		break;
	}
	return OPENPGP_TRUNCATED;
}

enum openpgp_status openpgp_packets_check(const unsigned char *data, size_t len)
{
	struct openpgp_packets p;
	openpgp_packets_init(&p);
	openpgp_packets_feed(&p, data, len);
	return openpgp_packets_end(&p);
}

enum armor_state { ARMOR_BEGIN, ARMOR_HEADERS, ARMOR_BODY, ARMOR_AFTER_CRC, ARMOR_AFTER_END };

struct armor {
	enum armor_state state;
	struct base64 base64;
	struct openpgp_packets packets;
	bool header;
};

static bool line_is(const char *line, size_t len, const char *text)
{
	return len == strlen(text) && memcmp(line, text, len) == 0;
}

static bool is_base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

/* "Key: value" (RFC 4880 §6.2: a colon and a space); base64 never holds a ':'. A line like
 * "Key:value" is no header line to GnuPG or a MIME reader, so it is no data either. */
static bool is_header_line(const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && (is_base64_char(line[i]) || line[i] == '-' || line[i] == '_'))
		i++;
	return i > 0 && i + 1 < len && line[i] == ':' && line[i + 1] == ' ';
}

/* The CRC-24 line: '=' and four base64 characters. */
static bool is_crc_line(const char *line, size_t len)
{
	if (len != 5 || line[0] != '=')
		return false;
	for (size_t i = 1; i < len; i++)
		if (!is_base64_char(line[i]))
			return false;
	return true;
}

static enum openpgp_status armor_data(struct armor *a, const char *line, size_t len)
{
	unsigned char out[ARMOR_CHUNK];
	size_t pos = 0;
	while (pos < len) {
		size_t used;
		size_t n = base64_decode(&a->base64, line + pos, len - pos, &used, out, sizeof out);
		if (a->base64.error)
			return OPENPGP_BAD_BASE64;
		openpgp_packets_feed(&a->packets, out, n);
		if (a->packets.state == OPENPGP_FAILED)
			return a->packets.status;
		if (used == 0)
			return OPENPGP_BAD_BASE64;
		pos += used;
	}
	return OPENPGP_OK;
}

static enum openpgp_status armor_line(struct armor *a, const char *line, size_t len)
{
	switch (a->state) {
	case ARMOR_BEGIN:
		if (!line_is(line, len, OPENPGP_ARMOR_BEGIN))
			return OPENPGP_NO_ARMOR;
		a->state = ARMOR_HEADERS;
		return OPENPGP_OK;
	case ARMOR_HEADERS:
		if (len == 0) {
			a->state = ARMOR_BODY;
			return OPENPGP_OK;
		}
		if (is_header_line(line, len)) {
			a->header = true;
			return OPENPGP_OK;
		}
		/* RFC 4880 §6.2: the empty line ends the headers. The reference tolerates data
		 * right after BEGIN; GnuPG and a MIME reader do not read it alike (the oracle). */
		return OPENPGP_NO_ARMOR;
	case ARMOR_BODY:
		break;
	case ARMOR_AFTER_CRC:
		if (len == 0)
			return OPENPGP_OK;
		if (!line_is(line, len, OPENPGP_ARMOR_END))
			return OPENPGP_BAD_BASE64;
		a->state = ARMOR_AFTER_END;
		return OPENPGP_OK;
	case ARMOR_AFTER_END:
		return len == 0 ? OPENPGP_OK : OPENPGP_NO_ARMOR;
	}
	if (line_is(line, len, OPENPGP_ARMOR_END)) {
		a->state = ARMOR_AFTER_END;
		return OPENPGP_OK;
	}
	if (is_crc_line(line, len)) {
		a->state = ARMOR_AFTER_CRC;
		return OPENPGP_OK;
	}
	return armor_data(a, line, len);
}

enum openpgp_status openpgp_armor_check(const char *buf, size_t len, bool *armor_header)
{
	struct armor a;
	size_t pos = 0;
	memset(&a, 0, sizeof a);
	a.state = ARMOR_BEGIN;
	base64_init(&a.base64, true);
	openpgp_packets_init(&a.packets);
	*armor_header = false;
	while (pos < len) {
		const char *lf = memchr(buf + pos, '\n', len - pos);
		size_t next = lf != NULL ? (size_t)(lf - buf) + 1 : len;
		size_t end = lf != NULL ? (size_t)(lf - buf) : len;
		/* Trailing whitespace and the CR of CRLF are not part of a line. */
		while (end > pos &&
		       (buf[end - 1] == '\r' || buf[end - 1] == ' ' || buf[end - 1] == '\t'))
			end--;
		/* A CR inside a line ends it for some readers and not for others. */
		if (memchr(buf + pos, '\r', end - pos) != NULL)
			return OPENPGP_NO_ARMOR;
		enum openpgp_status status = armor_line(&a, buf + pos, end - pos);
		*armor_header = a.header;
		if (status != OPENPGP_OK)
			return status;
		pos = next;
	}
	if (a.state != ARMOR_AFTER_END)
		return OPENPGP_NO_ARMOR;
	if (!base64_end(&a.base64))
		return OPENPGP_BAD_BASE64;
	return openpgp_packets_end(&a.packets);
}

const char *openpgp_status_text(enum openpgp_status status)
{
	switch (status) {
	case OPENPGP_OK:
		return "encrypted";
	case OPENPGP_NO_ARMOR:
		return "no PGP MESSAGE armor";
	case OPENPGP_BAD_BASE64:
		return "broken base64 in the armor";
	case OPENPGP_EMPTY:
		return "no OpenPGP packets";
	case OPENPGP_NOT_PACKET:
		return "not an OpenPGP packet";
	case OPENPGP_OLD_FORMAT:
		return "old-format OpenPGP packet";
	case OPENPGP_UNEXPECTED_PACKET:
		return "OpenPGP packet other than PKESK, SKESK or SEIPD";
	case OPENPGP_PARTIAL_LENGTH:
		return "partial body length on a session key packet";
	case OPENPGP_TRUNCATED:
		return "truncated OpenPGP packet";
	case OPENPGP_NO_SEIPD:
		return "no SEIPD packet after the session keys";
	case OPENPGP_TRAILING_DATA:
		return "data after the SEIPD packet";
	}
	return "unknown OpenPGP status";
}
