/* Placeholder substitution: one pass, bounded output, unknown names are errors. */
#include "template.h"

#include <stdbool.h>
#include <string.h>

static bool name_start(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '_';
}

/* Length of the placeholder name at text[i] (just after '{'), or 0 when it is none. */
static size_t placeholder(const char *text, size_t len, size_t i)
{
	size_t j = i;
	if (j >= len || !name_start(text[j]))
		return 0;
	while (j < len && name_char(text[j]) && j - i <= TEMPLATE_NAME_MAX)
		j++;
	return j < len && text[j] == '}' && j - i <= TEMPLATE_NAME_MAX ? j - i : 0;
}

static int append(char *out, size_t out_size, size_t *used, const char *data, size_t len)
{
	if (len >= out_size - *used)
		return -1;
	memcpy(out + *used, data, len);
	*used += len;
	return 0;
}

int template_render(const char *text, size_t len, template_lookup_fn *lookup, void *context,
		    char *out, size_t out_size, size_t *out_len, struct template_error *error)
{
	size_t used = 0;
	unsigned line = 1;

	memset(error, 0, sizeof *error);
	if (out_size == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		size_t name_len;
		bool foreign = i > 0 && (text[i - 1] == '$' || text[i - 1] == '%');
		if (text[i] == '\n')
			line++;
		if (text[i] != '{' || foreign || (name_len = placeholder(text, len, i + 1)) == 0) {
			if (append(out, out_size, &used, text + i, 1) != 0)
				goto too_long;
			continue;
		}
		const char *value = lookup(text + i + 1, name_len, context);
		if (value == NULL) {
			error->line = line;
			memcpy(error->name, text + i + 1, name_len);
			error->message = "unknown placeholder";
			return -1;
		}
		if (append(out, out_size, &used, value, strlen(value)) != 0)
			goto too_long;
		i += name_len + 1;
	}
	out[used] = '\0';
	*out_len = used;
	return 0;
too_long:
	error->line = line;
	error->message = "result is too long";
	return -1;
}
