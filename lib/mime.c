/* A zero-copy RFC 5322/2045/2046 scanner: every result is a span into the caller's buffer,
 * every loop moves forward over it, and nothing is allocated. */
#include "mime.h"

#include "base64.h"

#include <string.h>

static const char tspecials[] = "()<>@,;:\\\"/[]?=";

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char ascii_lower(char c)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c + ('a' - 'A'));
	return c;
}

static bool is_token_char(char c)
{
	unsigned char u = (unsigned char)c;
	return u > 0x20 && u < 0x7f && strchr(tspecials, c) == NULL;
}

static struct mime_span span(const char *ptr, size_t len)
{
	struct mime_span s = {ptr, len};
	return s;
}

/* The line starting at buf[pos]: returns where its text ends (before CRLF or LF) and sets
 * *next past its line end. */
static size_t line_end(const char *buf, size_t len, size_t pos, size_t *next)
{
	const char *lf = memchr(buf + pos, '\n', len - pos);
	if (lf == NULL) {
		*next = len;
		return len;
	}
	size_t end = (size_t)(lf - buf);
	*next = end + 1;
	if (end > pos && buf[end - 1] == '\r')
		end--;
	return end;
}

void mime_split(const char *buf, size_t len, struct mime_span *header, struct mime_span *body)
{
	size_t pos = 0;
	while (pos < len) {
		size_t next;
		size_t end = line_end(buf, len, pos, &next);
		if (end == pos && next > pos) {
			*header = span(buf, pos);
			*body = span(buf + next, len - next);
			return;
		}
		pos = next;
	}
	*header = span(buf, len);
	*body = span(buf + len, 0);
}

bool mime_header_next(struct mime_span header, const char *name, size_t *pos,
		      struct mime_span *value)
{
	const char *h = header.ptr;
	size_t name_len = strlen(name);
	size_t p = *pos;
	while (p < header.len) {
		size_t next;
		size_t end = line_end(h, header.len, p, &next);
		const char *colon = is_wsp(h[p]) ? NULL : memchr(h + p, ':', end - p);
		if (colon != NULL && (size_t)(colon - (h + p)) == name_len &&
		    mime_span_is_nocase(span(h + p, name_len), name)) {
			size_t start = (size_t)(colon - h) + 1;
			size_t stop = end;
			/* Continuation lines (starting with a space or tab) belong to the field. */
			while (next < header.len && is_wsp(h[next]))
				stop = line_end(h, header.len, next, &next);
			*value = span(h + start, stop - start);
			*pos = next;
			return true;
		}
		p = next;
	}
	*pos = header.len;
	return false;
}

bool mime_header_find(struct mime_span header, const char *name, struct mime_span *value)
{
	size_t pos = 0;
	return mime_header_next(header, name, &pos, value);
}

unsigned mime_header_count(struct mime_span header, const char *name)
{
	size_t pos = 0;
	unsigned count = 0;
	struct mime_span value;
	while (count < 2 && mime_header_next(header, name, &pos, &value))
		count++;
	return count;
}

struct mime_span mime_trim(struct mime_span s)
{
	while (s.len > 0 && is_space(s.ptr[0])) {
		s.ptr++;
		s.len--;
	}
	while (s.len > 0 && is_space(s.ptr[s.len - 1]))
		s.len--;
	return s;
}

bool mime_span_is_nocase(struct mime_span s, const char *text)
{
	size_t n = strlen(text);
	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower(s.ptr[i]) != ascii_lower(text[i]))
			return false;
	return true;
}

bool mime_unfold(struct mime_span value, char *out, size_t cap, size_t *len)
{
	struct mime_span v = mime_trim(value);
	size_t n = 0;
	if (cap == 0)
		return false;
	for (size_t i = 0; i < v.len; i++) {
		if (v.ptr[i] == '\r' || v.ptr[i] == '\n')
			continue;
		if (n + 1 >= cap)
			return false;
		out[n++] = v.ptr[i];
	}
	out[n] = '\0';
	*len = n;
	return true;
}

static bool value_equals(struct mime_span value, const char *text, bool nocase)
{
	struct mime_span v = mime_trim(value);
	size_t n = strlen(text), j = 0;
	for (size_t i = 0; i < v.len; i++) {
		char c = v.ptr[i];
		if (c == '\r' || c == '\n')
			continue;
		if (j == n)
			return false;
		if (nocase ? ascii_lower(c) != ascii_lower(text[j]) : c != text[j])
			return false;
		j++;
	}
	return j == n;
}

bool mime_value_is(struct mime_span value, const char *text)
{
	return value_equals(value, text, false);
}

bool mime_value_is_nocase(struct mime_span value, const char *text)
{
	return value_equals(value, text, true);
}

/* Skips whitespace, folding line ends and (nested) RFC 5322 comments. */
static size_t skip_cfws(const char *s, size_t len, size_t i)
{
	while (i < len) {
		if (is_space(s[i])) {
			i++;
			continue;
		}
		if (s[i] != '(')
			break;
		size_t depth = 0;
		while (i < len) {
			char c = s[i++];
			if (c == '\\')
				i++;
			else if (c == '(')
				depth++;
			else if (c == ')' && --depth == 0)
				break;
		}
	}
	return i < len ? i : len;
}

/* Moves *i from the '"' that starts a quoted string to past its closing '"'.
 * False when it is not closed. */
static bool skip_quoted(const char *s, size_t len, size_t *i, bool *escaped)
{
	for (size_t j = *i + 1; j < len; j++) {
		if (s[j] == '\\') {
			*escaped = true;
			j++;
		} else if (s[j] == '"') {
			*i = j + 1;
			return true;
		}
	}
	*i = len;
	return false;
}

static size_t skip_token(const char *s, size_t len, size_t i)
{
	while (i < len && is_token_char(s[i]))
		i++;
	return i;
}

/* type "/" subtype; *end is where the parameters begin. */
static bool parse_type(struct mime_span value, struct mime_span *type, struct mime_span *subtype,
		       size_t *end)
{
	const char *s = value.ptr;
	size_t len = value.len;
	size_t i = skip_cfws(s, len, 0);
	size_t t = skip_token(s, len, i);
	if (t == i)
		return false;
	*type = span(s + i, t - i);
	i = skip_cfws(s, len, t);
	if (i == len || s[i] != '/')
		return false;
	i = skip_cfws(s, len, i + 1);
	t = skip_token(s, len, i);
	if (t == i)
		return false;
	*subtype = span(s + i, t - i);
	i = skip_cfws(s, len, t);
	if (i < len && s[i] != ';')
		return false;
	*end = i;
	return true;
}

bool mime_content_type(struct mime_span value, struct mime_span *type, struct mime_span *subtype)
{
	size_t end;
	return parse_type(value, type, subtype, &end);
}

/* The value of an RFC 2231 extended parameter (charset'language'value), when it needs no
 * decoding. */
static bool extended_value(struct mime_span raw, struct mime_span *param)
{
	const char *q1 = memchr(raw.ptr, '\'', raw.len);
	if (q1 == NULL)
		return false;
	size_t rest = raw.len - (size_t)(q1 + 1 - raw.ptr);
	const char *q2 = memchr(q1 + 1, '\'', rest);
	if (q2 == NULL)
		return false;
	*param = span(q2 + 1, raw.len - (size_t)(q2 + 1 - raw.ptr));
	return memchr(param->ptr, '%', param->len) == NULL;
}

static bool name_is_extended(struct mime_span n, const char *name)
{
	return n.len > 0 && n.ptr[n.len - 1] == '*' &&
	       mime_span_is_nocase(span(n.ptr, n.len - 1), name);
}

bool mime_param(struct mime_span value, const char *name, struct mime_span *param)
{
	const char *s = value.ptr;
	size_t len = value.len, i;
	struct mime_span type, subtype;
	if (!parse_type(value, &type, &subtype, &i))
		return false;
	for (;;) {
		i = skip_cfws(s, len, i);
		if (i == len || s[i] != ';')
			return false;
		i = skip_cfws(s, len, i + 1);
		if (i < len && s[i] == ';')
			continue;
		size_t n = skip_token(s, len, i);
		if (n == i)
			return false;
		struct mime_span pname = span(s + i, n - i);
		i = skip_cfws(s, len, n);
		if (i == len || s[i] != '=')
			return false;
		i = skip_cfws(s, len, i + 1);
		bool escaped = false;
		struct mime_span raw;
		if (i < len && s[i] == '"') {
			size_t close = i;
			if (!skip_quoted(s, len, &close, &escaped))
				return false;
			raw = span(s + i + 1, close - i - 2);
			i = close;
		} else {
			size_t t = skip_token(s, len, i);
			if (t == i)
				return false;
			raw = span(s + i, t - i);
			i = t;
		}
		if (mime_span_is_nocase(pname, name)) {
			*param = raw;
			return !escaped;
		}
		if (name_is_extended(pname, name))
			return !escaped && extended_value(raw, param);
	}
}

static enum mime_encoding parse_encoding(struct mime_span value)
{
	size_t i = skip_cfws(value.ptr, value.len, 0);
	size_t t = skip_token(value.ptr, value.len, i);
	struct mime_span token = span(value.ptr + i, t - i);
	if (mime_span_is_nocase(token, "base64"))
		return MIME_ENCODING_BASE64;
	if (mime_span_is_nocase(token, "quoted-printable"))
		return MIME_ENCODING_QUOTED_PRINTABLE;
	return MIME_ENCODING_IDENTITY;
}

/* A boundary we can search for: not empty, on one line. */
static bool usable_boundary(struct mime_span b)
{
	return b.len > 0 && memchr(b.ptr, '\n', b.len) == NULL &&
	       memchr(b.ptr, '\r', b.len) == NULL;
}

void mime_entity_parse(const char *buf, size_t len, struct mime_entity *e)
{
	struct mime_span value, type, subtype, boundary;
	mime_split(buf, len, &e->header, &e->body);
	/* RFC 2045 §5.2: absent or invalid means text/plain. */
	e->type = span("text", 4);
	e->subtype = span("plain", 5);
	e->boundary = span(buf, 0);
	e->encoding = MIME_ENCODING_IDENTITY;
	if (mime_header_find(e->header, "Content-Type", &value) &&
	    mime_content_type(value, &type, &subtype)) {
		e->type = type;
		e->subtype = subtype;
		if (mime_span_is_nocase(type, "multipart") &&
		    mime_param(value, "boundary", &boundary) && usable_boundary(boundary))
			e->boundary = boundary;
	}
	if (mime_header_find(e->header, "Content-Transfer-Encoding", &value))
		e->encoding = parse_encoding(value);
}

bool mime_entity_is(const struct mime_entity *e, const char *type, const char *subtype)
{
	return mime_span_is_nocase(e->type, type) &&
	       (subtype == NULL || mime_span_is_nocase(e->subtype, subtype));
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

void mime_parts_init(struct mime_parts *p, struct mime_span body, struct mime_span boundary)
{
	memset(p, 0, sizeof *p);
	p->body = body;
	p->boundary = boundary;
	p->done = boundary.len == 0;
}

bool mime_parts_next(struct mime_parts *p, struct mime_span *part)
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
	*part = span(p->body.ptr + start, end - start);
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
	c = ascii_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool quoted_printable_decode(struct mime_span in, char *out, size_t cap, size_t *len)
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

static bool base64_body_decode(struct mime_span in, char *out, size_t cap, size_t *len)
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
	case MIME_ENCODING_IDENTITY:
		break;
	}
	if (e->body.len > cap)
		return false;
	memcpy(out, e->body.ptr, e->body.len);
	*len = e->body.len;
	return true;
}

/* An addr-spec as one run of text: an '@', no whitespace, no address-list punctuation. */
static bool plain_address(struct mime_span a)
{
	if (a.len == 0 || memchr(a.ptr, '@', a.len) == NULL)
		return false;
	for (size_t i = 0; i < a.len; i++) {
		unsigned char c = (unsigned char)a.ptr[i];
		if (c <= 0x20 || c == 0x7f || strchr("<>(),;\"\\", c) != NULL)
			return false;
	}
	return true;
}

bool mime_single_address(struct mime_span value, struct mime_span *address)
{
	const char *s = value.ptr;
	size_t len = value.len, i = 0;
	bool escaped = false;
	struct mime_span a;
	/* Before '<' comes the display name; a ',' means a list, ':' or ';' a group. */
	while (i < len && s[i] != '<') {
		if (s[i] == '"')
			skip_quoted(s, len, &i, &escaped);
		else if (s[i] == '(')
			i = skip_cfws(s, len, i);
		else if (s[i] == ',' || s[i] == ':' || s[i] == ';' || s[i] == '>')
			return false;
		else
			i++;
	}
	if (i < len) {
		const char *gt = memchr(s + i, '>', len - i);
		if (gt == NULL)
			return false;
		a = mime_trim(span(s + i + 1, (size_t)(gt - s) - i - 1));
		i = (size_t)(gt - s) + 1;
	} else {
		size_t start = skip_cfws(s, len, 0);
		i = start;
		while (i < len && !is_space(s[i]) && s[i] != '(')
			i++;
		a = span(s + start, i - start);
	}
	if (skip_cfws(s, len, i) != len || !plain_address(a))
		return false;
	*address = a;
	return true;
}

static bool is_multipart(const struct mime_entity *e)
{
	return mime_entity_is(e, "multipart", NULL) && e->boundary.len > 0;
}

enum mime_walk_status mime_walk(const char *buf, size_t len, mime_walk_fn *fn, void *context)
{
	/* One iterator per open multipart instead of recursion: depth costs no stack. */
	struct mime_parts stack[MIME_DEPTH_MAX];
	struct mime_entity e;
	struct mime_span part;
	unsigned depth = 0;
	size_t seen = 1;
	mime_entity_parse(buf, len, &e);
	if (!fn(&e, 0, context))
		return MIME_WALK_STOPPED;
	if (!is_multipart(&e))
		return MIME_WALK_DONE;
	mime_parts_init(&stack[depth++], e.body, e.boundary);
	while (depth > 0) {
		if (!mime_parts_next(&stack[depth - 1], &part)) {
			if (stack[depth - 1].overflow)
				return MIME_WALK_TOO_MANY;
			depth--;
			continue;
		}
		if (++seen > MIME_PARTS_MAX)
			return MIME_WALK_TOO_MANY;
		mime_entity_parse(part.ptr, part.len, &e);
		if (!fn(&e, depth, context))
			return MIME_WALK_STOPPED;
		if (is_multipart(&e)) {
			if (depth == MIME_DEPTH_MAX)
				return MIME_WALK_TOO_DEEP;
			mime_parts_init(&stack[depth++], e.body, e.boundary);
		}
	}
	return MIME_WALK_DONE;
}
