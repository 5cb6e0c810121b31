/* RFC 5322 header blocks read as Postfix cleanup reads them: fields, continuation lines and
 * single addresses, with every result a span into the caller's buffer. No allocation.
 * A header block that header_problem() finds fault with is read no further by the policy:
 * whatever the lookups below return for it is not what the daemons behind us would see. */
#ifndef CHATMAIL_HEADER_H
#define CHATMAIL_HEADER_H

#include "span.h"

#include <stdbool.h>
#include <stddef.h>

/* The longest field (name, value and continuation lines) Postfix keeps whole: its
 * header_size_limit, which chatmail-render writes into main.cf from this one definition.
 * A longer field is truncated by Postfix, so the filter refuses it. */
#define HEADER_FIELD_MAX 102400

/* Splits buf at the first empty line (CRLF or LF). Without one, all of it is header. */
void header_split(const char *buf, size_t len, struct span *header, struct span *body);

/* NULL when every line of the header block is a field ("name" of RFC 5322 ftext, optional
 * white space, ':') or a continuation of one, no field is longer than HEADER_FIELD_MAX, no CR
 * stands outside a line end, and From, Sender, Content-Type, Content-Transfer-Encoding and
 * MIME-Version appear at most once; else a short static reason. */
const char *header_problem(struct span header);

/* Finds the next field called name (ASCII case-insensitive; "Name :" is the field Name, as
 * Postfix reads it) from *pos (0 for the first); value is its raw text after the colon,
 * continuation lines included. */
bool header_next(struct span header, const char *name, size_t *pos, struct span *value);
bool header_find(struct span header, const char *name, struct span *value);
/* How many fields called name there are (stops counting at 2: "one" is what callers ask). */
unsigned header_count(struct span header, const char *name);

/* Whether the value, trimmed and with line ends dropped, is text exactly, or ignoring case. */
bool header_value_is(struct span value, const char *text);
bool header_value_is_nocase(struct span value, const char *text);

/* Skips white space, line ends and (nested) RFC 5322 comments from s[i]. */
size_t header_skip_cfws(const char *s, size_t len, size_t i);

/* The one address of an address field value: "Name <addr>", "<addr>" or a bare "addr", with
 * comments allowed around. False for none, several, a group, or an address that is not one
 * contiguous run of text (e.g. folded or with an inner comment). */
bool header_single_address(struct span value, struct span *address);

#endif
