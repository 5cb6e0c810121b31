/* libFuzzer target for the differential oracle (tests/oracle/): whatever our policy accepts as
 * encrypted, GMime and the Postfix-style reading of the header must see as RFC 3156 PGP/MIME
 * from the sender too. Any disagreement is a crash, with the reason on stderr. */
#include "oracle.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t limit;
	static struct oracle_report report;
	if (limit == 0)
		limit = postfix_header_size_limit();
	if (!oracle_check((const char *)data, size, "alice@chat.example.org", limit, &report)) {
		fprintf(stderr, "oracle: our policy accepts it as encrypted (%s), but %s\n",
			oracle_directions(report.verdict), report.why);
		abort();
	}
	return 0;
}
