/* A span of bytes inside a caller's buffer: what the zero-copy header and MIME scanners return. */
#ifndef CHATMAIL_SPAN_H
#define CHATMAIL_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct span {
	const char *ptr;
	size_t len;
};

static inline struct span span_of(const char *ptr, size_t len)
{
	struct span s = {ptr, len};
	return s;
}

static inline char span_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

static inline bool span_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Without white space and line ends at either end. */
static inline struct span span_trim(struct span s)
{
	while (s.len > 0 && span_is_space(s.ptr[0])) {
		s.ptr++;
		s.len--;
	}
	while (s.len > 0 && span_is_space(s.ptr[s.len - 1]))
		s.len--;
	return s;
}

/* Whether the span is text, ignoring ASCII case. */
static inline bool span_is_nocase(struct span s, const char *text)
{
	if (s.len != strlen(text))
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (span_lower(s.ptr[i]) != span_lower(text[i]))
			return false;
	return true;
}

#endif
