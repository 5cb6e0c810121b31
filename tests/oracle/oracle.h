/* The differential oracle of issue 11: whatever our policy accepts as encrypted, GMime 3 (an
 * independent MIME reader) and a reading of the header as Postfix's cleanup(8) does must see as
 * RFC 3156 PGP/MIME from the right sender too. Shared by tests/oracle/ and its fuzz target. */
#ifndef CHATMAIL_ORACLE_H
#define CHATMAIL_ORACLE_H

#include <stdbool.h>
#include <stddef.h>

/* policy_adapter.c, the only caller of our library: the policy's verdict on one message from
 * sender to one recipient, both ways. */
struct our_verdict {
	bool outgoing_encrypted; /* accepted as encrypted, sent by the logged-in sender */
	bool
	    incoming_encrypted; /* accepted as encrypted for a recipient with enforceE2EEincoming */
	const char *outgoing_reason;
	const char *incoming_reason;
};
struct our_verdict our_policy(const char *msg, size_t len, const char *sender);
/* The header_size_limit chatmail-render writes into Postfix's main.cf. */
size_t our_header_size_limit(void);

/* postfix_header.c: the top-level header as Postfix's cleanup(8) reads it. */
struct postfix_field {
	const char *name; /* without the white space Postfix drops before the colon */
	size_t name_length;
	const char *value; /* after the colon through its last continuation line, raw */
	size_t value_length;
	size_t size; /* as cleanup stores it (lines joined by "\n"): what
		      * header_size_limit bounds */
};
struct postfix_header {
	struct postfix_field *fields;
	size_t count, capacity;
	bool ended;		/* a line that is no field and no continuation was found */
	const char *end_line;	/* that line, its line end removed */
	size_t end_line_length; /* 0: the empty line every reader ends the header at */
	size_t end_line_number; /* from 1 */
	size_t body;		/* where the line after the end line starts */
	bool bare_cr;		/* a CR inside a header line, not before its LF */
};
/* False when out of memory. */
bool postfix_header_read(const char *msg, size_t len, struct postfix_header *header);
void postfix_header_free(struct postfix_header *header);
/* Where each of the first count parts of a multipart body starts (after its delimiter line
 * "--boundary", white space allowed after it). Returns how many were found. */
size_t postfix_part_starts(const char *body, size_t len, const char *boundary, size_t *starts,
			   size_t count);
/* header_size_limit as conf/postfix/main.cf sets it (run from the repository root): a number,
 * or our_header_size_limit() where the template has chatmail-render fill it in; Postfix's
 * default when it is not set. */
size_t postfix_header_size_limit(void);

/* gmime_reading.c: the message as GMime reads it. */
struct gmime_field {
	char *name;
	char *value; /* raw, as GMime keeps it */
};
struct gmime_fields {
	struct gmime_field *fields; /* in the order they stand */
	size_t count;
};
struct gmime_reading {
	struct gmime_fields top;      /* the message's fields and its top part's, merged */
	struct gmime_fields parts[2]; /* of the two parts of a multipart/encrypted */
	char boundary[1024];	      /* of the top multipart, "" when there is none */
	char problem[256]; /* "" when GMime sees exactly RFC 3156 PGP/MIME, else what it sees */
	char from[256];	   /* the one mailbox of the one From field, "" when there is none */
	char from_problem[128];
};
void gmime_read(const char *msg, size_t len, struct gmime_reading *reading);
void gmime_reading_free(struct gmime_reading *reading);

/* differential.c */
/* text[0..len) for a report: at most 40 bytes, unprintable bytes as \xHH. */
const char *oracle_excerpt(const char *text, size_t len, char *out, size_t cap);
#define ORACLE_WHY_MAX 2048
struct oracle_report {
	struct our_verdict verdict;
	bool checked;		  /* our policy accepted it as encrypted one way or both */
	char why[ORACLE_WHY_MAX]; /* every disagreement, "" when there is none */
};
/* "outgoing", "incoming", "outgoing and incoming" or "neither way". */
const char *oracle_directions(struct our_verdict verdict);
/* True when the input passes: our policy does not accept it as encrypted, or every other
 * reading agrees that it is encrypted and from sender. */
bool oracle_check(const char *msg, size_t len, const char *sender, size_t header_size_limit,
		  struct oracle_report *report);

#endif
