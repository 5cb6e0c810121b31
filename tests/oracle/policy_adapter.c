/* The one file of the oracle that calls our own code: when the policy's interface changes, only
 * this file changes. Everything else in tests/oracle/ reads mail without our library. */
#include "oracle.h"

#include "config.h"
#include "header.h"
#include "message.h"
#include "policy.h"
#include "smtp_tx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* MAIL FROM:<sender> RCPT TO:<bob>, who has enforceE2EEincoming, as filtermail builds it. */
static struct smtp_tx transaction(const char *sender)
{
	struct smtp_tx tx;
	struct smtp_path path = {0};
	memset(&tx, 0, sizeof tx);
	snprintf(tx.mail.address, sizeof tx.mail.address, "%s", sender);
	tx.mail.address_len = strlen(tx.mail.address);
	snprintf(tx.sender, sizeof tx.sender, "%s", sender);
	snprintf(path.address, sizeof path.address, "%s", RECIPIENT);
	path.address_len = strlen(path.address);
	if (smtp_tx_add_recipient(&tx, &path) != 0)
		abort();
	tx.recipients[0].enforce = true;
	return tx;
}

struct our_verdict our_policy(const char *msg, size_t len, const char *sender)
{
	struct smtp_tx tx = transaction(sender);
	struct message m;
	if (message_parse(msg, len, &m) != 0)
		abort();
	struct policy_result out = policy_outgoing(oracle_config(), &tx, &m);
	struct policy_result in = policy_incoming(&tx, &m);
	smtp_tx_reset(&tx);
	struct our_verdict verdict = {
	    out.verdict == POLICY_ACCEPT && out.encrypted,
	    in.verdict == POLICY_ACCEPT && in.encrypted,
	    out.reason,
	    in.reason,
	};
	return verdict;
}

size_t our_header_size_limit(void)
{
	return HEADER_FIELD_MAX;
}
