/* libFuzzer: chatmail.ini parsing never crashes, and what it accepts is well-formed. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config config;
	struct config_error error;
	if (config_parse(&config, (const char *)data, size, &error, NULL, NULL) == 0) {
		if (config.mail_domain[0] == '\0' || config.passdb_path[0] != '/' ||
		    config.username_min_length > config.username_max_length)
			abort();
	} else if (strlen(error.message) == 0) {
		abort();
	}
	return 0;
}
