/* A profile's render values: definitions rendered in order, conditional blocks, errors by line. */
#include "values.h"

#include <stdbool.h>
#include <string.h>

#define VALUE_RENDERED_MAX 4096

const char *values_get(const struct values *values, const char *name, size_t len)
{
	for (size_t i = 0; i < values->count; i++) {
		const char *known = values->text + values->name[i];
		if (strncmp(known, name, len) == 0 && known[len] == '\0')
			return values->text + values->value[i];
	}
	return NULL;
}

static int fail(struct values_error *error, const char *message, const char *name, size_t len)
{
	error->message = message;
	if (len > TEMPLATE_NAME_MAX)
		len = TEMPLATE_NAME_MAX;
	memcpy(error->name, name, len);
	error->name[len] = '\0';
	return -1;
}

static int store(struct values *values, const char *text, size_t len, size_t *offset)
{
	if (len >= sizeof values->text - values->used)
		return -1;
	memcpy(values->text + values->used, text, len);
	values->text[values->used + len] = '\0';
	*offset = values->used;
	values->used += len + 1;
	return 0;
}

/* A later definition of a name replaces the earlier one. */
static int values_set(struct values *values, const char *name, size_t name_len, const char *value,
		      size_t value_len)
{
	size_t i = 0;
	while (i < values->count &&
	       !(strncmp(values->text + values->name[i], name, name_len) == 0 &&
		 values->text[values->name[i] + name_len] == '\0'))
		i++;
	if (i == values->count) {
		if (values->count == VALUES_MAX ||
		    store(values, name, name_len, &values->name[i]) != 0)
			return -1;
		values->count++;
	}
	return store(values, value, value_len, &values->value[i]);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static size_t name_length(const char *s, size_t len)
{
	size_t n = 0;
	if (len == 0 || s[0] < 'a' || s[0] > 'z')
		return 0;
	while (n < len &&
	       ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
		n++;
	return n <= TEMPLATE_NAME_MAX ? n : 0;
}

/* Trims white space on both sides of s[0..*len). */
static const char *trim(const char *s, size_t *len)
{
	while (*len > 0 && is_space(s[0])) {
		s++;
		(*len)--;
	}
	while (*len > 0 && is_space(s[*len - 1]))
		(*len)--;
	return s;
}

/* "[if name]" or "[if name = text]" (the brackets already taken off): whether it holds. */
static int condition(const char *s, size_t len, template_lookup_fn *lookup, void *context,
		     bool *holds, struct values_error *error)
{
	if (len < 3 || memcmp(s, "if", 2) != 0 || !is_space(s[2]))
		return fail(error, "expected [if name], [if name = text] or [end]", "", 0);
	s += 3;
	len -= 3;
	s = trim(s, &len);
	size_t name_len = name_length(s, len);
	if (name_len == 0)
		return fail(error, "expected a name after [if", "", 0);
	const char *value = lookup(s, name_len, context);
	if (value == NULL)
		return fail(error, "unknown name", s, name_len);
	size_t rest_len = len - name_len;
	const char *rest = trim(s + name_len, &rest_len);
	if (rest_len == 0) {
		*holds = value[0] != '\0';
		return 0;
	}
	if (rest[0] != '=')
		return fail(error, "expected '=' or ']' after the name", s, name_len);
	rest_len--;
	rest = trim(rest + 1, &rest_len);
	*holds = strlen(value) == rest_len && memcmp(value, rest, rest_len) == 0;
	return 0;
}

/* A block that does not hold still has its lines checked (kept is false), so a mistake in a
 * branch this machine does not take shows on every machine. */
static int definition(struct values *values, const char *s, size_t len, bool kept,
		      template_lookup_fn *lookup, void *context, struct values_error *error)
{
	static char rendered[VALUE_RENDERED_MAX];
	size_t name_len = name_length(s, len), rendered_len;
	size_t value_len = len - name_len;
	const char *value = trim(s + name_len, &value_len);
	if (name_len == 0 || value_len == 0 || value[0] != '=')
		return fail(error, "expected 'name = value'", "", 0);
	value_len--;
	value = trim(value + 1, &value_len);
	struct template_error template_error;
	if (template_render(value, value_len, lookup, context, rendered, sizeof rendered,
			    &rendered_len, &template_error) != 0)
		return fail(error, template_error.name[0] ? "unknown name" : template_error.message,
			    template_error.name, strlen(template_error.name));
	if (kept && values_set(values, s, name_len, rendered, rendered_len) != 0)
		return fail(error, "too many values", s, name_len);
	return 0;
}

int values_parse(struct values *values, const char *text, size_t len, template_lookup_fn *lookup,
		 void *context, struct values_error *error)
{
	bool in_block = false, active = true;
	memset(error, 0, sizeof *error);
	for (size_t pos = 0; pos < len;) {
		const char *newline = memchr(text + pos, '\n', len - pos);
		size_t line_len = (newline != NULL ? (size_t)(newline - text) : len) - pos;
		const char *line = text + pos;
		pos += line_len + 1;
		error->line++;
		if (line_len > VALUES_LINE_MAX)
			return fail(error, "line is too long", "", 0);
		line = trim(line, &line_len);
		if (line_len == 0 || line[0] == '#')
			continue;
		if (line[0] != '[') {
			if (definition(values, line, line_len, active, lookup, context, error) != 0)
				return -1;
			continue;
		}
		if (line[line_len - 1] != ']')
			return fail(error, "expected ']' at the end", "", 0);
		line++;
		line_len -= 2;
		if (line_len == 3 && memcmp(line, "end", 3) == 0) {
			if (!in_block)
				return fail(error, "[end] without [if]", "", 0);
			in_block = false;
			active = true;
			continue;
		}
		if (in_block)
			return fail(error, "[if] blocks do not nest: [end] first", "", 0);
		if (condition(line, line_len, lookup, context, &active, error) != 0)
			return -1;
		in_block = true;
	}
	if (in_block)
		return fail(error, "[if] without [end]", "", 0);
	error->line = 0;
	return 0;
}
