/* libFuzzer: address checks and the checkpassword request split never read out of bounds,
 * and an accepted address is a safe single path component. */
#include "address.h"
#include "checkpassword.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config config;
	static int ready;
	if (!ready) {
		struct config_error error;
		const char *ini = "[params]\nmail_domain = example.org\nusername_min_length = 1\n"
				  "username_max_length = 64\n";
		if (config_parse(&config, ini, strlen(ini), &error, NULL, NULL) != 0)
			abort();
		ready = 1;
	}
	const char *text = (const char *)data;
	if (address_check(&config, text, size) == ADDRESS_OK &&
	    (memchr(text, '/', size) != NULL || memmem(text, size, "..", 2) != NULL ||
	     memchr(text, '\0', size) != NULL || text[0] == '.'))
		abort();
	struct checkpassword_request request;
	if (checkpassword_parse(text, size, &request) == 0 &&
	    (request.password <= request.user || request.password > text + size))
		abort();
	return 0;
}
