/* libFuzzer target for the filtermail policy: both directions over one message, with the
 * invariants that hold whatever the input: tolerating armor headers never loses a message,
 * and whatever is encrypted is accepted by both sides unless its From: is wrong. */
#include "policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config config;
	static bool ready;
	if (!ready) {
		static const char ini[] =
		    "[params]\nmail_domain = chat.example.org\n"
		    "passthrough_recipients = @example.com privacy@example.org\n";
		struct config_error error;
		if (config_parse(&config, ini, sizeof ini - 1, &error, NULL, NULL) != 0)
			abort();
		ready = true;
	}
	const char *msg = (const char *)data;
	const char *const rcpt[] = {"bob@example.net", "alice@chat.example.org"};
	const bool enforce[] = {true, false};
	struct envelope env = {"alice@chat.example.org", rcpt, 2};
	struct policy_result out = policy_outgoing(&config, &env, msg, size);
	struct policy_result in = policy_incoming(&config, &env, enforce, msg, size);
	bool strict = policy_is_encrypted(msg, size, false);
	bool tolerant = policy_is_encrypted(msg, size, true);
	if (strict && !tolerant)
		abort();
	if (in.encrypted != tolerant || (in.encrypted && in.verdict != POLICY_ACCEPT))
		abort();
	if (out.verdict != POLICY_REJECT_FROM_MISMATCH && out.encrypted != strict)
		abort();
	if (out.reason == NULL || in.reason == NULL)
		abort();
	return 0;
}
