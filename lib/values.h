/* A profile's render values (layout/local.values, layout/production.values): "name = value"
 * lines whose values are templates over what is known so far, and "[if name]" /
 * "[if name = text]" ... "[end]" blocks. */
#ifndef CHATMAIL_VALUES_H
#define CHATMAIL_VALUES_H

#include "template.h"

#include <stddef.h>

#define VALUES_MAX 128
#define VALUES_TEXT_MAX (32 * 1024) /* all names and values, NUL-terminated */
#define VALUES_LINE_MAX 1024

struct values {
	size_t count;
	size_t name[VALUES_MAX], value[VALUES_MAX]; /* offsets into text */
	size_t used;
	char text[VALUES_TEXT_MAX];
};

struct values_error {
	unsigned line;
	const char *message;
	char name[TEMPLATE_NAME_MAX + 1]; /* the name it is about, or "" */
};

/* The value of name[0..len), or NULL. */
const char *values_get(const struct values *values, const char *name, size_t len);

/* Reads text[0..len) into values (which the caller zeroed), line by line: a definition's value
 * is rendered at once with lookup, so it may use names defined above it, and replaces an
 * earlier definition of the name; a block's condition asks lookup too (an unknown name is an
 * error; "[if name]" holds when the value is not empty). Blocks do not nest. The lines of a
 * block that does not hold are checked as well, and then left out.
 * Returns 0, or -1 with error set. */
int values_parse(struct values *values, const char *text, size_t len, template_lookup_fn *lookup,
		 void *context, struct values_error *error);

#endif
