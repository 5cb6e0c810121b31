/* The one file of the oracle that calls our own code: when the policy's interface changes, only
 * this file changes. Everything else in tests/oracle/ reads mail without our library. */
#include "oracle.h"

#include "config.h"
#include "policy.h"

#include <stdlib.h>

#define RECIPIENT "bob@example.net"

static const struct config *oracle_config(void)
{
	static struct config config;
	static bool ready;
	static const char ini[] = "[params]\nmail_domain = chat.example.org\n";
	struct config_error error;
	if (!ready && config_parse(&config, ini, sizeof ini - 1, &error, NULL, NULL) != 0)
		abort();
	ready = true;
	return &config;
}

struct our_verdict our_policy(const char *msg, size_t len, const char *sender)
{
	const char *const recipients[] = {RECIPIENT};
	const bool enforce[] = {true}; /* the recipient has enforceE2EEincoming */
	struct envelope envelope = {sender, recipients, 1};
	struct policy_result out = policy_outgoing(oracle_config(), &envelope, msg, len);
	struct policy_result in = policy_incoming(oracle_config(), &envelope, enforce, msg, len);
	struct our_verdict verdict = {
	    out.verdict == POLICY_ACCEPT && out.encrypted,
	    in.verdict == POLICY_ACCEPT && in.encrypted,
	    out.reason,
	    in.reason,
	};
	return verdict;
}
