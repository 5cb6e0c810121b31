/* SPEC §4: which mail may leave (outgoing) or enter (incoming) the relay, decided over the
 * transaction and the message scanned once (message.h); no I/O, no logging. */
#include "policy.h"

#include <string.h>
#include <strings.h>

static struct policy_result result(enum policy_verdict verdict, const char *reason)
{
	struct policy_result r = {.verdict = verdict, .reason = reason};
	return r;
}

/* passthrough_recipients: an address, or "@domain" for every address there. */
static bool passthrough_recipient(const struct config_list *list, const char *recipient)
{
	size_t recipient_len = strlen(recipient);
	for (unsigned i = 0; i < list->count; i++) {
		size_t len;
		const char *entry = config_list_entry(list, i, &len);
		if (len == recipient_len && strncasecmp(entry, recipient, len) == 0)
			return true;
		/* "@domain": the address ends in exactly that '@' and domain */
		if (len > 1 && entry[0] == '@' && len < recipient_len &&
		    strncasecmp(entry, recipient + recipient_len - len, len) == 0)
			return true;
	}
	return false;
}

static bool all_recipients_pass(const struct config *config, const struct smtp_tx *tx)
{
	if (tx->recipient_count == 0)
		return false;
	for (size_t i = 0; i < tx->recipient_count; i++)
		if (!passthrough_recipient(&config->passthrough_recipient_list,
					   tx->recipients[i].address))
			return false;
	return true;
}

/* Autocrypt Level 1 §4.4: the key backup a client mails to itself, in the clear. */
static bool autocrypt_setup_to_self(const struct smtp_tx *tx, const struct message *m)
{
	struct span subject;
	return tx->recipient_count == 1 && strcmp(tx->recipients[0].canonical, tx->sender) == 0 &&
	       m->top.problem == NULL && header_find(m->top.header, "Subject", &subject) &&
	       header_value_is(subject, "Autocrypt Setup Message") &&
	       mime_entity_is(&m->top, "multipart", "mixed");
}

/* Both directions let encrypted mail and Secure-Join requests pass. Returns true with *r set
 * when the message is one of them. */
static bool encrypted_or_securejoin(const struct message *m, bool allow_armor_header,
				    struct policy_result *r)
{
	if (m->encryption_problem == NULL && (allow_armor_header || !m->armor_header)) {
		*r = result(POLICY_ACCEPT, "encrypted");
		r->encrypted = true;
		return true;
	}
	if (m->securejoin) {
		*r = result(POLICY_ACCEPT, "Secure-Join request");
		r->securejoin = true;
		return true;
	}
	return false;
}

static const char *unencrypted_reason(const struct message *m)
{
	return m->encryption_problem != NULL ? m->encryption_problem
					     : "armor header line in outgoing mail";
}

struct policy_result policy_outgoing(const struct config *config, const struct smtp_tx *tx,
				     const struct message *m)
{
	struct policy_result r;
	/* A header the daemons behind us read another way says nothing we could check. */
	if (m->top.problem != NULL)
		return result(POLICY_REJECT_UNENCRYPTED, m->top.problem);
	if (!m->has_from || !span_is_nocase(m->from, tx->sender) || tx->sender[0] == '\0')
		return result(POLICY_REJECT_FROM_MISMATCH,
			      "From: header is not the envelope sender");
	if (encrypted_or_securejoin(m, false, &r))
		return r;
	if (config_list_has(&config->passthrough_sender_list, tx->sender, strlen(tx->sender)))
		return result(POLICY_ACCEPT, "passthrough sender");
	if (autocrypt_setup_to_self(tx, m))
		return result(POLICY_ACCEPT, "Autocrypt Setup Message to self");
	if (all_recipients_pass(config, tx))
		return result(POLICY_ACCEPT, "passthrough recipients");
	return result(POLICY_REJECT_UNENCRYPTED, unencrypted_reason(m));
}

/* A delivery report from a mail server: all three marks together, as in the reference; an
 * MDN is multipart/report too but comes from a person. */
static bool is_bounce(const struct message *m)
{
	static const char daemon[] = "mailer-daemon@";
	struct span value;
	return m->top.problem == NULL && header_find(m->top.header, "Auto-Submitted", &value) &&
	       span_trim(value).len > 0 && !header_value_is_nocase(value, "no") &&
	       m->from.len > strlen(daemon) &&
	       span_is_nocase(span_of(m->from.ptr, strlen(daemon)), daemon) &&
	       mime_entity_is(&m->top, "multipart", "report");
}

struct policy_result policy_incoming(const struct smtp_tx *tx, const struct message *m)
{
	struct policy_result r;
	if (m->top.problem == NULL && !m->has_from)
		return result(POLICY_REJECT_NO_FROM, "no single From: address");
	/* Without a From: we can read, the sender is as good as forged. */
	bool forged = !m->has_from || !span_is_nocase(m->from, tx->mail.address);
	if (!encrypted_or_securejoin(m, true, &r)) {
		r = result(POLICY_ACCEPT, "no recipient requires encryption");
		r.bounce = is_bounce(m);
		if (r.bounce)
			r.reason = "bounce from a mailer daemon";
		else
			for (size_t i = 0; i < tx->recipient_count; i++)
				if (tx->recipients[i].enforce)
					return result(POLICY_REJECT_UNENCRYPTED,
						      unencrypted_reason(m));
	}
	r.null_sender = forged;
	return r;
}
