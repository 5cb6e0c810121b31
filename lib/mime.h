/* RFC 2045/2046 over a header block that header.h has read: Content-Type with its parameters,
 * Content-Transfer-Encoding, the parts of a multipart body and body decoding. Zero-copy, no
 * allocation. Anything a MIME reader could read another way is an entity's problem: the
 * policy then calls the entity unreadable, never encrypted (fail closed). */
#ifndef CHATMAIL_MIME_H
#define CHATMAIL_MIME_H

#include "header.h"
#include "span.h"

#include <stdbool.h>
#include <stddef.h>

/* Parts one iterator looks at before giving up. */
#define MIME_PARTS_MAX 1024
/* Parameters one Content-Type may carry; more is a problem (repeats are found by name). */
#define MIME_PARAMS_MAX 16
/* RFC 2046 §5.1.1: a boundary has 1 to 70 characters. */
#define MIME_BOUNDARY_MAX 70

enum mime_encoding {
	MIME_ENCODING_IDENTITY, /* absent, 7bit, 8bit or binary: the body as it stands */
	MIME_ENCODING_BASE64,
	MIME_ENCODING_QUOTED_PRINTABLE,
	MIME_ENCODING_UNKNOWN, /* anything else: not a body anyone reads the same way */
};

struct mime_content_type {
	struct span type;     /* "text" when Content-Type is absent */
	struct span subtype;  /* "plain" then */
	struct span boundary; /* len 0 when there is none */
};

/* Parses a Content-Type value strictly: token "/" token, then "; name=value" parameters with
 * a token or a quoted string without backslashes, white space and folding allowed around.
 * Returns NULL, or why the value is not canonical: a comment, a repeated parameter (name and
 * name* alike), an RFC 2231 boundary, a boundary outside RFC 2046's characters or length. */
const char *mime_content_type(struct span value, struct mime_content_type *ct);

/* One message or body part, split and with its Content-Type resolved. */
struct mime_entity {
	struct span header;   /* the header lines, without the empty line that ends them */
	struct span body;     /* everything after that empty line */
	struct mime_content_type content;
	enum mime_encoding encoding;
	const char *problem; /* NULL when header and MIME fields read one way only, else why */
};

/* Splits buf, checks its header block (header_problem) and resolves Content-Type and
 * Content-Transfer-Encoding. */
void mime_entity_parse(const char *buf, size_t len, struct mime_entity *entity);
/* Whether the entity is type/subtype (case-insensitive); subtype NULL matches any. */
bool mime_entity_is(const struct mime_entity *entity, const char *type, const char *subtype);

/* Iterates over the parts of one multipart body by its own boundary: a delimiter is a line
 * "--boundary", the close delimiter "--boundary--", each optionally followed by spaces/tabs.
 * A part runs up to the line end before the next delimiter. */
struct mime_parts {
	struct span body;
	struct span boundary;
	size_t pos;	/* where the next part starts */
	unsigned count; /* parts returned so far */
	bool started;	/* the first delimiter was found */
	bool done;	/* no more parts */
	bool closed;	/* the close delimiter was seen */
	bool overflow;	/* MIME_PARTS_MAX parts were returned and more followed */
};
void mime_parts_init(struct mime_parts *parts, struct span body, struct span boundary);
/* Returns true with the next part (headers and body), false at the end. */
bool mime_parts_next(struct mime_parts *parts, struct span *part);

/* Decodes the entity's body by its transfer encoding into out[cap]. False when the result does
 * not fit, the encoding is unknown or the base64 is broken. Quoted-printable is decoded as
 * readers do (a stray '=' stays). The result is never longer than the body. */
bool mime_body_decode(const struct mime_entity *entity, char *out, size_t cap, size_t *len);

#endif
