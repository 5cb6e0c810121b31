/* A strict JSON checker and compactor: recursive descent, bounded depth, no allocation. */
#include "jsoncheck.h"

#include <stdbool.h>
#include <string.h>

struct reader {
	const char *in;
	size_t len, at;
	char *out;
	size_t size, used;
};

static bool put(struct reader *r, char c)
{
	if (r->used + 1 >= r->size)
		return false;
	r->out[r->used++] = c;
	return true;
}

static void skip_space(struct reader *r)
{
	while (r->at < r->len && strchr(" \t\r\n", r->in[r->at]) != NULL && r->in[r->at] != '\0')
		r->at++;
}

static bool take(struct reader *r, char c)
{
	if (r->at < r->len && r->in[r->at] == c)
		return put(r, r->in[r->at++]);
	return false;
}

static bool hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool string(struct reader *r)
{
	if (!take(r, '"'))
		return false;
	while (r->at < r->len) {
		unsigned char c = (unsigned char)r->in[r->at];
		if (c < 0x20)
			return false;
		if (!put(r, (char)c))
			return false;
		r->at++;
		if (c == '"')
			return true;
		if (c != '\\')
			continue;
		if (r->at == r->len)
			return false;
		char e = r->in[r->at];
		if (strchr("\"\\/bfnrtu", e) == NULL || e == '\0' || !put(r, e))
			return false;
		r->at++;
		if (e == 'u') {
			for (int i = 0; i < 4; i++)
				if (r->at == r->len || !hex(r->in[r->at]) || !put(r, r->in[r->at++]))
					return false;
		}
	}
	return false;
}

static bool digits(struct reader *r)
{
	size_t start = r->at;
	while (r->at < r->len && r->in[r->at] >= '0' && r->in[r->at] <= '9')
		if (!put(r, r->in[r->at++]))
			return false;
	return r->at > start;
}

static bool number(struct reader *r)
{
	if (r->at < r->len && r->in[r->at] == '-' && !take(r, '-'))
		return false;
	if (r->at < r->len && r->in[r->at] == '0') {
		if (!take(r, '0'))
			return false;
	} else if (!digits(r)) {
		return false;
	}
	if (r->at < r->len && r->in[r->at] == '.' && (!take(r, '.') || !digits(r)))
		return false;
	if (r->at < r->len && (r->in[r->at] == 'e' || r->in[r->at] == 'E')) {
		if (!put(r, r->in[r->at++]))
			return false;
		if (r->at < r->len && (r->in[r->at] == '+' || r->in[r->at] == '-') &&
		    !put(r, r->in[r->at++]))
			return false;
		if (!digits(r))
			return false;
	}
	return true;
}

static bool word(struct reader *r, const char *w)
{
	size_t n = strlen(w);
	if (r->len - r->at < n || memcmp(r->in + r->at, w, n) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!put(r, w[i]))
			return false;
	r->at += n;
	return true;
}

static bool value(struct reader *r, unsigned depth);

/* The members of an object (pairs) or the elements of an array, up to the closing char. */
static bool members(struct reader *r, unsigned depth, bool pairs, char close)
{
	skip_space(r);
	if (take(r, close))
		return true;
	for (;;) {
		skip_space(r);
		if (pairs) {
			if (!string(r))
				return false;
			skip_space(r);
			if (!take(r, ':'))
				return false;
		}
		if (!value(r, depth + 1))
			return false;
		skip_space(r);
		if (take(r, close))
			return true;
		if (!take(r, ','))
			return false;
	}
}

static bool value(struct reader *r, unsigned depth)
{
	if (depth > JSONCHECK_DEPTH_MAX)
		return false;
	skip_space(r);
	if (r->at == r->len)
		return false;
	switch (r->in[r->at]) {
	case '{': return take(r, '{') && members(r, depth, true, '}');
	case '[': return take(r, '[') && members(r, depth, false, ']');
	case '"': return string(r);
	case 't': return word(r, "true");
	case 'f': return word(r, "false");
	case 'n': return word(r, "null");
	default: return number(r);
	}
}

long json_compact(const char *in, size_t len, char *out, size_t size)
{
	struct reader r = {in, len, 0, out, size, 0};
	if (size == 0 || !value(&r, 0))
		return -1;
	skip_space(&r);
	if (r.at != len)
		return -1;
	out[r.used] = '\0';
	return (long)r.used;
}
