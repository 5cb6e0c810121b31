/* SPEC §4: which mail may leave (outgoing) or enter (incoming) the relay, decided over the
 * whole message with the MIME scanner and the OpenPGP check; no I/O, no logging. */
#include "policy.h"

#include "mime.h"
#include "openpgp.h"

#include <string.h>

/* Decoded text/plain or pgp-encrypted bodies we compare hold one short line; a body that does
 * not fit here cannot match. */
#define POLICY_BODY_TEXT_MAX 1024

static struct mime_span cspan(const char *s)
{
	struct mime_span span = {s, strlen(s)};
	return span;
}

static struct policy_result result(enum policy_verdict verdict, const char *reason)
{
	struct policy_result r = {verdict, false, false, reason};
	return r;
}

/* Whether the part's body, decoded and trimmed, is one of texts (NULL-terminated). */
static bool body_is(const struct mime_entity *part, const char *const *texts, bool nocase)
{
	char buf[POLICY_BODY_TEXT_MAX];
	struct mime_span body = part->body;
	size_t len;
	if (part->encoding != MIME_ENCODING_IDENTITY) {
		if (!mime_body_decode(part, buf, sizeof buf, &len))
			return false;
		body.ptr = buf;
		body.len = len;
	}
	body = mime_trim(body);
	for (; *texts != NULL; texts++) {
		if (nocase && mime_span_is_nocase(body, *texts))
			return true;
		if (!nocase && body.len == strlen(*texts) &&
		    memcmp(body.ptr, *texts, body.len) == 0)
			return true;
	}
	return false;
}

static bool is_multipart(const struct mime_entity *e)
{
	return mime_entity_is(e, "multipart", NULL) && e->boundary.len > 0;
}

/* RFC 3156 §4 part by part: "Version: 1", then the armored message. Returns NULL when the part
 * is right, else why not. */
static const char *encrypted_part_problem(const struct mime_entity *part, unsigned index,
					  bool allow_armor_header)
{
	static const char *const version[] = {"Version: 1", NULL};
	bool armor_header;
	if (mime_entity_is(part, "multipart", NULL))
		return "multipart/encrypted holds a multipart";
	if (index == 0) {
		if (!mime_entity_is(part, "application", "pgp-encrypted") ||
		    !body_is(part, version, false))
			return "first part is not application/pgp-encrypted Version: 1";
		return NULL;
	}
	if (!mime_entity_is(part, "application", "octet-stream"))
		return "second part is not application/octet-stream";
	/* The armor is checked as it stands, like the reference: no transfer decoding. */
	enum openpgp_status status =
	    openpgp_armor_check(part->body.ptr, part->body.len, &armor_header);
	if (status != OPENPGP_OK)
		return openpgp_status_text(status);
	return allow_armor_header || !armor_header ? NULL : "armor header line in outgoing mail";
}

/* NULL when the message is encrypted as SPEC §4 says, else a short reason for the log. */
static const char *encryption_problem(const char *msg, size_t len, bool allow_armor_header)
{
	struct mime_entity top, part;
	struct mime_parts parts;
	struct mime_span raw;
	unsigned count = 0;
	const char *problem;
	mime_entity_parse(msg, len, &top);
	if (!mime_entity_is(&top, "multipart", "encrypted"))
		return "not multipart/encrypted";
	if (!is_multipart(&top))
		return "multipart/encrypted without a boundary";
	mime_parts_init(&parts, top.body, top.boundary);
	while (mime_parts_next(&parts, &raw)) {
		if (count == 2)
			return "multipart/encrypted with more than two parts";
		mime_entity_parse(raw.ptr, raw.len, &part);
		problem = encrypted_part_problem(&part, count, allow_armor_header);
		if (problem != NULL)
			return problem;
		count++;
	}
	return count == 2 ? NULL : "multipart/encrypted with fewer than two parts";
}

bool policy_is_encrypted(const char *msg, size_t len, bool allow_armor_header)
{
	return encryption_problem(msg, len, allow_armor_header) == NULL;
}

bool policy_is_securejoin(const char *msg, size_t len)
{
	static const char *const bodies[] = {"secure-join: vc-request", "secure-join: vg-request",
					     NULL};
	struct mime_entity top, part;
	struct mime_parts parts;
	struct mime_span value, raw;
	mime_entity_parse(msg, len, &top);
	if (!mime_header_find(top.header, "Secure-Join", &value) ||
	    !(mime_value_is(value, "vc-request") || mime_value_is(value, "vg-request")))
		return false;
	if (!is_multipart(&top))
		return false;
	mime_parts_init(&parts, top.body, top.boundary);
	if (!mime_parts_next(&parts, &raw))
		return false;
	mime_entity_parse(raw.ptr, raw.len, &part);
	if (mime_parts_next(&parts, &raw))
		return false;
	return mime_entity_is(&part, "text", "plain") && body_is(&part, bodies, true);
}

/* The address of the one From: field, when it holds exactly one address. */
static bool from_address(struct mime_span header, struct mime_span *address)
{
	struct mime_span value;
	return mime_header_count(header, "From") == 1 && mime_header_find(header, "From", &value) &&
	       mime_single_address(value, address);
}

static bool ends_with_nocase(const char *s, struct mime_span suffix)
{
	size_t len = strlen(s);
	return len >= suffix.len && mime_span_is_nocase(suffix, s + len - suffix.len);
}

/* An entry of passthrough_recipients: an address, or "@domain" for every address there. */
static bool passthrough_recipient(const char *list, const char *recipient)
{
	const char *p = list;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		struct mime_span entry = {p, 0};
		while (p[entry.len] != '\0' && p[entry.len] != ' ' && p[entry.len] != '\t' &&
		       p[entry.len] != ',')
			entry.len++;
		p += entry.len;
		if (entry.len == 0)
			continue;
		if (mime_span_is_nocase(entry, recipient))
			return true;
		if (entry.len > 1 && entry.ptr[0] == '@' && ends_with_nocase(recipient, entry))
			return true;
	}
	return false;
}

static bool all_recipients_pass(const struct config *config, const struct envelope *envelope)
{
	if (envelope->recipient_count == 0)
		return false;
	for (size_t i = 0; i < envelope->recipient_count; i++)
		if (!passthrough_recipient(config->passthrough_recipients, envelope->recipients[i]))
			return false;
	return true;
}

/* Autocrypt Level 1 §4.4: the key backup a client mails to itself, in the clear. */
static bool autocrypt_setup_to_self(const struct envelope *envelope, const struct mime_entity *top)
{
	struct mime_span subject;
	return envelope->recipient_count == 1 &&
	       mime_span_is_nocase(cspan(envelope->recipients[0]), envelope->from) &&
	       mime_header_find(top->header, "Subject", &subject) &&
	       mime_value_is(subject, "Autocrypt Setup Message") &&
	       mime_entity_is(top, "multipart", "mixed");
}

/* Both directions let encrypted mail and Secure-Join requests pass (problem is NULL when the
 * message is encrypted). Returns true with *r set when the message is one of them. */
static bool accept_encrypted_or_securejoin(const char *msg, size_t len, const char *problem,
					   struct policy_result *r)
{
	if (problem == NULL) {
		*r = result(POLICY_ACCEPT, "encrypted");
		r->encrypted = true;
		return true;
	}
	if (policy_is_securejoin(msg, len)) {
		*r = result(POLICY_ACCEPT, "Secure-Join request");
		r->securejoin = true;
		return true;
	}
	return false;
}

struct policy_result policy_outgoing(const struct config *config, const struct envelope *envelope,
				     const char *msg, size_t len)
{
	struct mime_entity top;
	struct mime_span from;
	struct policy_result r;
	const char *problem;
	mime_entity_parse(msg, len, &top);
	if (!from_address(top.header, &from) || !mime_span_is_nocase(from, envelope->from))
		return result(POLICY_REJECT_FROM_MISMATCH,
			      "From: header is not the envelope sender");
	problem = encryption_problem(msg, len, false);
	if (accept_encrypted_or_securejoin(msg, len, problem, &r))
		return r;
	if (config_list_contains(config->passthrough_senders, envelope->from,
				 strlen(envelope->from)))
		return result(POLICY_ACCEPT, "passthrough sender");
	if (autocrypt_setup_to_self(envelope, &top))
		return result(POLICY_ACCEPT, "Autocrypt Setup Message to self");
	if (all_recipients_pass(config, envelope))
		return result(POLICY_ACCEPT, "passthrough recipients");
	return result(POLICY_REJECT_UNENCRYPTED, problem);
}

/* A delivery report from a mail server: all three marks together, as in the reference; an
 * MDN is multipart/report too but comes from a person. */
static bool is_bounce(const struct mime_entity *top)
{
	struct mime_span value, from;
	static const char daemon[] = "mailer-daemon@";
	return mime_header_find(top->header, "Auto-Submitted", &value) &&
	       mime_trim(value).len > 0 && !mime_value_is_nocase(value, "no") &&
	       from_address(top->header, &from) && from.len > strlen(daemon) &&
	       mime_span_is_nocase((struct mime_span){from.ptr, strlen(daemon)}, daemon) &&
	       mime_entity_is(top, "multipart", "report");
}

struct policy_result policy_incoming(const struct config *config, const struct envelope *envelope,
				     const bool *enforce, const char *msg, size_t len)
{
	struct mime_entity top;
	struct policy_result r;
	const char *problem = encryption_problem(msg, len, true);
	(void)config;
	if (accept_encrypted_or_securejoin(msg, len, problem, &r))
		return r;
	mime_entity_parse(msg, len, &top);
	if (is_bounce(&top))
		return result(POLICY_ACCEPT, "bounce from a mailer daemon");
	/* Without enforce flags we cannot know: fail closed. */
	for (size_t i = 0; i < envelope->recipient_count; i++)
		if (enforce == NULL || enforce[i])
			return result(POLICY_REJECT_UNENCRYPTED, problem);
	return result(POLICY_ACCEPT, "no recipient requires encryption");
}
