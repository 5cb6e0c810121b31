/* RFC 5322 header blocks, read line by line as Postfix cleanup reads them; every loop moves
 * forward over the caller's buffer and nothing is allocated. */
#include "header.h"

#include <string.h>

/* Fields that decide the verdict, the sender or how the body is read: a second one, in any
 * spelling, would let the filter and a reader behind it disagree. */
static const char *const singular_fields[] = {
    "From",	    "Sender",	      "Content-Type", "Content-Transfer-Encoding", "MIME-Version",
    "Secure-Join", "Auto-Submitted", "Subject", "Content-Disposition",
};
#define SINGULAR_COUNT (sizeof singular_fields / sizeof singular_fields[0])

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 5322 ftext: printable US-ASCII but ':'. */
static bool is_ftext(char c)
{
	unsigned char u = (unsigned char)c;
	return u >= 33 && u <= 126 && u != ':';
}

/* The line at buf[pos]: returns where its text ends (before CRLF or LF) and sets *next past
 * its line end. */
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

/* The name of the field line s[0..len): its length, with *value_start just past the colon;
 * 0 when the line is no field. */
static size_t field_name(const char *s, size_t len, size_t *value_start)
{
	size_t n = 0, i;
	while (n < len && is_ftext(s[n]))
		n++;
	for (i = n; i < len && is_wsp(s[i]); i++)
		;
	if (n == 0 || i == len || s[i] != ':')
		return 0;
	*value_start = i + 1;
	return n;
}

void header_split(const char *buf, size_t len, struct span *header, struct span *body)
{
	size_t pos = 0;
	while (pos < len) {
		size_t next;
		size_t end = line_end(buf, len, pos, &next);
		if (end == pos && next > pos) {
			*header = span_of(buf, pos);
			*body = span_of(buf + next, len - next);
			return;
		}
		pos = next;
	}
	*header = span_of(buf, len);
	*body = span_of(buf + len, 0);
}

static bool only_wsp(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!is_wsp(s[i]))
			return false;
	return true;
}

/* Counts a field line among the singular ones; false when it is the second of its name. */
static bool count_singular(struct span name, unsigned seen[SINGULAR_COUNT])
{
	for (size_t i = 0; i < SINGULAR_COUNT; i++)
		if (span_is_nocase(name, singular_fields[i]) && ++seen[i] > 1)
			return false;
	return true;
}

const char *header_problem(struct span header)
{
	const char *h = header.ptr;
	unsigned seen[SINGULAR_COUNT] = {0};
	size_t pos = 0, field_start = 0, value_start;
	bool in_field = false;
	while (pos < header.len) {
		size_t next, end = line_end(h, header.len, pos, &next);
		if (memchr(h + pos, '\r', end - pos) != NULL)
			return "CR outside a line end in the header";
		/* SMTP never brings one (filtermail refuses NUL), but readers cut a value there. */
		if (memchr(h + pos, '\0', end - pos) != NULL)
			return "NUL in the header";
		if (is_wsp(h[pos])) {
			if (!in_field)
				return "header starts with a continuation line";
			if (only_wsp(h + pos, end - pos))
				return "header line of only white space";
		} else {
			size_t n = field_name(h + pos, end - pos, &value_start);
			if (n == 0)
				return "header line that is not a field";
			if (!count_singular(span_of(h + pos, n), seen))
				return "a field that decides the verdict appears twice";
			in_field = true;
			field_start = pos;
		}
		if (next - field_start > HEADER_FIELD_MAX)
			return "header field longer than header_size_limit";
		pos = next;
	}
	return NULL;
}

bool header_next(struct span header, const char *name, size_t *pos, struct span *value)
{
	const char *h = header.ptr;
	size_t p = *pos, value_start;
	while (p < header.len) {
		size_t next, end = line_end(h, header.len, p, &next);
		size_t n = is_wsp(h[p]) ? 0 : field_name(h + p, end - p, &value_start);
		if (n > 0 && span_is_nocase(span_of(h + p, n), name)) {
			size_t start = p + value_start, stop = end;
			/* Continuation lines (starting with a space or tab) belong to the field. */
			while (next < header.len && is_wsp(h[next]))
				stop = line_end(h, header.len, next, &next);
			*value = span_of(h + start, stop - start);
			*pos = next;
			return true;
		}
		p = next;
	}
	*pos = header.len;
	return false;
}

bool header_find(struct span header, const char *name, struct span *value)
{
	size_t pos = 0;
	return header_next(header, name, &pos, value);
}

unsigned header_count(struct span header, const char *name)
{
	size_t pos = 0;
	unsigned count = 0;
	struct span value;
	while (count < 2 && header_next(header, name, &pos, &value))
		count++;
	return count;
}

static bool value_equals(struct span value, const char *text, bool nocase)
{
	struct span v = span_trim(value);
	size_t n = strlen(text), j = 0;
	for (size_t i = 0; i < v.len; i++) {
		char c = v.ptr[i];
		if (c == '\r' || c == '\n')
			continue;
		if (j == n)
			return false;
		if (nocase ? span_lower(c) != span_lower(text[j]) : c != text[j])
			return false;
		j++;
	}
	return j == n;
}

bool header_value_is(struct span value, const char *text)
{
	return value_equals(value, text, false);
}

bool header_value_is_nocase(struct span value, const char *text)
{
	return value_equals(value, text, true);
}

size_t header_skip_cfws(const char *s, size_t len, size_t i)
{
	while (i < len) {
		if (span_is_space(s[i])) {
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

/* Moves *i from the '"' that starts a quoted string to past its closing '"'. */
static void skip_quoted(const char *s, size_t len, size_t *i)
{
	for (size_t j = *i + 1; j < len; j++) {
		if (s[j] == '\\') {
			j++;
		} else if (s[j] == '"') {
			*i = j + 1;
			return;
		}
	}
	*i = len;
}

/* RFC 5322 atext. */
static bool is_atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* A dot-atom of ok characters: not empty, no dot at either end, no two dots together. */
static bool dot_atom(const char *s, size_t len, bool (*ok)(char))
{
	if (len == 0 || s[0] == '.' || s[len - 1] == '.' || memmem(s, len, "..", 2) != NULL)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '.' && !ok(s[i]))
			return false;
	return true;
}

static bool is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

static bool is_literal_char(char c)
{
	return is_host_char(c) || c == ':';
}

/* An addr-spec as one run of ASCII text: a dot-atom local part, one '@', a host name or a
 * domain literal ([192.0.2.1], [IPv6:…]). What a MIME reader could not parse is no address
 * to us either. */
static bool plain_address(struct span a)
{
	const char *at = a.len > 0 ? memchr(a.ptr, '@', a.len) : NULL;
	if (at == NULL)
		return false;
	size_t local = (size_t)(at - a.ptr), domain = a.len - local - 1;
	const char *d = at + 1;
	if (!dot_atom(a.ptr, local, is_atext))
		return false;
	if (domain >= 2 && d[0] == '[' && d[domain - 1] == ']')
		return dot_atom(d + 1, domain - 2, is_literal_char);
	return dot_atom(d, domain, is_host_char);
}

/* What a display name may hold outside quotes and comments: atext, dots, white space and
 * folding, and UTF-8 (raw 8-bit names are common and read alike). */
static bool is_phrase_char(char c)
{
	return is_atext(c) || c == '.' || span_is_space(c) || (unsigned char)c >= 0x80;
}

bool header_single_address(struct span value, struct span *address)
{
	const char *s = value.ptr;
	size_t len = value.len, i = 0;
	struct span a;
	/* Before '<' comes the display name; a ',' means a list, ':' or ';' a group. */
	bool angle = memchr(s, '<', len) != NULL, word = false;
	while (angle && i < len && s[i] != '<') {
		if (s[i] == '"') {
			skip_quoted(s, len, &i);
			word = true;
		} else if (s[i] == '(') {
			i = header_skip_cfws(s, len, i);
		} else if (!is_phrase_char(s[i]) || (s[i] == '.' && !word)) {
			return false; /* a list, a group, a stray '>' or '\\': no single address */
		} else {
			word = word || !span_is_space(s[i]);
			i++;
		}
	}
	if (angle) {
		if (i == len)
			return false;
		const char *gt = memchr(s + i, '>', len - i);
		if (gt == NULL)
			return false;
		a = span_trim(span_of(s + i + 1, (size_t)(gt - s) - i - 1));
		i = (size_t)(gt - s) + 1;
	} else {
		size_t start = header_skip_cfws(s, len, 0);
		i = start;
		while (i < len && !span_is_space(s[i]) && s[i] != '(')
			i++;
		a = span_of(s + start, i - start);
	}
	if (header_skip_cfws(s, len, i) != len || !plain_address(a))
		return false;
	*address = a;
	return true;
}
