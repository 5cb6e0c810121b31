/* SPEC §4 incoming DKIM: does a message carry a valid DKIM signature of its From: domain?
 * Verification is libopendkim's (OpenDKIM's library); the rules on top of it are ours. */
#ifndef CHATMAIL_DKIM_CHECK_H
#define CHATMAIL_DKIM_CHECK_H

#include <stdbool.h>
#include <stddef.h>

/* RSA keys below this many bits fail (RFC 8301 §3.2). */
#define DKIM_CHECK_RSA_MIN_BITS 1024
/* Signatures of the From: domain checked per message, beyond which they are ignored: each may
 * cost a DNS lookup, and the sender controls how many there are. */
#define DKIM_CHECK_ALIGNED_MAX 5

enum dkim_verdict {
	DKIM_VERDICT_PASS,     /* a valid signature with d= the From: domain */
	DKIM_VERDICT_NONE,     /* no DKIM-Signature field at all */
	DKIM_VERDICT_FAIL,     /* signatures, none of them valid and aligned */
	DKIM_VERDICT_TEMPFAIL, /* none valid yet, a key lookup failed for now (SERVFAIL, timeout) */
};

/* Where public keys come from. All NULL/0: the system resolver (/etc/resolv.conf). */
struct dkim_options {
	/* libopendkim's test format: "sel._domainkey.dom v=DKIM1; ..." lines (the fuzzer) */
	const char *key_file;
	/* "IPv4:port": this one server instead of resolv.conf's (tests) */
	const char *nameserver;
	/* seconds per lookup, one try; 0: resolv.conf's timeout and attempts */
	unsigned dns_timeout;
};

/* libopendkim's library handle with the options applied: make one per process, reuse it for
 * every message. */
struct dkim_checker;

struct dkim_result {
	enum dkim_verdict verdict;
	char reason[256]; /* one line for the log: which signature, and why it passed or failed */
};

/* opts NULL: the system resolver. NULL when libopendkim cannot be set up (out of memory, an
 * unusable option); *error says why. */
struct dkim_checker *dkim_checker_new(const struct dkim_options *opts, const char **error);
void dkim_checker_free(struct dkim_checker *checker);

/* Checks msg[0..len), the message as received (dot-stuffing undone, CRLF line ends), against
 * from_domain, the domain of its From: address. Blocks while it looks keys up. */
void dkim_check(struct dkim_checker *checker, const char *msg, size_t len, const char *from_domain,
		struct dkim_result *result);

/* The SMTP reply for a verdict other than PASS (NULL for PASS): the reference's wording. */
const char *dkim_verdict_reply(enum dkim_verdict verdict);

/* Whether a From: domain is an address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]"). Such
 * senders have no DNS, so the caller exempts them from the check, as the reference does. */
bool dkim_domain_is_literal(const char *domain);

#endif
