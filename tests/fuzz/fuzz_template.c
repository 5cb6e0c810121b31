/* libFuzzer: template rendering stays within its output bound, and a text without
 * placeholders comes out unchanged. */
#include "template.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *lookup(const char *name, size_t len, void *context)
{
	(void)context;
	/* every name starting with 'a' is known; its value is long, to stress the bound */
	return len > 0 && name[0] == 'a' ? "value-value-value-value-value-value" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[4096];
	size_t out_len = 0;
	struct template_error error;
	const char *text = (const char *)data;
	if (template_render(text, size, lookup, NULL, out, sizeof out, &out_len, &error) == 0) {
		if (out_len >= sizeof out || out[out_len] != '\0')
			abort();
		if (memchr(text, '{', size) == NULL && (out_len != size || memcmp(out, text, size)))
			abort();
	} else if (error.message == NULL) {
		abort();
	}
	return 0;
}
