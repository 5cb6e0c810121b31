/* Incoming DKIM over libopendkim: it parses signatures, fetches keys and checks the crypto;
 * here are the rules on top of it (alignment with From:, algorithms, no l=) and the verdict. */
#include "dkim_check.h"

#include "dkim_resolver.h"
#include "header.h"

#include <opendkim/dkim.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct dkim_checker {
	DKIM_LIB *lib;
};

/* What the prescreen callback needs from the message being checked. */
struct check_context {
	const char *from_domain;
};

static dkim_alg_t algorithm(DKIM_SIGINFO *sig)
{
	dkim_alg_t alg = DKIM_SIGN_UNKNOWN;
	return dkim_sig_getsignalg(sig, &alg) == DKIM_STAT_OK ? alg : DKIM_SIGN_UNKNOWN;
}

/* Our rules that need no key: why the signature can never pass for from_domain, or NULL. */
static const char *rule_problem(DKIM_SIGINFO *sig, const char *from_domain)
{
	DKIM_SIGERROR error = dkim_sig_geterror(sig);
	const unsigned char *domain = dkim_sig_getdomain(sig);
	if (error != DKIM_SIGERROR_UNKNOWN && error != DKIM_SIGERROR_OK)
		return dkim_sig_geterrorstr(error); /* a syntax error, expired, ... */
	if (domain == NULL || strcasecmp((const char *)domain, from_domain) != 0)
		return "d= is not the From: domain";
	switch (algorithm(sig)) {
	case DKIM_SIGN_RSASHA256:
	case DKIM_SIGN_ED25519SHA256:
		break;
	case DKIM_SIGN_RSASHA1:
		return "rsa-sha1 is not accepted (RFC 8301)";
	default:
		return "unknown algorithm";
	}
	if (!dkim_sig_hdrsigned(sig, (unsigned char *)"from"))
		return "From: is not signed";
	/* l= signs only the start of the body: anyone may append to it (RFC 6376 §8.2). */
	if (dkim_sig_gettagvalue(sig, false, (unsigned char *)"l") != NULL)
		return "l= is not accepted";
	return NULL;
}

/* Called once the header is read, before any key lookup: signatures that cannot pass cost no
 * DNS query, and only DKIM_CHECK_ALIGNED_MAX may cost one. */
static DKIM_CBSTAT prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
	const struct check_context *context = dkim_get_user_context(dkim);
	int candidates = 0;
	for (int i = 0; i < nsigs; i++) {
		if (rule_problem(sigs[i], context->from_domain) != NULL ||
		    ++candidates > DKIM_CHECK_ALIGNED_MAX)
			dkim_sig_ignore(sigs[i]);
	}
	return DKIM_CBSTAT_CONTINUE;
}

/* After verification: why a signature did not pass, or NULL. *temporary when it may pass later
 * (the key lookup failed for now). The prescreen ignored those that broke a rule. */
static const char *verify_problem(DKIM_SIGINFO *sig, const char *from_domain, bool *temporary)
{
	unsigned flags = dkim_sig_getflags(sig);
	DKIM_SIGERROR error = dkim_sig_geterror(sig);
	unsigned bits = 0;
	*temporary = false;
	if ((flags & DKIM_SIGFLAG_IGNORE) != 0) {
		const char *why = rule_problem(sig, from_domain);
		return why != NULL ? why : "too many signatures of the From: domain";
	}
	if (error == DKIM_SIGERROR_KEYFAIL) {
		*temporary = true;
		return "key lookup failed for now (DNS)";
	}
	if (error == DKIM_SIGERROR_NOKEY)
		return "no key in DNS";
	if ((flags & DKIM_SIGFLAG_PASSED) != 0 && dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH)
		return "body hash does not match";
	if (error != DKIM_SIGERROR_OK && error != DKIM_SIGERROR_UNKNOWN)
		return dkim_sig_geterrorstr(error);
	if ((flags & DKIM_SIGFLAG_PASSED) == 0 || dkim_sig_getbh(sig) != DKIM_SIGBH_MATCH)
		return "signature does not verify";
	if (algorithm(sig) != DKIM_SIGN_ED25519SHA256 &&
	    (dkim_sig_getkeysize(sig, &bits) != DKIM_STAT_OK || bits < DKIM_CHECK_RSA_MIN_BITS))
		return "key too small";
	return NULL;
}

static void set_result(struct dkim_result *result, enum dkim_verdict verdict, DKIM_SIGINFO *sig,
		       const char *text)
{
	const unsigned char *domain = sig != NULL ? dkim_sig_getdomain(sig) : NULL;
	const unsigned char *selector = sig != NULL ? dkim_sig_getselector(sig) : NULL;
	result->verdict = verdict;
	if (sig == NULL)
		snprintf(result->reason, sizeof result->reason, "%s", text);
	else
		snprintf(result->reason, sizeof result->reason, "d=%s s=%s: %s",
			 domain != NULL ? (const char *)domain : "?",
			 selector != NULL ? (const char *)selector : "?", text);
	/* One printable line for the log whatever the sender wrote (libopendkim refuses control
	 * bytes in tag values today; its error texts are not ours). */
	for (char *c = result->reason; *c != '\0'; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
}

/* dkim-quoted-printable, folding whitespace aside: each '=' followed by two of 0-9A-F. */
static bool is_quoted_printable(const char *p, const char *end)
{
	unsigned hex_wanted = 0;
	for (; p < end; p++) {
		if (span_is_space(*p))
			continue;
		if (hex_wanted > 0) {
			if (*p == '\0' || strchr("0123456789ABCDEF", *p) == NULL)
				return false;
			hex_wanted--;
		} else if (*p == '=') {
			hex_wanted = 2;
		}
	}
	return hex_wanted == 0;
}

/* Whether a DKIM-Signature value has an i= tag that is not quoted-printable. libopendkim 2.11's
 * dkim_qp_decode reads past the end of the value when it ends in "=" or "=X" (found by fuzzing
 * it instrumented), so such a message never reaches it. */
static bool identity_is_broken(struct span value)
{
	const char *p = value.ptr, *end = value.ptr + value.len;
	while (p < end) {
		const char *tag_end = memchr(p, ';', (size_t)(end - p));
		if (tag_end == NULL)
			tag_end = end;
		while (p < tag_end && span_is_space(*p))
			p++;
		if (p < tag_end && *p == 'i') {
			for (p++; p < tag_end && span_is_space(*p); p++)
				;
			if (p < tag_end && *p == '=' && !is_quoted_printable(p + 1, tag_end))
				return true;
		}
		if (tag_end == end)
			break;
		p = tag_end + 1;
	}
	return false;
}

/* libopendkim's last complaint about the message, never empty. */
static const char *library_error(DKIM *dkim)
{
	const char *error = dkim_geterror(dkim);
	return error != NULL && error[0] != '\0' ? error : "no usable DKIM-Signature";
}

/* PASS on the first signature that passes everything; else TEMPFAIL when one of them may pass
 * later, else FAIL, explained by the first signature that got furthest. */
static void decide(DKIM_SIGINFO **sigs, int nsigs, const char *from_domain,
		   struct dkim_result *result)
{
	DKIM_SIGINFO *failed = NULL, *deferred = NULL;
	const char *failed_why = "no signature", *deferred_why = NULL;
	bool failed_aligned = false;
	for (int i = 0; i < nsigs; i++) {
		bool temporary;
		const char *why = verify_problem(sigs[i], from_domain, &temporary);
		bool aligned = (dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE) == 0;
		if (why == NULL) {
			set_result(result, DKIM_VERDICT_PASS, sigs[i],
				   algorithm(sigs[i]) == DKIM_SIGN_ED25519SHA256
				       ? "valid (ed25519-sha256)"
				       : "valid (rsa-sha256)");
			return;
		}
		if (temporary && deferred == NULL) {
			deferred = sigs[i];
			deferred_why = why;
		} else if (failed == NULL || (aligned && !failed_aligned)) {
			failed = sigs[i];
			failed_why = why;
			failed_aligned = aligned;
		}
	}
	if (deferred != NULL)
		set_result(result, DKIM_VERDICT_TEMPFAIL, deferred, deferred_why);
	else
		set_result(result, DKIM_VERDICT_FAIL, failed, failed_why);
}

void dkim_check(struct dkim_checker *checker, const char *msg, size_t len, const char *from_domain,
		struct dkim_result *result)
{
	struct check_context context = {from_domain};
	struct span header, body, value;
	DKIM_SIGINFO **sigs = NULL;
	int nsigs = 0;
	DKIM_STAT status;
	DKIM *dkim;

	header_split(msg, len, &header, &body);
	if (header_count(header, "DKIM-Signature") == 0) {
		set_result(result, DKIM_VERDICT_NONE, NULL, "no DKIM-Signature");
		return;
	}
	/* A signature covers the last From: (RFC 6376 §5.4.2), a reader may show the first. */
	if (header_count(header, "From") != 1) {
		set_result(result, DKIM_VERDICT_FAIL, NULL, "not exactly one From: field");
		return;
	}
	for (size_t pos = 0; header_next(header, "DKIM-Signature", &pos, &value);) {
		if (identity_is_broken(value)) {
			set_result(result, DKIM_VERDICT_FAIL, NULL, "i= is not quoted-printable");
			return;
		}
	}
	dkim = dkim_verify(checker->lib, (const unsigned char *)"filtermail", NULL, &status);
	if (dkim == NULL) {
		set_result(result, DKIM_VERDICT_TEMPFAIL, NULL, "libopendkim: out of memory");
		return;
	}
	dkim_set_user_context(dkim, &context);
	/* dkim_chunk stops at the first error (NOSIG when the prescreen ignored every signature);
	 * the signatures it found by then carry their own errors. */
	status = dkim_chunk(dkim, (unsigned char *)msg, len);
	if (status == DKIM_STAT_OK)
		status = dkim_chunk(dkim, NULL, 0);
	if (status == DKIM_STAT_OK)
		(void)dkim_eom(dkim, NULL);
	if (dkim_getsiglist(dkim, &sigs, &nsigs) == DKIM_STAT_OK && nsigs > 0)
		decide(sigs, nsigs, from_domain, result);
	else
		set_result(result, DKIM_VERDICT_FAIL, NULL, library_error(dkim));
	dkim_free(dkim);
}

struct dkim_checker *dkim_checker_new(const struct dkim_options *opts, const char **error)
{
	/* Signatures that fail to parse still count: such a message is not unsigned. */
	unsigned flags = DKIM_LIBFLAGS_BADSIGHANDLES;
	unsigned min_bits = DKIM_CHECK_RSA_MIN_BITS;
	dkim_query_t method = DKIM_QUERY_FILE;
	static const struct dkim_options system_resolver;
	struct dkim_checker *checker = calloc(1, sizeof *checker);
	if (opts == NULL)
		opts = &system_resolver;
	if (checker == NULL || (checker->lib = dkim_init(NULL, NULL)) == NULL) {
		free(checker);
		*error = "out of memory";
		return NULL;
	}
	if (dkim_options(checker->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags) !=
		DKIM_STAT_OK ||
	    dkim_options(checker->lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &min_bits,
			 sizeof min_bits) != DKIM_STAT_OK ||
	    dkim_set_prescreen(checker->lib, prescreen) != DKIM_STAT_OK) {
		*error = "libopendkim refused an option";
		dkim_checker_free(checker);
		return NULL;
	}
	if (opts->key_file != NULL) {
		if (strlen(opts->key_file) >= MAXPATHLEN ||
		    dkim_options(checker->lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &method,
				 sizeof method) != DKIM_STAT_OK ||
		    dkim_options(checker->lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO,
				 (void *)opts->key_file, strlen(opts->key_file)) != DKIM_STAT_OK) {
			*error = "libopendkim refused the key file";
			dkim_checker_free(checker);
			return NULL;
		}
	} else if (dkim_resolver_install(checker->lib, opts->nameserver, opts->dns_timeout,
					 error) != 0) {
		dkim_checker_free(checker);
		return NULL;
	}
	return checker;
}

void dkim_checker_free(struct dkim_checker *checker)
{
	if (checker == NULL)
		return;
	if (checker->lib != NULL)
		dkim_close(checker->lib);
	free(checker);
}

const char *dkim_verdict_reply(enum dkim_verdict verdict)
{
	switch (verdict) {
	case DKIM_VERDICT_PASS:
		return NULL;
	case DKIM_VERDICT_NONE:
		return "554 5.7.1 No DKIM signature found";
	case DKIM_VERDICT_FAIL:
		return "554 5.7.1 No valid DKIM signature found";
	case DKIM_VERDICT_TEMPFAIL:
		break;
	}
	return "451 4.7.5 DKIM key lookup failed, try again later";
}

bool dkim_domain_is_literal(const char *domain)
{
	size_t len = strlen(domain);
	return len >= 2 && domain[0] == '[' && domain[len - 1] == ']';
}
