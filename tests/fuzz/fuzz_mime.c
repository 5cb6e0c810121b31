/* libFuzzer target for the MIME scanner: a bounded walk that looks at every entity the way
 * the policy does, checking that every span stays inside the input. */
#include "mime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct input {
	const char *start;
	size_t len;
};

static void inside(const struct input *in, struct mime_span s)
{
	uintptr_t start = (uintptr_t)in->start, at = (uintptr_t)s.ptr;
	if (s.len == 0)
		return;
	if (at < start || at - start > in->len || s.len > in->len - (at - start))
		abort();
}

static bool visit(const struct mime_entity *e, unsigned depth, void *context)
{
	const struct input *in = context;
	struct mime_span value, address, param;
	char text[256];
	size_t len;
	if (depth > MIME_DEPTH_MAX)
		abort();
	inside(in, e->header);
	inside(in, e->body);
	inside(in, e->boundary);
	if (mime_header_find(e->header, "From", &value)) {
		inside(in, value);
		if (mime_single_address(value, &address))
			inside(in, address);
		mime_unfold(value, text, sizeof text, &len);
	}
	if (mime_header_find(e->header, "Content-Type", &value) &&
	    mime_param(value, "name", &param))
		inside(in, param);
	if (mime_body_decode(e, text, sizeof text, &len) && len > sizeof text)
		abort();
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {(const char *)data, size};
	mime_walk(in.start, in.len, visit, &in);
	return 0;
}
