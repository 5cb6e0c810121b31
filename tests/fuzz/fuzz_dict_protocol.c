/* libFuzzer: a dict protocol line parses or fails; every field it yields is a NUL-terminated
 * string of its stated length inside the output buffer, and re-escaping a field and parsing
 * it again gives the field back. The key parser reads any field. */
#include "dict_protocol.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char out[DICT_LINE_MAX + DICT_FIELDS_MAX];
static char escaped[2 * DICT_LINE_MAX + 2], again_line[2 * DICT_LINE_MAX + 4];
static char again_out[2 * DICT_LINE_MAX + 4 + DICT_FIELDS_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dict_command c;
	if (size > DICT_LINE_MAX)
		return 0;
	if (dict_command_parse((const char *)data, size, out, sizeof out, &c) != 0)
		return 0;
	if (c.field_count == 0 || c.field_count > DICT_FIELDS_MAX)
		abort();
	for (unsigned i = 0; i < c.field_count; i++) {
		const char *f = c.field[i];
		if (f < out || f + c.field_len[i] >= out + sizeof out || f[c.field_len[i]] != '\0' ||
		    strlen(f) != c.field_len[i])
			abort();
		metadata_key_parse(f, c.field_len[i]);
		int n = dict_escape(f, c.field_len[i], escaped, sizeof escaped);
		if (n < 0)
			abort();
		/* "S1<TAB>k<TAB><escaped>" parses back to the field */
		memcpy(again_line, "S1\tk\t", 5);
		memcpy(again_line + 5, escaped, (size_t)n);
		struct dict_command back;
		if (dict_command_parse(again_line, (size_t)n + 5, again_out, sizeof again_out,
				       &back) != 0 ||
		    back.field_len[2] != c.field_len[i] ||
		    memcmp(back.field[2], f, c.field_len[i]) != 0)
			abort();
	}
	return 0;
}
