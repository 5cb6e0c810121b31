/* libFuzzer: the quota plan removes only the oldest mails not spared, stopping at the
 * target. */
#include "expire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each 9 bytes of input make one mail: an mtime byte and a size of 8 bytes. */
static void check_plan(const uint8_t *data, size_t size)
{
	struct quota_mail mails[64];
	size_t count = 0;
	uint64_t target = 0, remaining, total = 0;
	if (size < 9)
		return;
	memcpy(&target, data, 8);
	int64_t spare_from = data[8];
	for (size_t at = 9; at + 9 <= size && count < 64; at += 9, count++) {
		uint64_t mail_size;
		memcpy(&mail_size, data + at + 1, 8);
		mail_size >>= 8; /* realistic sizes: no sum overflows */
		mails[count] = (struct quota_mail){data[at], mail_size, count, false};
		total += mail_size;
	}
	size_t marked = expire_quota_plan(mails, count, target, spare_from, &remaining);
	uint64_t kept = 0;
	size_t seen = 0;
	for (size_t i = 0; i < count; i++) {
		if (i > 0 &&
		    (mails[i - 1].mtime > mails[i].mtime ||
		     (mails[i - 1].mtime == mails[i].mtime && mails[i - 1].id > mails[i].id)))
			abort(); /* oldest first */
		if (mails[i].remove) {
			if (i != seen++ || mails[i].mtime >= spare_from)
				abort(); /* a prefix, never spared mails */
		} else {
			kept += mails[i].size;
		}
	}
	if (seen != marked || kept != remaining || kept > total)
		abort();
	/* it stops as soon as the rest fits: the last removed was still needed */
	if (marked > 0 && remaining + mails[marked - 1].size <= target)
		abort();
	/* and it goes on while it may */
	if (remaining > target && marked < count && mails[marked].mtime < spare_from)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_plan(data, size);
	return 0;
}
