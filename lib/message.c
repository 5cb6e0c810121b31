/* The one scan of a message: header check, From, the PGP/MIME structure and the armored
 * OpenPGP data (transfer-decoded first, as the reference does), the Secure-Join shape. */
#include "message.h"

#include "openpgp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Decoded text/plain or pgp-encrypted bodies we compare hold one short line; a body that does
 * not fit here cannot match. */
#define MESSAGE_BODY_TEXT_MAX 1024

/* Whether the part's body, decoded and trimmed, is text (case-insensitive when nocase). */
static bool body_is(const struct mime_entity *part, const char *text, bool nocase)
{
	char buf[MESSAGE_BODY_TEXT_MAX];
	size_t len;
	if (!mime_body_decode(part, buf, sizeof buf, &len))
		return false;
	struct span body = span_trim(span_of(buf, len));
	if (nocase)
		return span_is_nocase(body, text);
	return body.len == strlen(text) && memcmp(body.ptr, text, body.len) == 0;
}

/* A multipart we can read one way: a usable boundary and no transfer encoding (RFC 2045
 * §6.4 allows none on a multipart; a reader could decode it anyway). */
static bool is_multipart(const struct mime_entity *e)
{
	return e->problem == NULL && mime_entity_is(e, "multipart", NULL) &&
	       e->content.boundary.len > 0 && e->encoding == MIME_ENCODING_IDENTITY;
}

/* The armored OpenPGP message of the second part, checked after transfer decoding. Returns
 * NULL when it is right, else why not; *oom when memory ran out. */
static const char *armor_problem(const struct mime_entity *part, bool *armor_header, bool *oom)
{
	enum openpgp_status status;
	if (part->encoding == MIME_ENCODING_IDENTITY) {
		status = openpgp_armor_check(part->body.ptr, part->body.len, armor_header);
	} else {
		/* Decoding never grows a body, and the body is within max_message_size. */
		char *decoded = malloc(part->body.len + 1);
		size_t len;
		if (decoded == NULL) {
			*oom = true;
			return "out of memory";
		}
		if (!mime_body_decode(part, decoded, part->body.len + 1, &len)) {
			free(decoded);
			return "armored part that does not transfer-decode";
		}
		status = openpgp_armor_check(decoded, len, armor_header);
		free(decoded);
	}
	return status == OPENPGP_OK ? NULL : openpgp_status_text(status);
}

/* RFC 3156 §4 part by part: "Version: 1", then the armored message. */
static const char *part_problem(const struct mime_entity *part, unsigned index, struct message *m,
				bool *oom)
{
	if (part->problem != NULL)
		return part->problem;
	if (mime_entity_is(part, "multipart", NULL))
		return "multipart/encrypted holds a multipart";
	if (index == 0)
		return mime_entity_is(part, "application", "pgp-encrypted") &&
			       body_is(part, "Version: 1", false)
			   ? NULL
			   : "first part is not application/pgp-encrypted Version: 1";
	if (!mime_entity_is(part, "application", "octet-stream"))
		return "second part is not application/octet-stream";
	return armor_problem(part, &m->armor_header, oom);
}

static const char *encryption_problem(struct message *m, bool *oom)
{
	struct mime_entity part;
	struct mime_parts parts;
	struct span raw;
	unsigned count = 0;
	const char *problem;
	if (m->top.problem != NULL)
		return m->top.problem;
	if (!mime_entity_is(&m->top, "multipart", "encrypted"))
		return "not multipart/encrypted";
	if (!is_multipart(&m->top))
		return "multipart/encrypted without a boundary or with a transfer encoding";
	mime_parts_init(&parts, m->top.body, m->top.content.boundary);
	while (mime_parts_next(&parts, &raw)) {
		if (count == 2)
			return "multipart/encrypted with more than two parts";
		mime_entity_parse(raw.ptr, raw.len, &part);
		if ((problem = part_problem(&part, count, m, oom)) != NULL)
			return problem;
		count++;
	}
	return count == 2 ? NULL : "multipart/encrypted with fewer than two parts";
}

static bool is_securejoin(const struct mime_entity *top)
{
	struct mime_entity part;
	struct mime_parts parts;
	struct span value, raw;
	if (top->problem != NULL || !header_find(top->header, "Secure-Join", &value) ||
	    !(header_value_is(value, "vc-request") || header_value_is(value, "vg-request")))
		return false;
	if (!is_multipart(top))
		return false;
	mime_parts_init(&parts, top->body, top->content.boundary);
	if (!mime_parts_next(&parts, &raw))
		return false;
	mime_entity_parse(raw.ptr, raw.len, &part);
	if (mime_parts_next(&parts, &raw) || part.problem != NULL ||
	    !mime_entity_is(&part, "text", "plain"))
		return false;
	return body_is(&part, "secure-join: vc-request", true) ||
	       body_is(&part, "secure-join: vg-request", true);
}

int message_parse(const char *msg, size_t len, struct message *m)
{
	struct span value;
	bool oom = false;
	memset(m, 0, sizeof *m);
	mime_entity_parse(msg, len, &m->top);
	m->has_from = m->top.problem == NULL && header_count(m->top.header, "From") == 1 &&
		      header_find(m->top.header, "From", &value) &&
		      header_single_address(value, &m->from);
	m->encryption_problem = encryption_problem(m, &oom);
	if (oom) {
		errno = ENOMEM;
		return -1;
	}
	m->securejoin = m->encryption_problem != NULL && is_securejoin(&m->top);
	return 0;
}
