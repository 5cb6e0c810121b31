/* The OpenPGP check of SPEC §4: an ASCII-armored PGP MESSAGE whose packets are zero or more
 * session keys (PKESK, SKESK) and then exactly one SEIPD that ends the data. Nothing is
 * decrypted; this only tells an encrypted message from anything dressed up as one. */
#ifndef CHATMAIL_OPENPGP_H
#define CHATMAIL_OPENPGP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 4880 §4.3 packet tags that may appear. */
#define OPENPGP_TAG_PKESK 1
#define OPENPGP_TAG_SKESK 3
#define OPENPGP_TAG_SEIPD 18

#define OPENPGP_ARMOR_BEGIN "-----BEGIN PGP MESSAGE-----"
#define OPENPGP_ARMOR_END "-----END PGP MESSAGE-----"

enum openpgp_status {
	OPENPGP_OK,		   /* session key packets, then one SEIPD ending the data */
	OPENPGP_NO_ARMOR,	   /* not a BEGIN/END PGP MESSAGE block with nothing else around */
	OPENPGP_BAD_BASE64,	   /* a character outside base64, or broken padding */
	OPENPGP_EMPTY,		   /* no packets at all */
	OPENPGP_NOT_PACKET,	   /* a byte that starts no packet header (bit 7 clear) */
	OPENPGP_OLD_FORMAT,	   /* an old-format packet header (RFC 4880 §4.2.1) */
	OPENPGP_UNEXPECTED_PACKET, /* a packet other than PKESK/SKESK/SEIPD */
	OPENPGP_PARTIAL_LENGTH,	   /* a partial body length on a session key packet */
	OPENPGP_TRUNCATED,	   /* the data ends inside a packet */
	OPENPGP_NO_SEIPD,	   /* session key packets but no SEIPD after them */
	OPENPGP_TRAILING_DATA,	   /* anything after the SEIPD, e.g. a second one */
};

/* A streaming packet walker (RFC 4880 §4.2.2, new format only): feed the decoded bytes in
 * pieces of any size; it keeps no more than one packet header. */
struct openpgp_packets {
	enum {
		OPENPGP_WANT_TAG,
		OPENPGP_WANT_LENGTH,
		OPENPGP_WANT_LENGTH_MORE,
		OPENPGP_IN_BODY,
		OPENPGP_AFTER_SEIPD,
		OPENPGP_FAILED,
	} state;
	unsigned tag;
	unsigned length_form;	/* 2 or 5 while a two- or five-octet length is read */
	unsigned length_octets; /* octets of that length still to come */
	uint32_t length;	/* the length being assembled */
	uint64_t remaining;	/* body octets of the current chunk still to skip */
	bool partial;		/* the current chunk has a partial length: another length follows */
	size_t packets;		/* complete packets so far */
	enum openpgp_status status;
};

void openpgp_packets_init(struct openpgp_packets *packets);
void openpgp_packets_feed(struct openpgp_packets *packets, const unsigned char *data, size_t len);
/* The verdict once all data was fed. */
enum openpgp_status openpgp_packets_end(const struct openpgp_packets *packets);
/* All three at once over data[len]. */
enum openpgp_status openpgp_packets_check(const unsigned char *data, size_t len);

/* Checks an armored message in buf[len] (CRLF or LF): the BEGIN line first, optional armor
 * header lines ("Key: value") and an empty line, base64 (whitespace ignored), an optional
 * CRC line "=XXXX" (not verified), the END line, then nothing but empty lines. Sets
 * *armor_header when a header line was present: outgoing mail must not have one. */
enum openpgp_status openpgp_armor_check(const char *buf, size_t len, bool *armor_header);

/* A short English text for logs and tests. */
const char *openpgp_status_text(enum openpgp_status status);

#endif
