/* libFuzzer target for the filtermail policy: one scan, both directions, with the invariants
 * that hold whatever the input: what either side calls encrypted has a canonical header,
 * tolerating armor headers never loses a message, and whatever is encrypted is accepted by
 * both sides unless its From: is wrong. */
#include "policy.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct smtp_tx transaction(void)
{
	static const char *const rcpt[] = {"bob@example.net", "alice@chat.example.org"};
	struct smtp_tx tx;
	memset(&tx, 0, sizeof tx);
	strcpy(tx.mail.address, "alice@chat.example.org");
	tx.mail.address_len = strlen(tx.mail.address);
	strcpy(tx.sender, tx.mail.address);
	for (size_t i = 0; i < 2; i++) {
		struct smtp_path path = {0};
		strcpy(path.address, rcpt[i]);
		path.address_len = strlen(rcpt[i]);
		if (smtp_tx_add_recipient(&tx, &path) != 0)
			abort();
	}
	tx.recipients[0].enforce = true;
	return tx;
}

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
	struct smtp_tx tx = transaction();
	struct message m;
	if (message_parse((const char *)data, size, &m) != 0)
		abort();
	struct policy_result out = policy_outgoing(&config, &tx, &m);
	struct policy_result in = policy_incoming(&tx, &m);
	bool encrypted = m.encryption_problem == NULL;
	if (encrypted && m.top.problem != NULL)
		abort();
	if ((in.encrypted || in.securejoin) && (m.top.problem != NULL || !m.has_from))
		abort();
	if (!m.has_from && m.top.problem == NULL && in.verdict != POLICY_REJECT_NO_FROM)
		abort();
	if (m.has_from &&
	    (in.encrypted != encrypted || (in.encrypted && in.verdict != POLICY_ACCEPT)))
		abort();
	if (out.verdict != POLICY_REJECT_FROM_MISMATCH &&
	    out.encrypted != (encrypted && !m.armor_header))
		abort();
	if (out.reason == NULL || in.reason == NULL)
		abort();
	smtp_tx_reset(&tx);
	return 0;
}
