/* Config templates: "{name}" placeholders filled from chatmail.ini and the caller's values. */
#ifndef CHATMAIL_TEMPLATE_H
#define CHATMAIL_TEMPLATE_H

#include <stddef.h>

/* Templates and their results are small: a config file, a page. */
#define TEMPLATE_OUTPUT_MAX (1024 * 1024)
#define TEMPLATE_NAME_MAX 64

/* Finds the value of a placeholder name (name[0..len)). Returns it, or NULL when unknown. */
typedef const char *template_lookup_fn(const char *name, size_t len, void *context);

struct template_error {
	unsigned line;
	char name[TEMPLATE_NAME_MAX + 1]; /* the unknown placeholder, or "" */
	const char *message;
};

/* Replaces every "{name}" (name: [a-z][a-z0-9_]*) in text[0..len) with its value and writes
 * the result to out (NUL-terminated, *out_len bytes). "${...}" and "%{...}" are left alone:
 * they belong to Postfix and Dovecot. Returns 0, or -1 with error set. */
int template_render(const char *text, size_t len, template_lookup_fn *lookup, void *context,
		    char *out, size_t out_size, size_t *out_len, struct template_error *error);

#endif
