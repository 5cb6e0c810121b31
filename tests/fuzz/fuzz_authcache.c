/* libFuzzer: Dovecot's answer to CACHE-FLUSH is read within its bounds, and only a line
 * "OK\t1\t<digits>" counts as done. */
#include "authcache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned long count;
	const char *text = (const char *)data;
	if (authcache_parse_reply(text, size, &count) == 1 && memmem(text, size, "OK\t1\t", 5) == NULL)
		abort();
	return 0;
}
