/* libFuzzer: a profile's values file parses or fails with a message and a line, and every value
 * it keeps is a NUL-terminated string inside its own text. */
#include "values.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct values values;

static const char *lookup(const char *name, size_t len, void *context)
{
	(void)context;
	if (len > 0 && name[0] == 'a')
		return "value-value-value-value-value-value";
	if (len > 0 && name[0] == 'e')
		return "";
	return values_get(&values, name, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct values_error error;
	memset(&values, 0, sizeof values);
	if (values_parse(&values, (const char *)data, size, lookup, NULL, &error) != 0) {
		if (error.message == NULL || error.line == 0)
			abort();
		return 0;
	}
	if (values.count > VALUES_MAX || values.used > sizeof values.text)
		abort();
	for (size_t i = 0; i < values.count; i++)
		if (values.value[i] >= values.used || memchr(values.text + values.value[i], '\0',
							     values.used - values.value[i]) == NULL)
			abort();
	return 0;
}
