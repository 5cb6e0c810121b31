/* SMTP lines, commands, paths, XFORWARD attributes, reply lines and dot-stuffing. */
#include "smtp.h"

#include <string.h>
#include <strings.h>

const char *const smtp_xforward_names[SMTP_XFORWARD_COUNT] = {
    "NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE",
};

enum smtp_line_status smtp_line_find(const char *buf, size_t len, size_t max, size_t *line_len,
				     size_t *consumed)
{
	size_t limit = len < max ? len : max;
	const char *lf = memchr(buf, '\n', limit);

	if (lf == NULL) {
		if (len < max)
			return SMTP_LINE_MORE;
		*consumed = max;
		return SMTP_LINE_TOO_LONG;
	}
	size_t end = (size_t)(lf - buf);
	bool crlf = end > 0 && buf[end - 1] == '\r';
	*consumed = end + 1;
	*line_len = crlf ? end - 1 : end;
	if (memchr(buf, '\0', *line_len) != NULL)
		return SMTP_LINE_NUL;
	return crlf ? SMTP_LINE_OK : SMTP_LINE_BARE_LF;
}

static const struct {
	const char *name;
	enum smtp_verb verb;
} verbs[] = {
    {"EHLO", SMTP_VERB_EHLO}, {"HELO", SMTP_VERB_HELO}, {"MAIL", SMTP_VERB_MAIL},
    {"RCPT", SMTP_VERB_RCPT}, {"DATA", SMTP_VERB_DATA}, {"RSET", SMTP_VERB_RSET},
    {"NOOP", SMTP_VERB_NOOP}, {"QUIT", SMTP_VERB_QUIT}, {"XFORWARD", SMTP_VERB_XFORWARD},
    {"VRFY", SMTP_VERB_VRFY}, {"HELP", SMTP_VERB_HELP},
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

void smtp_command_parse(const char *line, size_t len, struct smtp_command *command)
{
	size_t verb_len = 0;

	while (verb_len < len && !is_space(line[verb_len]))
		verb_len++;
	command->verb = SMTP_VERB_UNKNOWN;
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strlen(verbs[i].name) == verb_len &&
		    strncasecmp(verbs[i].name, line, verb_len) == 0)
			command->verb = verbs[i].verb;
	size_t start = verb_len, end = len;
	while (start < end && is_space(line[start]))
		start++;
	while (end > start && is_space(line[end - 1]))
		end--;
	command->arg = line + start;
	command->arg_len = end - start;
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* The end of a <path> starting at arg[start] == '<': the index of its '>', or 0 when the
 * path is malformed (an unquoted space, '<' or control, or no '>'). */
static size_t path_end(const char *arg, size_t len, size_t start)
{
	bool quoted = false;

	for (size_t i = start + 1; i < len; i++) {
		unsigned char c = (unsigned char)arg[i];
		if (is_control(c))
			return 0;
		if (quoted) {
			if (c == '\\') {
				if (++i >= len || is_control((unsigned char)arg[i]))
					return 0;
			} else if (c == '"') {
				quoted = false;
			}
		} else if (c == '"') {
			quoted = true;
		} else if (c == '>') {
			return i;
		} else if (c == '<' || c == ' ' || c == '\t') {
			return 0;
		}
	}
	return 0;
}

static bool is_keyword_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

static bool word_is(const char *word, size_t len, const char *expected)
{
	return strlen(expected) == len && strncasecmp(word, expected, len) == 0;
}

static enum smtp_path_status parse_size(const char *value, size_t len, struct smtp_path *path)
{
	uint64_t size = 0;

	if (len == 0 || len > 20)
		return SMTP_PATH_PARAMETER;
	for (size_t i = 0; i < len; i++) {
		if (value[i] < '0' || value[i] > '9')
			return SMTP_PATH_PARAMETER;
		unsigned digit = (unsigned)(value[i] - '0');
		if (size > (UINT64_MAX - digit) / 10)
			return SMTP_PATH_PARAMETER;
		size = size * 10 + digit;
	}
	path->has_size = true;
	path->size = size;
	return SMTP_PATH_OK;
}

/* One "KEYWORD[=value]" parameter; only MAIL's SIZE, BODY and SMTPUTF8 change anything. */
static enum smtp_path_status parse_parameter(const char *p, size_t len, bool mail,
					     struct smtp_path *path)
{
	size_t key_len = 0;

	while (key_len < len && is_keyword_char(p[key_len]))
		key_len++;
	if (key_len == 0 || p[0] == '-' || (key_len < len && p[key_len] != '='))
		return SMTP_PATH_SYNTAX;
	const char *value = key_len < len ? p + key_len + 1 : NULL;
	size_t value_len = value != NULL ? len - key_len - 1 : 0;
	for (size_t i = 0; i < value_len; i++)
		if (is_control((unsigned char)value[i]) || value[i] == '=')
			return SMTP_PATH_SYNTAX;
	if (!mail)
		return SMTP_PATH_OK;
	if (word_is(p, key_len, "SIZE"))
		return parse_size(value, value_len, path);
	if (word_is(p, key_len, "BODY")) {
		if (value != NULL && word_is(value, value_len, "8BITMIME"))
			path->body_8bit = true;
		else if (value != NULL && word_is(value, value_len, "7BIT"))
			path->body_8bit = false;
		else
			return SMTP_PATH_PARAMETER;
	} else if (word_is(p, key_len, "SMTPUTF8")) {
		if (value != NULL)
			return SMTP_PATH_SYNTAX;
		path->smtputf8 = true;
	}
	return SMTP_PATH_OK;
}

static enum smtp_path_status parse_parameters(const char *p, size_t len, bool mail,
					      struct smtp_path *path)
{
	size_t i = 0;

	while (i < len) {
		while (i < len && is_space(p[i]))
			i++;
		size_t start = i;
		while (i < len && !is_space(p[i]))
			i++;
		if (i > start) {
			enum smtp_path_status status =
			    parse_parameter(p + start, i - start, mail, path);
			if (status != SMTP_PATH_OK)
				return status;
		}
	}
	return SMTP_PATH_OK;
}

static enum smtp_path_status parse_path(const char *arg, size_t len, const char *keyword, bool mail,
					struct smtp_path *path)
{
	size_t keyword_len = strlen(keyword), start, end, next;

	memset(path, 0, sizeof *path);
	if (len < keyword_len || strncasecmp(arg, keyword, keyword_len) != 0)
		return SMTP_PATH_SYNTAX;
	start = keyword_len;
	while (start < len && is_space(arg[start]))
		start++;
	if (start < len && arg[start] == '<') {
		end = path_end(arg, len, start);
		if (end == 0)
			return SMTP_PATH_SYNTAX;
		next = end + 1;
		start++;
		if (next < len && !is_space(arg[next]))
			return SMTP_PATH_SYNTAX;
	} else {
		/* A bare address, as Postfix takes it unless strict_rfc821_envelopes is set. */
		end = start;
		while (end < len && !is_space(arg[end])) {
			unsigned char c = (unsigned char)arg[end];
			if (is_control(c) || c == '<' || c == '>')
				return SMTP_PATH_SYNTAX;
			end++;
		}
		if (end == start)
			return SMTP_PATH_SYNTAX;
		next = end;
	}
	/* An RFC 5321 source route ("@a,@b:user@c") is accepted and ignored. */
	if (start < end && arg[start] == '@') {
		const char *colon = memchr(arg + start, ':', end - start);
		if (colon == NULL)
			return SMTP_PATH_SYNTAX;
		start = (size_t)(colon - arg) + 1;
	}
	if (end - start > SMTP_ADDRESS_MAX)
		return SMTP_PATH_TOO_LONG;
	memcpy(path->address, arg + start, end - start);
	path->address[end - start] = '\0';
	path->address_len = end - start;
	if (!mail && path->address_len == 0)
		return SMTP_PATH_SYNTAX;
	return parse_parameters(arg + next, len - next, mail, path);
}

enum smtp_path_status smtp_parse_mail(const char *arg, size_t len, struct smtp_path *path)
{
	return parse_path(arg, len, "FROM:", true, path);
}

enum smtp_path_status smtp_parse_rcpt(const char *arg, size_t len, struct smtp_path *path)
{
	return parse_path(arg, len, "TO:", false, path);
}

static bool is_hex_upper(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* RFC 3461 xtext: printable ASCII but '=' and space, with "+XX" escapes. */
static bool is_xtext(const char *value, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c <= ' ' || c >= 0x7f || c == '=')
			return false;
		if (c == '+') {
			if (i + 2 >= len || !is_hex_upper(value[i + 1]) ||
			    !is_hex_upper(value[i + 2]))
				return false;
			i += 2;
		}
	}
	return true;
}

/* A value cut to max bytes, never inside a "+XX" escape: XFORWARD only informs the logs
 * downstream, so a long one (a 300-byte HELO) is shortened, never a reason to fail. */
static size_t xtext_truncate(const char *value, size_t len, size_t max)
{
	if (len <= max)
		return len;
	/* Every '+' in xtext starts a three-byte escape: hex digits are never '+'. */
	if (value[max - 1] == '+')
		return max - 1;
	if (max >= 2 && value[max - 2] == '+')
		return max - 2;
	return max;
}

int smtp_parse_xforward(const char *arg, size_t len, struct smtp_xforward *xforward)
{
	struct smtp_xforward parsed = *xforward;
	size_t i = 0, attributes = 0;

	while (i < len) {
		while (i < len && is_space(arg[i]))
			i++;
		size_t start = i;
		while (i < len && !is_space(arg[i]))
			i++;
		if (i == start)
			break;
		const char *equals = memchr(arg + start, '=', i - start);
		if (equals == NULL)
			return -1;
		size_t name_len = (size_t)(equals - (arg + start));
		size_t value_len = i - start - name_len - 1;
		int found = -1;
		for (int a = 0; a < SMTP_XFORWARD_COUNT; a++)
			if (word_is(arg + start, name_len, smtp_xforward_names[a]))
				found = a;
		if (found < 0 || value_len == 0 || !is_xtext(equals + 1, value_len))
			return -1;
		value_len = xtext_truncate(equals + 1, value_len, SMTP_XFORWARD_VALUE_MAX);
		memcpy(parsed.value[found], equals + 1, value_len);
		parsed.value[found][value_len] = '\0';
		parsed.present[found] = true;
		attributes++;
	}
	if (attributes == 0)
		return -1;
	*xforward = parsed;
	return 0;
}

int smtp_reply_parse(const char *line, size_t len, struct smtp_reply_line *reply)
{
	if (len < 3)
		return -1;
	for (size_t i = 0; i < 3; i++)
		if (line[i] < '0' || line[i] > '9')
			return -1;
	int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (code < 200 || code > 599)
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	reply->code = code;
	reply->more = len > 3 && line[3] == '-';
	reply->text = len > 3 ? line + 4 : line + 3;
	reply->text_len = len > 3 ? len - 4 : 0;
	return 0;
}

bool smtp_ehlo_keyword(const char *text, size_t len, const char *keyword, const char **params,
		       size_t *params_len)
{
	size_t word = 0;

	while (word < len && !is_space(text[word]))
		word++;
	if (!word_is(text, word, keyword))
		return false;
	while (word < len && is_space(text[word]))
		word++;
	*params = text + word;
	*params_len = len - word;
	return true;
}

void smtp_stuffer_init(struct smtp_stuffer *stuffer)
{
	stuffer->line_start = true;
}

size_t smtp_stuff(struct smtp_stuffer *stuffer, const char *in, size_t in_len, char *out,
		  size_t out_size, size_t *consumed)
{
	size_t read = 0, written = 0;

	while (read < in_len && written < out_size) {
		if (stuffer->line_start && in[read] == '.') {
			if (out_size - written < 2)
				break;
			out[written++] = '.';
		}
		size_t run = in_len - read;
		if (run > out_size - written)
			run = out_size - written;
		const char *lf = memchr(in + read, '\n', run);
		if (lf != NULL)
			run = (size_t)(lf - (in + read)) + 1;
		memcpy(out + written, in + read, run);
		written += run;
		read += run;
		stuffer->line_start = lf != NULL;
	}
	*consumed = read;
	return written;
}

size_t smtp_reply_format(char *out, size_t size, int code, bool more, const char *text,
			 size_t text_len)
{
	if (code < 200 || code > 599 || size < text_len + 7)
		return 0;
	out[0] = (char)('0' + code / 100);
	out[1] = (char)('0' + code / 10 % 10);
	out[2] = (char)('0' + code % 10);
	out[3] = more ? '-' : ' ';
	for (size_t i = 0; i < text_len; i++) {
		unsigned char c = (unsigned char)text[i];
		out[4 + i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[4 + text_len] = '\r';
	out[5 + text_len] = '\n';
	out[6 + text_len] = '\0';
	return text_len + 6;
}
