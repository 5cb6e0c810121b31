/* Dovecot's dict protocol, the server's side: command lines and METADATA keys, pure functions. */
#include "dict_protocol.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Dovecot's tab-escaping: \001 then '0' NUL, '1' \001, 't' TAB, 'r' CR, 'n' LF; any other
 * character stands for itself. A NUL is refused: our fields are C strings. */
#define DICT_ESCAPE '\001'

static int unescape_char(char c, char *out)
{
	switch (c) {
	case '1': *out = DICT_ESCAPE; return 0;
	case 't': *out = '\t'; return 0;
	case 'r': *out = '\r'; return 0;
	case 'n': *out = '\n'; return 0;
	case '0':
	case '\0': return -1;
	default: *out = c; return 0;
	}
}

/* The fields each command needs at least. */
static int fields_needed(char name)
{
	switch (name) {
	case DICT_HELLO: return 5;
	case DICT_LOOKUP: return 1;
	case DICT_ITERATE: return 3;
	case DICT_BEGIN:
	case DICT_COMMIT:
	case DICT_COMMIT_ASYNC:
	case DICT_ROLLBACK: return 1;
	case DICT_SET: return 3;
	case DICT_UNSET:
	case DICT_HIDE_LOG_VALUES: return 2;
	case DICT_ATOMIC_INC:
	case DICT_TIMESTAMP: return 3;
	default: return -1;
	}
}

int dict_command_parse(const char *line, size_t len, char *out, size_t size,
		       struct dict_command *command)
{
	if (len == 0 || len > DICT_LINE_MAX || size < len + DICT_FIELDS_MAX)
		return -1;
	int needed = fields_needed(line[0]);
	if (needed < 0)
		return -1;
	command->name = line[0];
	command->field_count = 0;
	size_t used = 0, start = 0;
	for (size_t i = 1; i <= len; i++) {
		if (i == len || line[i] == '\t') {
			if (command->field_count == DICT_FIELDS_MAX)
				return -1;
			out[used] = '\0';
			command->field[command->field_count] = out + start;
			command->field_len[command->field_count] = used - start;
			command->field_count++;
			start = ++used;
			continue;
		}
		char c = line[i];
		if (c == '\0')
			return -1;
		if (c == DICT_ESCAPE) {
			if (++i == len || unescape_char(line[i], &c) != 0)
				return -1;
		}
		out[used++] = c;
	}
	return command->field_count >= (unsigned)needed ? 0 : -1;
}

int dict_escape(const char *in, size_t len, char *out, size_t size)
{
	size_t used = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i], escaped = 0;
		switch (c) {
		case '\0': escaped = '0'; break;
		case DICT_ESCAPE: escaped = '1'; break;
		case '\t': escaped = 't'; break;
		case '\r': escaped = 'r'; break;
		case '\n': escaped = 'n'; break;
		}
		if (used + (escaped != 0 ? 2 : 1) >= size)
			return -1;
		if (escaped != 0) {
			out[used++] = DICT_ESCAPE;
			c = escaped;
		}
		out[used++] = c;
	}
	if (size == 0 || used > (size_t)INT32_MAX)
		return -1;
	out[used] = '\0';
	return (int)used;
}

static bool has_prefix(const char **key, size_t *len, const char *prefix)
{
	size_t n = strlen(prefix);
	if (*len < n || memcmp(*key, prefix, n) != 0)
		return false;
	*key += n;
	*len -= n;
	return true;
}

static bool is(const char *key, size_t len, const char *name)
{
	return len == strlen(name) && memcmp(key, name, len) == 0;
}

/* Skips "<mailbox guid>/": hex digits, as Dovecot writes a GUID. */
static bool skip_guid(const char **key, size_t *len)
{
	size_t n = 0;
	while (n < *len && (((*key)[n] >= '0' && (*key)[n] <= '9') ||
			    ((*key)[n] >= 'a' && (*key)[n] <= 'f')))
		n++;
	if (n == 0 || n == *len || (*key)[n] != '/')
		return false;
	*key += n + 1;
	*len -= n + 1;
	return true;
}

enum metadata_key metadata_key_parse(const char *key, size_t len)
{
	if (has_prefix(&key, &len, "priv/")) {
		if (!skip_guid(&key, &len))
			return METADATA_OTHER;
		if (is(key, len, "devicetoken"))
			return METADATA_DEVICETOKEN;
		if (is(key, len, "messagenew"))
			return METADATA_MESSAGENEW;
		return METADATA_OTHER;
	}
	if (!has_prefix(&key, &len, "shared/") || !skip_guid(&key, &len) ||
	    !has_prefix(&key, &len, "vendor/vendor.dovecot/pvt/server/"))
		return METADATA_OTHER;
	if (!has_prefix(&key, &len, "vendor/deltachat/"))
		return METADATA_OTHER;
	if (is(key, len, "turn"))
		return METADATA_TURN;
	if (is(key, len, "irohrelay"))
		return METADATA_IROHRELAY;
	if (is(key, len, "maxsmtprecipients"))
		return METADATA_MAXSMTPRECIPIENTS;
	if (is(key, len, "appversions"))
		return METADATA_APPVERSIONS;
	return METADATA_OTHER;
}
