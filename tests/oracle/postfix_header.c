/* Where Postfix's cleanup(8) ends a message header and which fields it reads there, written
 * again from Postfix's smtp_stream.c, is_header.c and mime_state.c: an independent second
 * reading, so the oracle never trusts our own MIME scanner. */
#include "oracle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Postfix's default header_size_limit (postconf(5)), used when main.cf does not set one. */
#define POSTFIX_HEADER_SIZE_LIMIT_DEFAULT 102400
#define POSTFIX_MAIN_CF "conf/postfix/main.cf"

/* is_header_buf(): a name of printable ASCII without space or colon, then optional spaces and
 * tabs, then a colon. Returns the name's length, 0 when the line is no field. */
static size_t field_name_length(const char *line, size_t len)
{
	size_t name = 0, i = 0;
	for (; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == ':')
			return name;
		if (c == ' ' || c == '\t') {
			if (name == 0)
				return 0;
			continue;
		}
		if (c <= 32 || c >= 127 || name < i)
			return 0;
		name++;
	}
	return 0;
}

static bool append_field(struct postfix_header *header, struct postfix_field field)
{
	if (header->count == header->capacity) {
		size_t capacity = header->capacity ? 2 * header->capacity : 32;
		struct postfix_field *fields = realloc(header->fields, capacity * sizeof *fields);
		if (fields == NULL)
			return false;
		header->fields = fields;
		header->capacity = capacity;
	}
	header->fields[header->count++] = field;
	return true;
}

/* smtp_get(): a line ends at LF; CRs before that LF are no part of it. */
static size_t line_content_length(const char *line, size_t len)
{
	while (len > 0 && line[len - 1] == '\r')
		len--;
	return len;
}

bool postfix_header_read(const char *msg, size_t len, struct postfix_header *header)
{
	size_t pos = 0;
	memset(header, 0, sizeof *header);
	while (pos < len) {
		const char *line = msg + pos;
		const char *lf = memchr(line, '\n', len - pos);
		size_t raw = lf ? (size_t)(lf - line) : len - pos;
		size_t content = line_content_length(line, raw);
		size_t name = field_name_length(line, content);
		header->end_line = line;
		header->end_line_length = content;
		header->end_line_number++;
		if (memchr(line, '\r', content) != NULL)
			header->bare_cr = true;
		if (header->count > 0 && content > 0 && (line[0] == ' ' || line[0] == '\t')) {
			struct postfix_field *field = &header->fields[header->count - 1];
			field->value_length = (size_t)(line + content - field->value);
			field->size += 1 + content; /* cleanup joins folded lines with "\n" */
		} else if (name > 0) {
			const char *colon = memchr(line, ':', content);
			struct postfix_field field = {line, name, colon + 1,
						      (size_t)(line + content - colon - 1), 0};
			/* "Name :" is stored as "Name:" */
			field.size = name + 1 + field.value_length;
			if (!append_field(header, field))
				return false;
		} else {
			header->ended = true;
			header->body = pos + raw + (lf != NULL);
			return true;
		}
		pos += raw + (lf != NULL);
	}
	header->end_line = NULL;
	header->end_line_length = 0;
	header->body = len;
	return true;
}

size_t postfix_part_starts(const char *body, size_t len, const char *boundary, size_t *starts,
			   size_t count)
{
	size_t pos = 0, found = 0, n = strlen(boundary);
	while (pos < len && found < count) {
		const char *lf = memchr(body + pos, '\n', len - pos);
		size_t raw = lf ? (size_t)(lf - (body + pos)) : len - pos;
		size_t content = line_content_length(body + pos, raw), i = 2 + n;
		const char *line = body + pos;
		pos += raw + (lf != NULL);
		if (content < 2 + n || line[0] != '-' || line[1] != '-' ||
		    memcmp(line + 2, boundary, n) != 0)
			continue;
		while (i < content && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == content)
			starts[found++] = pos;
	}
	return found;
}

void postfix_header_free(struct postfix_header *header)
{
	free(header->fields);
	header->fields = NULL;
	header->count = header->capacity = 0;
}

size_t postfix_header_size_limit(void)
{
	char line[512];
	size_t limit = POSTFIX_HEADER_SIZE_LIMIT_DEFAULT;
	FILE *f = fopen(POSTFIX_MAIN_CF, "r");
	if (f == NULL)
		return limit;
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned long value;
		char rest;
		if (strncmp(line, "header_size_limit", 17) != 0 || strchr(" \t=", line[17]) == NULL)
			continue;
		if (strstr(line, "{header_size_limit}") != NULL)
			limit = our_header_size_limit(); /* what chatmail-render writes there */
		else if (sscanf(line, "header_size_limit = %lu %c", &value, &rest) == 1)
			limit = value;
		else {
			fprintf(stderr, "oracle: cannot read %s: %s", POSTFIX_MAIN_CF, line);
			exit(2);
		}
	}
	fclose(f);
	return limit;
}
