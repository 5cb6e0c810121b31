/* libFuzzer target for the OpenPGP check: the input as an armor and as raw packets, and the
 * streaming walker fed in pieces must agree with the one-shot check. */
#include "openpgp.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool header;
	enum openpgp_status armored = openpgp_armor_check((const char *)data, size, &header);
	if (armored > OPENPGP_TRAILING_DATA)
		abort();
	enum openpgp_status whole = openpgp_packets_check(data, size);
	struct openpgp_packets p;
	openpgp_packets_init(&p);
	/* Pieces of 1, 2, 3... octets: state carried across any cut. */
	for (size_t pos = 0, piece = 1; pos < size; pos += piece, piece++)
		openpgp_packets_feed(&p, data + pos, size - pos < piece ? size - pos : piece);
	if (openpgp_packets_end(&p) != whole)
		abort();
	return 0;
}
