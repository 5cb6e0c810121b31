/* libFuzzer: a name the store accepts as a home or a canonical address is one safe path
 * component (of our domain, for a home); folder and mail names are what Dovecot makes. */
#include "mailstore.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One path component below mailboxes_dir that is no dot file and no parent. */
static int safe_component(const char *text, size_t size)
{
	if (size == 0 || size > MAILSTORE_ADDRESS_MAX || text[0] == '.' ||
	    memchr(text, '/', size) != NULL || memchr(text, '\0', size) != NULL)
		return 0;
	for (size_t i = 0; i < size; i++)
		if ((unsigned char)text[i] < 0x21 || (unsigned char)text[i] > 0x7e ||
		    (text[i] >= 'A' && text[i] <= 'Z'))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config config;
	static int ready;
	const char *text = (const char *)data;
	if (!ready) {
		struct config_error error;
		const char *ini = "[params]\nmail_domain = example.org\n";
		if (config_parse(&config, ini, strlen(ini), &error, NULL, NULL) != 0)
			abort();
		ready = 1;
	}
	if (mailstore_canonical_name(text, size) &&
	    (!safe_component(text, size) || memchr(text, '@', size) == NULL))
		abort();
	if (mailstore_home_name(&config, text, size) &&
	    (!mailstore_canonical_name(text, size) || size < sizeof "@example.org" ||
	     memcmp(text + size - 12, "@example.org", 12) != 0 ||
	     memchr(text, '@', size) != text + size - 12))
		abort();
	if (mailstore_folder_name(text, size) &&
	    (size < 2 || text[0] != '.' || memchr(text, '/', size) != NULL ||
	     (size == 2 && text[1] == '.')))
		abort();
	if (mailstore_mail_name(text, size) &&
	    (size == 0 || text[0] == '.' || memchr(text, '/', size) != NULL))
		abort();
	return 0;
}
