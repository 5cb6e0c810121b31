/* RFC 2045/2046 over spans of the caller's buffer: every loop moves forward, nothing is
 * allocated, and whatever a reader could take two ways is named as the entity's problem. */
#include "mime.h"

#include "base64.h"

#include <string.h>

static const char tspecials[] = "()<>@,;:\\\"/[]?=";

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_token_char(char c)
{
	unsigned char u = (unsigned char)c;
	return u > 0x20 && u < 0x7f && strchr(tspecials, c) == NULL;
}

/* RFC 2046 §5.1.1 bchars. */
static bool is_boundary_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

/* Skips white space and folding line ends; a comment is not skipped: it is not canonical. */
static size_t skip_fws(const char *s, size_t len, size_t i)
{
	while (i < len && span_is_space(s[i]))
		i++;
	return i;
}

static size_t skip_token(const char *s, size_t len, size_t i)
{
	while (i < len && is_token_char(s[i]))
		i++;
	return i;
}

static const char *boundary_problem(struct span b)
{
	if (b.len == 0 || b.len > MIME_BOUNDARY_MAX || b.ptr[b.len - 1] == ' ')
		return "boundary of the wrong length";
	for (size_t i = 0; i < b.len; i++)
		if (!is_boundary_char(b.ptr[i]))
			return "boundary with a character RFC 2046 does not allow";
	return NULL;
}

/* A parameter value at s[*i]: a token or a quoted string without backslashes or line ends. */
static const char *param_value(const char *s, size_t len, size_t *i, struct span *value)
{
	if (*i < len && s[*i] == '"') {
		size_t j = *i + 1;
		while (j < len && s[j] != '"') {
			if (s[j] == '\\' || s[j] == '\r' || s[j] == '\n')
				return "quoted parameter with a backslash or a line end";
			j++;
		}
		if (j == len)
			return "quoted parameter without its closing quote";
		*value = span_of(s + *i + 1, j - *i - 1);
		*i = j + 1;
		return NULL;
	}
	size_t t = skip_token(s, len, *i);
	if (t == *i)
		return "parameter without a value";
	*value = span_of(s + *i, t - *i);
	*i = t;
	return NULL;
}

/* The name without an RFC 2231 "*" or "*0" section mark: name, name* and name*0 are one. */
static struct span base_name(struct span name)
{
	const char *star = memchr(name.ptr, '*', name.len);
	return star == NULL ? name : span_of(name.ptr, (size_t)(star - name.ptr));
}

static bool same_name(struct span a, struct span b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (span_lower(a.ptr[i]) != span_lower(b.ptr[i]))
			return false;
	return true;
}

/* RFC 2231 section marks: nothing, "*", "*N" or "*N*" after the name; a '*' elsewhere makes a
 * name some readers cannot parse (and then lose the parameters after it). */
static bool well_formed_name(struct span name, struct span base)
{
	size_t i = base.len;
	if (i == name.len)
		return base.len > 0;
	if (base.len == 0 || name.ptr[i++] != '*')
		return false;
	size_t digits = i;
	while (i < name.len && name.ptr[i] >= '0' && name.ptr[i] <= '9')
		i++;
	if (i < name.len && i > digits && name.ptr[i] == '*')
		i++;
	return i == name.len;
}

/* Records one parameter; the boundary is kept, a repeat or an encoded boundary is refused. */
static const char *add_param(struct span names[MIME_PARAMS_MAX], size_t *count, struct span name,
			     struct span value, struct mime_content_type *ct)
{
	struct span base = base_name(name);
	if (!well_formed_name(name, base))
		return "malformed MIME parameter name";
	for (size_t k = 0; k < *count; k++)
		if (same_name(names[k], base))
			return "repeated MIME parameter";
	if (*count == MIME_PARAMS_MAX)
		return "too many MIME parameters";
	names[(*count)++] = base;
	bool encoded = base.len != name.len;
	if (span_is_nocase(base, "boundary")) {
		if (encoded)
			return "RFC 2231 boundary";
		ct->boundary = value;
		return boundary_problem(value);
	}
	if (encoded && span_is_nocase(base, "protocol"))
		return "RFC 2231 protocol";
	return NULL;
}

/* The "; name=value" list from s[i]; a boundary among them lands in ct. */
static const char *parameters(const char *s, size_t len, size_t i, struct mime_content_type *ct)
{
	struct span names[MIME_PARAMS_MAX];
	size_t count = 0, t;
	const char *problem;
	for (;;) {
		struct span name, param;
		i = skip_fws(s, len, i);
		if (i == len)
			return NULL;
		if (s[i] != ';')
			return "MIME field with text outside its parameters";
		i = skip_fws(s, len, i + 1);
		if (i == len)
			return NULL;
		t = skip_token(s, len, i);
		if (t == i)
			return "parameter without a name";
		name = span_of(s + i, t - i);
		i = skip_fws(s, len, t);
		if (i == len || s[i] != '=')
			return "parameter without a value";
		i = skip_fws(s, len, i + 1);
		if ((problem = param_value(s, len, &i, &param)) != NULL ||
		    (problem = add_param(names, &count, name, param, ct)) != NULL)
			return problem;
	}
}

const char *mime_content_type(struct span value, struct mime_content_type *ct)
{
	const char *s = value.ptr;
	size_t len = value.len;
	size_t i = skip_fws(s, len, 0), t = skip_token(s, len, i);

	ct->boundary = span_of(s, 0);
	if (t == i || t == len || s[t] != '/')
		return "Content-Type without type/subtype";
	ct->type = span_of(s + i, t - i);
	i = t + 1;
	t = skip_token(s, len, i);
	if (t == i)
		return "Content-Type without type/subtype";
	ct->subtype = span_of(s + i, t - i);
	return parameters(s, len, t, ct);
}

/* Content-Disposition (RFC 2183) is read as strictly: a token, then the same parameters. A
 * boundary there means nothing, but a repeat makes readers warn and differ. */
static const char *disposition_problem(struct span value)
{
	struct mime_content_type ignored;
	size_t i = skip_fws(value.ptr, value.len, 0), t = skip_token(value.ptr, value.len, i);
	if (t == i)
		return "Content-Disposition without a type";
	return parameters(value.ptr, value.len, t, &ignored);
}

static enum mime_encoding parse_encoding(struct span value)
{
	static const char *const identity[] = {"7bit", "8bit", "binary"};
	for (size_t i = 0; i < sizeof identity / sizeof identity[0]; i++)
		if (header_value_is_nocase(value, identity[i]))
			return MIME_ENCODING_IDENTITY;
	if (header_value_is_nocase(value, "base64"))
		return MIME_ENCODING_BASE64;
	if (header_value_is_nocase(value, "quoted-printable"))
		return MIME_ENCODING_QUOTED_PRINTABLE;
	return MIME_ENCODING_UNKNOWN;
}

void mime_entity_parse(const char *buf, size_t len, struct mime_entity *e)
{
	struct span value;
	header_split(buf, len, &e->header, &e->body);
	/* RFC 2045 §5.2: absent means text/plain. */
	e->content.type = span_of("text", 4);
	e->content.subtype = span_of("plain", 5);
	e->content.boundary = span_of(buf, 0);
	e->encoding = MIME_ENCODING_IDENTITY;
	e->problem = header_problem(e->header);
	if (e->problem != NULL)
		return;
	if (header_find(e->header, "Content-Type", &value)) {
		struct mime_content_type ct;
		e->problem = mime_content_type(value, &ct);
		if (e->problem != NULL)
			return;
		e->content = ct;
	}
	if (header_find(e->header, "Content-Disposition", &value) &&
	    (e->problem = disposition_problem(value)) != NULL)
		return;
	if (header_find(e->header, "Content-Transfer-Encoding", &value)) {
		e->encoding = parse_encoding(value);
		if (e->encoding == MIME_ENCODING_UNKNOWN)
			e->problem = "unknown Content-Transfer-Encoding";
	}
}

bool mime_entity_is(const struct mime_entity *e, const char *type, const char *subtype)
{
	return span_is_nocase(e->content.type, type) &&
	       (subtype == NULL || span_is_nocase(e->content.subtype, subtype));
}

enum delimiter { NOT_DELIMITER, DELIMITER, CLOSE_DELIMITER };

/* Whether a delimiter line of the boundary starts at body[pos]; *next is past its line end. */
static enum delimiter delimiter_at(const struct mime_parts *p, size_t pos, size_t *next)
{
	const char *s = p->body.ptr;
	size_t len = p->body.len, blen = p->boundary.len;
	if (len - pos < 2 + blen || s[pos] != '-' || s[pos + 1] != '-' ||
	    memcmp(s + pos + 2, p->boundary.ptr, blen) != 0)
		return NOT_DELIMITER;
	size_t i = pos + 2 + blen;
	enum delimiter kind = DELIMITER;
	if (len - i >= 2 && s[i] == '-' && s[i + 1] == '-') {
		kind = CLOSE_DELIMITER;
		i += 2;
	}
	while (i < len && is_wsp(s[i]))
		i++;
	if (i < len && s[i] == '\r')
		i++;
	if (i == len) {
		*next = len;
		return kind;
	}
	if (s[i] != '\n')
		return NOT_DELIMITER;
	*next = i + 1;
	return kind;
}

/* The first delimiter line at or after the line start pos; body.len when there is none. */
static size_t find_delimiter(const struct mime_parts *p, size_t pos, enum delimiter *kind,
			     size_t *next)
{
	const char *s = p->body.ptr;
	size_t len = p->body.len;
	while (pos < len) {
		*kind = delimiter_at(p, pos, next);
		if (*kind != NOT_DELIMITER)
			return pos;
		const char *lf = memchr(s + pos, '\n', len - pos);
		if (lf == NULL)
			break;
		pos = (size_t)(lf - s) + 1;
	}
	*kind = NOT_DELIMITER;
	*next = len;
	return len;
}

void mime_parts_init(struct mime_parts *p, struct span body, struct span boundary)
{
	memset(p, 0, sizeof *p);
	p->body = body;
	p->boundary = boundary;
	p->done = boundary.len == 0;
}

bool mime_parts_next(struct mime_parts *p, struct span *part)
{
	enum delimiter kind;
	size_t next;
	if (p->done)
		return false;
	if (!p->started) {
		/* Everything before the first delimiter is preamble. */
		find_delimiter(p, 0, &kind, &next);
		p->started = true;
		p->pos = next;
		if (kind != DELIMITER) {
			p->done = true;
			p->closed = kind == CLOSE_DELIMITER;
			return false;
		}
	}
	if (p->count == MIME_PARTS_MAX) {
		p->overflow = true;
		p->done = true;
		return false;
	}
	size_t start = p->pos;
	size_t end = find_delimiter(p, start, &kind, &next);
	/* The line end before a delimiter belongs to the delimiter (RFC 2046 §5.1.1). */
	if (kind != NOT_DELIMITER && end > start && p->body.ptr[end - 1] == '\n') {
		end--;
		if (end > start && p->body.ptr[end - 1] == '\r')
			end--;
	}
	*part = span_of(p->body.ptr + start, end - start);
	p->count++;
	p->pos = next;
	p->done = kind != DELIMITER;
	p->closed = kind == CLOSE_DELIMITER;
	return true;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = span_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool quoted_printable_decode(struct span in, char *out, size_t cap, size_t *len)
{
	const char *s = in.ptr;
	size_t n = 0, i = 0;
	while (i < in.len) {
		char c = s[i++];
		if (c == '=') {
			size_t rest = in.len - i;
			if (rest >= 1 && s[i] == '\n') {
				i++;
				continue;
			}
			if (rest >= 2 && s[i] == '\r' && s[i + 1] == '\n') {
				i += 2;
				continue;
			}
			if (rest >= 2 && hex_value(s[i]) >= 0 && hex_value(s[i + 1]) >= 0) {
				c = (char)(hex_value(s[i]) << 4 | hex_value(s[i + 1]));
				i += 2;
			}
		}
		if (n == cap)
			return false;
		out[n++] = c;
	}
	*len = n;
	return true;
}

static bool base64_body_decode(struct span in, char *out, size_t cap, size_t *len)
{
	struct base64 d;
	size_t pos = 0, n = 0;
	base64_init(&d, false);
	while (pos < in.len) {
		size_t used;
		n += base64_decode(&d, in.ptr + pos, in.len - pos, &used, (unsigned char *)out + n,
				   cap - n);
		if (d.error || used == 0)
			return false;
		pos += used;
	}
	*len = n;
	return base64_end(&d);
}

bool mime_body_decode(const struct mime_entity *e, char *out, size_t cap, size_t *len)
{
	switch (e->encoding) {
	case MIME_ENCODING_BASE64:
		return base64_body_decode(e->body, out, cap, len);
	case MIME_ENCODING_QUOTED_PRINTABLE:
		return quoted_printable_decode(e->body, out, cap, len);
	case MIME_ENCODING_UNKNOWN:
		return false;
	case MIME_ENCODING_IDENTITY:
		break;
	}
	if (e->body.len > cap)
		return false;
	memcpy(out, e->body.ptr, e->body.len);
	*len = e->body.len;
	return true;
}
