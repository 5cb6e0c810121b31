/* JSON text built by escaping, never by pasting strings (RFC 8259). */
#include "json.h"

#include <string.h>

static void put(struct json_writer *writer, const char *text, size_t len)
{
	/* One byte stays free for the closing NUL. */
	if (writer->overflow || len >= writer->size - writer->len) {
		writer->overflow = true;
		return;
	}
	memcpy(writer->out + writer->len, text, len);
	writer->len += len;
}

/* The length of the well-formed UTF-8 sequence at s[0..len) (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF), or 0 when it is not one. */
static size_t utf8_sequence(const unsigned char *s, size_t len)
{
	size_t need;
	unsigned char low = 0x80, high = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		need = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		need = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		low = 0xa0;
	else if (s[0] == 0xed)
		high = 0x9f;
	else if (s[0] == 0xf0)
		low = 0x90;
	else if (s[0] == 0xf4)
		high = 0x8f;
	if (len < need || s[1] < low || s[1] > high)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return need;
}

static void put_string(struct json_writer *writer, const char *value, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)value;

	put(writer, "\"", 1);
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		char escape[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
		size_t run;

		if (c == '"' || c == '\\') {
			escape[1] = (char)c;
			put(writer, escape, 2);
			i++;
		} else if (c < 0x20) {
			put(writer, escape, sizeof escape);
			i++;
		} else if (c < 0x80) {
			put(writer, value + i, 1);
			i++;
		} else if ((run = utf8_sequence(s + i, len - i)) > 0) {
			put(writer, value + i, run);
			i += run;
		} else {
			put(writer, "\\ufffd", 6);
			i++;
		}
	}
	put(writer, "\"", 1);
}

void json_begin(struct json_writer *writer, char *out, size_t size)
{
	writer->out = out;
	writer->size = size;
	writer->len = 0;
	writer->members = 0;
	writer->overflow = size == 0;
	put(writer, "{", 1);
}

void json_member(struct json_writer *writer, const char *key, const char *value, size_t len)
{
	if (writer->members++ > 0)
		put(writer, ", ", 2);
	put_string(writer, key, strlen(key));
	put(writer, ": ", 2);
	put_string(writer, value, len);
}

static void put_key(struct json_writer *writer, const char *key)
{
	if (writer->members++ > 0)
		put(writer, ", ", 2);
	put_string(writer, key, strlen(key));
	put(writer, ": ", 2);
}

void json_member_uint(struct json_writer *writer, const char *key, uint64_t value)
{
	char digits[24];
	size_t len = 0;
	do { /* written backwards, least significant digit first */
		digits[sizeof digits - ++len] = (char)('0' + value % 10);
		value /= 10;
	} while (value > 0);
	put_key(writer, key);
	put(writer, digits + sizeof digits - len, len);
}

void json_member_bool(struct json_writer *writer, const char *key, bool value)
{
	put_key(writer, key);
	put(writer, value ? "true" : "false", value ? 4 : 5);
}

size_t json_end(struct json_writer *writer)
{
	put(writer, "}\n", 2);
	if (writer->overflow) {
		if (writer->size > 0)
			writer->out[0] = '\0';
		return 0;
	}
	writer->out[writer->len] = '\0';
	return writer->len;
}
