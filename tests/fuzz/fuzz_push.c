/* libFuzzer: the push parsers on any text. A token file keeps only valid tokens and formats to
 * a text that parses to the same tokens; a queue item that parses formats back to the same
 * bytes; json_compact's output is JSON again and compacts to itself. */
#include "devicetokens.h"
#include "jsoncheck.h"
#include "pushqueue.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct devicetokens tokens, back;
static char text[DEVICETOKENS_FILE_MAX + 1];
static char compact[70000], compact_again[70000];

static void tokens_round_trip(const char *data, size_t size)
{
	const int64_t now = 1800000000;
	devicetokens_parse(data, size, now, &tokens);
	for (unsigned i = 0; i < tokens.count; i++)
		if (!devicetoken_valid(tokens.token[i], tokens.length[i]))
			abort();
	long len = devicetokens_format(&tokens, text, sizeof text);
	if (len < 0)
		abort();
	devicetokens_parse(text, (size_t)len, now, &back);
	if (back.count != tokens.count)
		abort();
}

static void item_round_trip(const char *data, size_t size)
{
	struct push_item item;
	char out[PUSHQUEUE_ITEM_MAX];
	if (push_item_parse(data, size, &item) != 0)
		return;
	long len = push_item_format(&item, out, sizeof out);
	if (len < 0 || (size_t)len != size || memcmp(out, data, size) != 0)
		abort();
}

/* every token of a delivery's item is valid, and the walk ends */
static void batch_walk(const char *data, size_t size)
{
	struct push_item item;
	size_t at;
	if (push_batch_parse(data, size, &item, &at) != 0)
		return;
	unsigned count = 1;
	int next;
	while ((next = push_batch_next(data, size, &at, &item)) == 1) {
		if (!devicetoken_valid(item.token, strlen(item.token)) || ++count > size)
			abort();
	}
	if (next == 0 && at != size)
		abort();
}

static void json_round_trip(const char *data, size_t size)
{
	long len = json_compact(data, size, compact, sizeof compact);
	if (len < 0)
		return;
	long again = json_compact(compact, (size_t)len, compact_again, sizeof compact_again);
	if (again != len || memcmp(compact, compact_again, (size_t)len) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	tokens_round_trip((const char *)data, size);
	item_round_trip((const char *)data, size);
	batch_walk((const char *)data, size);
	json_round_trip((const char *)data, size);
	return 0;
}
