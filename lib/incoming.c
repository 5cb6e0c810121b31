/* SPEC §4 incoming checks, shared by filtermail incoming and mxdeliv: the code that decides,
 * whatever carried the message in. */
#include "incoming.h"

#include "address.h"
#include "log.h"
#include "mailstore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int refuse(struct incoming_reply *reply, int code, const char *text)
{
	reply->code = code;
	if (snprintf(reply->text, sizeof reply->text, "%s", text) < 0)
		reply->text[0] = '\0';
	return -1;
}

/* A whole "554 5.7.1 ..." reply line of dkim_check. */
static int refuse_with_line(struct incoming_reply *reply, const char *line)
{
	return refuse(reply, (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'),
		      line + 4);
}

void incoming_checker_close(struct incoming_checker *checker)
{
	accounts_close(checker->accounts);
	dkim_checker_free(checker->dkim);
	checker->accounts = NULL;
	checker->dkim = NULL;
}

/* Whether addr has an account; a relay without an account database yet has none. */
static enum accounts_status account_lookup(struct incoming_checker *checker, const char *addr)
{
	char hash[PASSWD_HASH_MAX];
	int64_t last_login;

	if (checker->accounts == NULL && access(checker->config->passdb_path, F_OK) != 0 &&
	    errno == ENOENT)
		return ACCOUNTS_NOT_FOUND;
	if (checker->accounts == NULL)
		checker->accounts = accounts_open_readonly(checker->config->passdb_path);
	if (checker->accounts == NULL)
		return ACCOUNTS_ERROR;
	enum accounts_status status = accounts_get(checker->accounts, addr, hash, &last_login);
	explicit_bzero(hash, sizeof hash);
	return status;
}

/* Only our accounts, looked up by the canonical address that Postfix and Dovecot deliver to,
 * so a refusal comes before the message and never as a bounce (backscatter). */
int incoming_recipient(struct incoming_checker *checker, struct smtp_tx_recipient *r,
		       struct incoming_reply *reply)
{
	const struct config *config = checker->config;

	if (r->canonical[0] == '\0' ||
	    address_check(config, r->canonical, strlen(r->canonical)) != ADDRESS_OK) {
		log_info("Rejected recipient %s: not an address of this relay", r->address);
		return refuse(reply, SMTP_REPLY_MAILBOX_UNAVAILABLE,
			      "5.1.1 Recipient address rejected: User unknown");
	}
	switch (account_lookup(checker, r->canonical)) {
	case ACCOUNTS_OK:
		break;
	case ACCOUNTS_NOT_FOUND:
		log_info("Rejected recipient %s: no such account", r->address);
		return refuse(reply, SMTP_REPLY_MAILBOX_UNAVAILABLE,
			      "5.1.1 Recipient address rejected: User unknown");
	default:
		return refuse(reply, SMTP_REPLY_LOCAL_ERROR,
			      "4.3.0 Error: account lookup failed, try again later");
	}
	if (mailstore_enforces_e2ee(config->mailboxes_dir, r->canonical, &r->enforce) != 0) {
		log_warn("cannot tell whether %s enforces encryption: %s", r->canonical,
			 strerror(errno));
		r->enforce = true;
	}
	return 0;
}

int filter_verdict(const char *direction, const char *sender, const struct policy_result *result,
		   struct incoming_reply *reply)
{
	switch (result->verdict) {
	case POLICY_REJECT_FROM_MISMATCH:
		log_info("Rejected mail from %s: %s", sender, result->reason);
		return refuse(reply, SMTP_REPLY_SYNTAX,
			      "5.7.1 Invalid From: header, not the envelope sender");
	case POLICY_REJECT_NO_FROM:
		log_info("Rejected mail from %s: %s", sender, result->reason);
		return refuse(reply, SMTP_REPLY_FAILED,
			      "5.7.1 Invalid From: header, need exactly one address");
	case POLICY_REJECT_UNENCRYPTED:
	case POLICY_ACCEPT:
		break;
	}
	/* The reference relay counts Secure-Join requests as encrypted in its log, and bounces
	 * apart (its metrics count these lines: README "Metrics"). */
	if (result->bounce)
		log_info("%s: Filtering mailer-daemon message from %s", direction,
			 sender[0] != '\0' ? sender : "<>");
	else
		log_info("%s: Filtering %s mail.", direction,
			 result->encrypted || result->securejoin ? "encrypted" : "unencrypted");
	if (result->verdict == POLICY_REJECT_UNENCRYPTED) {
		log_info("Rejected unencrypted mail from: %s (%s)", sender, result->reason);
		return refuse(reply, SMTP_REPLY_ENCRYPTION_NEEDED,
			      "Encryption Needed: Invalid Unencrypted Mail");
	}
	return 0;
}

/* SPEC §4 incoming DKIM: one valid signature of the From: domain, after the encryption
 * verdict, for every kind of message. A From: we cannot read has no domain to align with. */
int incoming_authentic(struct incoming_checker *checker, const struct smtp_tx *tx,
		       const struct message *m, struct incoming_reply *reply)
{
	char domain[CONFIG_DOMAIN_MAX + 1];
	struct dkim_result result;
	const char *error, *skip = getenv(INCOMING_SKIP_DKIM_ENV);

	if (skip != NULL && strcmp(skip, "1") == 0) {
		log_warn("DKIM verification DISABLED by %s=1: never in production",
			 INCOMING_SKIP_DKIM_ENV);
		return 0;
	}
	const char *at = m->has_from ? memchr(m->from.ptr, '@', m->from.len) : NULL;
	if (at == NULL) {
		log_info("Rejected mail from %s: no From: domain to check DKIM against",
			 tx->mail.address);
		return refuse_with_line(reply, dkim_verdict_reply(DKIM_VERDICT_FAIL));
	}
	size_t len = m->from.len - (size_t)(at + 1 - m->from.ptr);
	/* The address comes from the header, as long as a field may be; no domain is longer. */
	if (len > CONFIG_DOMAIN_MAX) {
		log_info("Rejected mail from %s: From: domain longer than %d bytes",
			 tx->mail.address, CONFIG_DOMAIN_MAX);
		return refuse_with_line(reply, dkim_verdict_reply(DKIM_VERDICT_FAIL));
	}
	memcpy(domain, at + 1, len);
	domain[len] = '\0';
	if (dkim_domain_is_literal(domain))
		return 0;
	if (checker->dkim == NULL && (checker->dkim = dkim_checker_new(NULL, &error)) == NULL) {
		log_error("cannot verify DKIM: %s", error);
		return refuse(reply, SMTP_REPLY_LOCAL_ERROR, "4.3.0 Error: cannot verify DKIM now");
	}
	dkim_check(checker->dkim, smtp_tx_message(tx), tx->data.len, domain, &result);
	if (result.verdict == DKIM_VERDICT_PASS)
		return 0;
	log_info("Rejected mail from %s: DKIM: %s", tx->mail.address, result.reason);
	return refuse_with_line(reply, dkim_verdict_reply(result.verdict));
}

int incoming_message(struct incoming_checker *checker, const struct smtp_tx *tx,
		     bool *null_sender, struct incoming_reply *reply)
{
	const char *sender = tx->mail.address;
	struct message message;

	*null_sender = false;
	if (message_parse(smtp_tx_message(tx), tx->data.len, &message) != 0)
		return refuse(reply, SMTP_REPLY_LOCAL_ERROR,
			      "4.3.0 Error: insufficient system resources");
	struct policy_result result = policy_incoming(tx, &message);
	if (filter_verdict("Incoming", sender, &result, reply) != 0)
		return -1;
	if (incoming_authentic(checker, tx, &message, reply) != 0)
		return -1;
	if (result.null_sender)
		log_info("Envelope sender %s is not the From: address: handed on from <>",
			 sender[0] != '\0' ? sender : "<>");
	*null_sender = result.null_sender;
	return 0;
}
