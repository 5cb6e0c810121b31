/* A JSON writer for flat objects of string, number and boolean members, into a fixed buffer. */
#ifndef CHATMAIL_JSON_H
#define CHATMAIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_writer {
	char *out;
	size_t size;
	size_t len;
	unsigned members;
	bool overflow; /* set once anything did not fit; the text is then unusable */
};

/* Starts an object ("{") in out[0..size). */
void json_begin(struct json_writer *writer, char *out, size_t size);

/* Adds "key": "value" with value[0..len) escaped: quote, backslash and control characters as
 * JSON escapes, valid UTF-8 as it is, and each byte of invalid UTF-8 as U+FFFD, so the text
 * is always valid JSON whatever the bytes. */
void json_member(struct json_writer *writer, const char *key, const char *value, size_t len);

/* Adds "key": number, and "key": true or false. */
void json_member_uint(struct json_writer *writer, const char *key, uint64_t value);
void json_member_bool(struct json_writer *writer, const char *key, bool value);

/* Closes the object with "}\n" and a NUL. Returns the length of the text, or 0 when it did
 * not fit in the buffer. */
size_t json_end(struct json_writer *writer);

#endif
