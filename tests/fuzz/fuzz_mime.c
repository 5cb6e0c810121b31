/* libFuzzer target for the header and MIME layers: the message and every part the way the
 * policy reads them, checking that every span stays inside the input and that a canonical
 * header never reads two ways (one From: field by any spelling, one Content-Type). */
#include "header.h"
#include "mime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct input {
	const char *start;
	size_t len;
};

static void inside(const struct input *in, struct span s)
{
	uintptr_t start = (uintptr_t)in->start, at = (uintptr_t)s.ptr;
	if (s.len == 0)
		return;
	if (at < start || at - start > in->len || s.len > in->len - (at - start))
		abort();
}

static void visit(const struct input *in, const struct mime_entity *e)
{
	struct span value, address;
	char text[256];
	size_t len;
	inside(in, e->header);
	inside(in, e->body);
	inside(in, e->content.boundary);
	if (e->problem == NULL && (header_count(e->header, "From") > 1 ||
				   header_count(e->header, "Content-Type") > 1))
		abort();
	if (header_find(e->header, "From", &value)) {
		inside(in, value);
		if (header_single_address(value, &address))
			inside(in, address);
	}
	if (mime_body_decode(e, text, sizeof text, &len) && len > sizeof text)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {(const char *)data, size};
	struct mime_entity top, part;
	struct mime_parts parts;
	struct span raw;
	mime_entity_parse(in.start, in.len, &top);
	visit(&in, &top);
	if (top.content.boundary.len == 0)
		return 0;
	mime_parts_init(&parts, top.body, top.content.boundary);
	while (mime_parts_next(&parts, &raw)) {
		inside(&in, raw);
		mime_entity_parse(raw.ptr, raw.len, &part);
		visit(&in, &part);
	}
	return 0;
}
