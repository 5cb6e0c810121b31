/* A zero-copy RFC 5322/2045/2046 scanner: header lookup, Content-Type, parts by boundary and
 * body decoding, with every result a span into the caller's buffer. No allocation. */
#ifndef CHATMAIL_MIME_H
#define CHATMAIL_MIME_H

#include <stdbool.h>
#include <stddef.h>

/* mime_walk goes no deeper than this; a MIME bomb stops here instead of recursing. */
#define MIME_DEPTH_MAX 16
/* Parts one iterator (and one walk) looks at before giving up. */
#define MIME_PARTS_MAX 1024

struct mime_span {
	const char *ptr;
	size_t len;
};

enum mime_encoding {
	MIME_ENCODING_IDENTITY, /* absent, 7bit, 8bit, binary, or unknown: the body as it stands */
	MIME_ENCODING_BASE64,
	MIME_ENCODING_QUOTED_PRINTABLE,
};

/* One message or body part, split and with its Content-Type resolved. */
struct mime_entity {
	struct mime_span header;   /* the header lines, without the empty line that ends them */
	struct mime_span body;	   /* everything after that empty line */
	struct mime_span type;	   /* "text" when Content-Type is absent or invalid */
	struct mime_span subtype;  /* "plain" then */
	struct mime_span boundary; /* len 0 when there is none, or none we can use */
	enum mime_encoding encoding;
};

/* Splits buf at the first empty line (CRLF or LF). Without one, all of it is header. */
void mime_split(const char *buf, size_t len, struct mime_span *header, struct mime_span *body);

/* Finds the next field called name (case-insensitive) in a header block, starting at *pos
 * (0 for the first); value is its raw text after the colon, folding line ends included. */
bool mime_header_next(struct mime_span header, const char *name, size_t *pos,
		      struct mime_span *value);
bool mime_header_find(struct mime_span header, const char *name, struct mime_span *value);
/* How many fields called name there are (stops counting at 2: "one" is what callers ask). */
unsigned mime_header_count(struct mime_span header, const char *name);

/* Copies value unfolded (line ends removed), trimmed and NUL-terminated into out[cap].
 * False when it does not fit. */
bool mime_unfold(struct mime_span value, char *out, size_t cap, size_t *len);
/* Whether the unfolded, trimmed value is text exactly, or ignoring ASCII case. */
bool mime_value_is(struct mime_span value, const char *text);
bool mime_value_is_nocase(struct mime_span value, const char *text);

struct mime_span mime_trim(struct mime_span span);
bool mime_span_is_nocase(struct mime_span span, const char *text);

/* Parses a Content-Type value: type "/" subtype, comments and whitespace allowed around. */
bool mime_content_type(struct mime_span value, struct mime_span *type, struct mime_span *subtype);
/* Finds a parameter of a Content-Type (or similar) value: name=token, name="quoted" (without
 * backslash escapes), or the RFC 2231 form name*=charset'lang'value without %-escapes.
 * Continuations (name*0, name*1...) are not supported: the parameter counts as absent. */
bool mime_param(struct mime_span value, const char *name, struct mime_span *param);

/* Splits buf and resolves Content-Type, its boundary and Content-Transfer-Encoding. */
void mime_entity_parse(const char *buf, size_t len, struct mime_entity *entity);
/* Whether the entity is type/subtype (case-insensitive); subtype NULL matches any. */
bool mime_entity_is(const struct mime_entity *entity, const char *type, const char *subtype);

/* Iterates over the parts of one multipart body by its own boundary: a delimiter is a line
 * "--boundary", the close delimiter "--boundary--", each optionally followed by spaces/tabs.
 * A part runs up to the line end before the next delimiter. */
struct mime_parts {
	struct mime_span body;
	struct mime_span boundary;
	size_t pos;	/* where the next part starts */
	unsigned count; /* parts returned so far */
	bool started;	/* the first delimiter was found */
	bool done;	/* no more parts */
	bool closed;	/* the close delimiter was seen */
	bool overflow;	/* MIME_PARTS_MAX parts were returned and more followed */
};
void mime_parts_init(struct mime_parts *parts, struct mime_span body, struct mime_span boundary);
/* Returns true with the next part (headers and body), false at the end. */
bool mime_parts_next(struct mime_parts *parts, struct mime_span *part);

/* Decodes the entity's body by its transfer encoding into out[cap]. False when the result does
 * not fit or the base64 is broken. Quoted-printable is decoded leniently (a stray '=' stays). */
bool mime_body_decode(const struct mime_entity *entity, char *out, size_t cap, size_t *len);

/* The one address of an address header value: "Name <addr>", "<addr>" or a bare "addr",
 * with comments allowed around. False for none, several, a group, or an address that is not
 * one contiguous run of text (e.g. folded or with an inner comment). */
bool mime_single_address(struct mime_span value, struct mime_span *address);

/* A bounded walk over the MIME tree, without recursion. fn sees every entity with its depth
 * (0 for the message); returning false stops the walk. */
enum mime_walk_status {
	MIME_WALK_DONE,
	MIME_WALK_STOPPED,  /* fn returned false */
	MIME_WALK_TOO_DEEP, /* multiparts nest deeper than MIME_DEPTH_MAX */
	MIME_WALK_TOO_MANY, /* more than MIME_PARTS_MAX entities */
};
typedef bool mime_walk_fn(const struct mime_entity *entity, unsigned depth, void *context);
enum mime_walk_status mime_walk(const char *buf, size_t len, mime_walk_fn *fn, void *context);

#endif
