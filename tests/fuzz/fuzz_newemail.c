/* libFuzzer target for the /new answer path: the JSON writer and the URL encoder must give
 * back exactly what went in (invalid UTF-8 as U+FFFD), stay in their buffers, and the request
 * classifier must take any CGI variables. */
#include "json.h"
#include "newemail.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT -1

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	abort();
}

/* Decodes the JSON string of {"k": "..."}\n back to bytes (REPLACEMENT for \ufffd). */
static size_t json_decode(const char *text, size_t len, int *out)
{
	const char *prefix = "{\"k\": \"", *suffix = "\"}\n";
	size_t n = 0, end = len - strlen(suffix);
	if (len < strlen(prefix) + strlen(suffix) || memcmp(text, prefix, strlen(prefix)) != 0 ||
	    strcmp(text + end, suffix) != 0)
		abort();
	for (size_t i = strlen(prefix); i < end;) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 || c == '"')
			abort(); /* never raw in a JSON string */
		if (c != '\\') {
			out[n++] = c;
			i++;
		} else if (text[i + 1] == '"' || text[i + 1] == '\\') {
			out[n++] = (unsigned char)text[i + 1];
			i += 2;
		} else if (strncmp(text + i, "\\ufffd", 6) == 0) {
			out[n++] = REPLACEMENT;
			i += 6;
		} else if (strncmp(text + i, "\\u00", 4) == 0 && i + 6 <= end) {
			out[n++] = hex_value(text[i + 4]) * 16 + hex_value(text[i + 5]);
			i += 6;
		} else {
			abort();
		}
	}
	return n;
}

static void check_json(const uint8_t *data, size_t size)
{
	char *out = malloc(6 * size + 16);
	int *decoded = malloc((6 * size + 16) * sizeof *decoded);
	struct json_writer writer;
	if (out == NULL || decoded == NULL)
		abort();
	json_begin(&writer, out, 6 * size + 16);
	json_member(&writer, "k", (const char *)data, size);
	size_t len = json_end(&writer);
	if (len == 0 || strlen(out) != len)
		abort();
	size_t n = json_decode(out, len, decoded), j = 0;
	for (size_t i = 0; i < size; i++, j++) {
		if (j >= n)
			abort();
		if (decoded[j] == REPLACEMENT ? data[i] < 0x80 : decoded[j] != data[i])
			abort();
	}
	if (j != n)
		abort();
	/* The same text in a buffer one byte too small does not fit, and says so. */
	json_begin(&writer, out, len);
	json_member(&writer, "k", (const char *)data, size);
	if (json_end(&writer) != 0 || out[0] != '\0')
		abort();
	free(decoded);
	free(out);
}

static void check_url(const uint8_t *data, size_t size)
{
	char *out = malloc(3 * size + 1);
	if (out == NULL)
		abort();
	size_t len = newemail_url_encode(out, 3 * size + 1, (const char *)data, size, "@");
	if (size > 0 && len == 0)
		abort();
	size_t j = 0;
	for (size_t i = 0; i < len; j++) {
		if (out[i] == '%') {
			if (hex_value(out[i + 1]) * 16 + hex_value(out[i + 2]) != data[j])
				abort();
			i += 3;
		} else if (strchr("&?#+=%/ ", out[i]) != NULL || out[i] != (char)data[j]) {
			abort();
		} else {
			i++;
		}
	}
	if (j != size)
		abort();
	free(out);
}

static void check_classify(const uint8_t *data, size_t size)
{
	/* method NUL query NUL content_length, each absent when the input ends first */
	char *copy = malloc(size + 1);
	const char *field[3] = {NULL, NULL, NULL};
	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0, start = 0, f = 0; i <= size && f < 3; i++)
		if (i == size || copy[i] == '\0') {
			field[f++] = copy + start;
			start = i + 1;
		}
	struct newemail_request request = {field[0], field[1], field[2]};
	enum newemail_action action = newemail_classify(&request);
	if (action == NEWEMAIL_CREATE && strcmp(field[0], "POST") != 0)
		abort();
	if (newemail_action_text(action)[0] == '\0')
		abort();
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_json(data, size);
	check_url(data, size);
	check_classify(data, size);
	return 0;
}
