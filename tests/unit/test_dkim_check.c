/* lib/dkim_check: messages signed here with libopendkim's signer and keys made here with
 * OpenSSL; the keys are published by tests/unit/dns_server.h on loopback, so every check goes
 * through the resolver library and libopendkim exactly as in production. */
#include "dkim_check.h"

#include "dkim_signer.h"
#include "dns_server.h"
#include "test.h"

/* What filtermail holds after DATA: CRLF line ends, dot-stuffing undone. */
#define MESSAGE                                                                                    \
	"From: Alice <alice@a.test>\r\n"                                                           \
	"To: bob@b.test\r\n"                                                                       \
	"Subject: hello\r\n"                                                                       \
	"Date: Wed, 02 Dec 2026 02:00:00 +0000\r\n"                                                \
	"Message-ID: <1@a.test>\r\n"                                                               \
	"\r\n"                                                                                     \
	"Hello Bob.\r\n"                                                                           \
	"\r\n"                                                                                     \
	".leading dot, unstuffed\r\n"

/* libopendkim 2.11's signer leaks the private key it loads (dkim_free frees RSA keys of
 * verified signatures only): that is this test's signer, never the verifier, which the fuzzer
 * checks for leaks. Full stacks, so the suppression sees the frame inside libcrypto's callers. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:dkim_privkey_load\n";
}

static struct dkim_test_key rsa512, rsa1024, rsa2048, ed25519;
static struct dns_server dns;
static struct dkim_checker *checker;

/* msg with the first `from` replaced by `to`. */
static char *replace(const char *msg, const char *from, const char *to)
{
	const char *at = strstr(msg, from);
	size_t size = strlen(msg) + strlen(to) + 1;
	char *out = malloc(size);
	if (at == NULL)
		snprintf(out, size, "%s", msg);
	else
		snprintf(out, size, "%.*s%s%s", (int)(at - msg), msg, to, at + strlen(from));
	return out;
}

static struct dkim_result check_with(struct dkim_checker *c, const char *msg, const char *domain)
{
	struct dkim_result result;
	dkim_check(c, msg, strlen(msg), domain, &result);
	return result;
}

/* Checks msg (freed here) for a verdict and a reason that mentions `why`. */
#define EXPECT(message, want, why)                                                                 \
	do {                                                                                       \
		char *m_ = (message);                                                              \
		struct dkim_result r_ = check_with(checker, m_, "a.test");                         \
		CHECK(r_.verdict == (want));                                                       \
		CHECK(strstr(r_.reason, (why)) != NULL);                                           \
		if (r_.verdict != (want) || strstr(r_.reason, (why)) == NULL)                      \
			fprintf(stderr, "  got %d: %s\n", r_.verdict, r_.reason);                  \
		free(m_);                                                                          \
	} while (0)

static void test_valid_signatures_pass(void)
{
	struct dkim_signing s = dkim_relaxed(&rsa2048, "r2048", "a.test");
	EXPECT(dkim_test_sign(MESSAGE, s), DKIM_VERDICT_PASS,
	       "d=a.test s=r2048: valid (rsa-sha256)");
	s.header_canon = s.body_canon = DKIM_CANON_SIMPLE;
	EXPECT(dkim_test_sign(MESSAGE, s), DKIM_VERDICT_PASS, "valid (rsa-sha256)");
	s.header_canon = DKIM_CANON_RELAXED; /* relaxed/simple, as OpenDKIM signs for us */
	EXPECT(dkim_test_sign(MESSAGE, s), DKIM_VERDICT_PASS, "valid (rsa-sha256)");
	EXPECT(dkim_test_sign(MESSAGE, dkim_relaxed(&rsa1024, "r1024", "a.test")),
	       DKIM_VERDICT_PASS, "s=r1024: valid");
	EXPECT(dkim_test_sign(MESSAGE, dkim_relaxed(&ed25519, "ed", "a.test")), DKIM_VERDICT_PASS,
	       "s=ed: valid (ed25519-sha256)");
}

static void test_alignment_ignores_case_only(void)
{
	char *msg = dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "r2048", "A.Test"));
	struct dkim_result r = check_with(checker, msg, "a.TEST");
	CHECK(r.verdict == DKIM_VERDICT_PASS);
	free(msg);
	EXPECT(dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "r2048", "c.test")),
	       DKIM_VERDICT_FAIL, "d=c.test s=r2048: d= is not the From: domain");
	EXPECT(dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "r2048", "sub.a.test")),
	       DKIM_VERDICT_FAIL, "d= is not the From: domain");
}

static void test_signature_of_another_domain_costs_no_query(void)
{
	unsigned before = *dns.queries;
	EXPECT(dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "r2048", "c.test")),
	       DKIM_VERDICT_FAIL, "c.test");
	CHECK(*dns.queries == before);
}

static void test_tampering_fails(void)
{
	char *signed_msg = dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "r2048", "a.test"));
	EXPECT(replace(signed_msg, "Hello Bob.", "Hello Eve."), DKIM_VERDICT_FAIL,
	       "body hash does not match");
	EXPECT(replace(signed_msg, "Subject: hello", "Subject: hi"), DKIM_VERDICT_FAIL,
	       "signature verification failed");
	/* Relaxed canonicalisation forgives whitespace, not content. */
	EXPECT(replace(signed_msg, "Subject: hello", "Subject:   hello"), DKIM_VERDICT_PASS,
	       "valid");
	/* Appending a body part breaks the body hash: no l= here. */
	EXPECT(replace(signed_msg, "unstuffed\r\n", "unstuffed\r\nmore\r\n"), DKIM_VERDICT_FAIL,
	       "body hash");
	free(signed_msg);
}

static void test_weak_or_partial_signatures_fail(void)
{
	struct dkim_signing s = dkim_relaxed(&rsa2048, "r2048", "a.test");
	EXPECT(dkim_test_sign(MESSAGE, dkim_relaxed(&rsa512, "r512", "a.test")), DKIM_VERDICT_FAIL,
	       "s=r512: signing key too small");
	s.alg = DKIM_SIGN_RSASHA1;
	EXPECT(dkim_test_sign(MESSAGE, s), DKIM_VERDICT_FAIL, "rsa-sha1 is not accepted");
	s.alg = DKIM_SIGN_RSASHA256;
	s.length = true;
	EXPECT(dkim_test_sign(MESSAGE, s), DKIM_VERDICT_FAIL, "l= is not accepted");
}

static void test_expired_signature_fails(void)
{
	struct dkim_signing s = dkim_relaxed(&rsa2048, "r2048", "a.test");
	s.when = time(NULL) - 7200;
	s.ttl = 3600; /* x= an hour ago, well beyond libopendkim's 300 s of clock drift */
	EXPECT(dkim_test_sign(MESSAGE, s), DKIM_VERDICT_FAIL, "expired");
	s.ttl = 3 * 3600;
	EXPECT(dkim_test_sign(MESSAGE, s), DKIM_VERDICT_PASS, "valid");
}

static void test_signature_must_cover_from(void)
{
	/* Signed without a From: field, which is added afterwards. */
	static const char *required[] = {"subject", NULL};
	struct dkim_signing s = dkim_relaxed(&rsa2048, "r2048", "a.test");
	char *without_from = replace(MESSAGE, "From: Alice <alice@a.test>\r\n", "");
	char *signed_msg;
	s.required_hdrs = required;
	signed_msg = dkim_test_sign(without_from, s);
	CHECK(strstr(signed_msg, "h=from") == NULL && strstr(signed_msg, ":from") == NULL);
	EXPECT(replace(signed_msg, "\r\nTo: ", "\r\nFrom: alice@a.test\r\nTo: "), DKIM_VERDICT_FAIL,
	       "d=a.test s=r2048: header list missing required entries");
	free(without_from);
	free(signed_msg);
}

static void test_only_one_from_field(void)
{
	/* A second From: above the signed one: a reader may show it, the signature covers the
	 * other. */
	char *signed_msg = dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "r2048", "a.test"));
	EXPECT(replace(signed_msg, "From: Alice", "From: mallory@a.test\r\nFrom: Alice"),
	       DKIM_VERDICT_FAIL, "not exactly one From: field");
	free(signed_msg);
}

static void test_fields_read_as_libopendkim_reads_them(void)
{
	/* "Name :" is a field for libopendkim and Postfix alike. */
	char *signed_msg = dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "r2048", "a.test"));
	EXPECT(replace(signed_msg, "\r\nTo:", "\r\nFrom : mallory@a.test\r\nTo:"),
	       DKIM_VERDICT_FAIL, "not exactly one From: field");
	EXPECT(replace(MESSAGE, "To:", "DKIM-Signature : v=1; d=a.test\r\nTo:"), DKIM_VERDICT_FAIL,
	       "d=a.test s=?: selector tag missing");
	/* With a tab libopendkim refuses the header: not passed, not unsigned either. */
	EXPECT(replace(MESSAGE, "To:", "DKIM-Signature\t: v=1; d=a.test\r\nTo:"), DKIM_VERDICT_FAIL,
	       "");
	/* i= must be quoted-printable: libopendkim would read past a value ending in "=" or
	 * "=X", also hidden behind a space before the colon or folded. */
	EXPECT(replace(signed_msg, "d=a.test;", "i=x=4; d=a.test;"), DKIM_VERDICT_FAIL,
	       "i= is not quoted-printable");
	EXPECT(replace(signed_msg, "d=a.test;", "i =\r\n\tx=; d=a.test;"), DKIM_VERDICT_FAIL,
	       "i= is not quoted-printable");
	EXPECT(replace(signed_msg, "DKIM-Signature:", "DKIM-Signature : i=x=A;\r\nDKIM-Signature:"),
	       DKIM_VERDICT_FAIL, "i= is not quoted-printable");
	/* A valid escape reaches libopendkim: the signature, changed here, no longer verifies. */
	EXPECT(replace(signed_msg, "d=a.test;", "i=@a=2Etest; d=a.test;"), DKIM_VERDICT_FAIL,
	       "signature verification failed");
	free(signed_msg);
}

static void test_one_good_signature_suffices(void)
{
	char *good = dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "r2048", "a.test"));
	/* The 1024-bit key does not match the one published for r2048. */
	char *bad = dkim_test_sign(MESSAGE, dkim_relaxed(&rsa1024, "r2048", "a.test"));
	EXPECT(dkim_test_sign(good, dkim_relaxed(&rsa1024, "r2048", "a.test")), DKIM_VERDICT_PASS,
	       "valid");
	EXPECT(dkim_test_sign(bad, dkim_relaxed(&ed25519, "ed", "a.test")), DKIM_VERDICT_PASS,
	       "s=ed: valid");
	EXPECT(dkim_test_sign(bad, dkim_relaxed(&rsa2048, "r2048", "c.test")), DKIM_VERDICT_FAIL,
	       "d=a.test s=r2048: signature verification failed");
	free(good);
	free(bad);
}

static void test_no_signature_is_none(void)
{
	EXPECT(strdup(MESSAGE), DKIM_VERDICT_NONE, "no DKIM-Signature");
	/* A broken DKIM-Signature field is a signature that fails, not none. */
	EXPECT(replace(MESSAGE, "To:", "DKIM-Signature: v=1; garbage\r\nTo:"), DKIM_VERDICT_FAIL,
	       "domain tag missing");
}

static void test_key_lookups(void)
{
	unsigned before;
	time_t start;
	EXPECT(dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "nokey", "a.test")),
	       DKIM_VERDICT_FAIL, "s=nokey: no key in DNS");
	EXPECT(dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "servfail", "a.test")),
	       DKIM_VERDICT_TEMPFAIL, "s=servfail: key lookup failed for now");
	/* glibc passes other answers than these through: none of them is "no key". */
	EXPECT(dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "formerr", "a.test")),
	       DKIM_VERDICT_TEMPFAIL, "s=formerr: key lookup failed for now");
	before = *dns.queries;
	start = time(NULL);
	EXPECT(dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "timeout", "a.test")),
	       DKIM_VERDICT_TEMPFAIL, "s=timeout: key lookup failed for now");
	CHECK(*dns.queries == before + 1); /* one try, dns_timeout = 1 */
	CHECK(time(NULL) - start <= 3);
}

static void test_temporary_failure_only_when_nothing_passed(void)
{
	char *deferred = dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "servfail", "a.test"));
	char *bad = dkim_test_sign(MESSAGE, dkim_relaxed(&rsa1024, "r2048", "a.test"));
	EXPECT(dkim_test_sign(deferred, dkim_relaxed(&rsa2048, "r2048", "a.test")),
	       DKIM_VERDICT_PASS, "valid");
	EXPECT(dkim_test_sign(bad, dkim_relaxed(&rsa2048, "servfail", "a.test")),
	       DKIM_VERDICT_TEMPFAIL, "s=servfail");
	/* A signature of another domain that cannot be looked up does not defer anything. */
	EXPECT(dkim_test_sign(bad, dkim_relaxed(&rsa2048, "servfail", "c.test")), DKIM_VERDICT_FAIL,
	       "s=r2048: signature verification failed");
	free(deferred);
	free(bad);
}

static void test_signatures_checked_are_bounded(void)
{
	/* The good signature comes last, below DKIM_CHECK_ALIGNED_MAX bad ones. */
	char *msg = dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "r2048", "a.test"));
	unsigned before = *dns.queries;
	for (int i = 0; i < DKIM_CHECK_ALIGNED_MAX; i++) {
		char *more = dkim_test_sign(msg, dkim_relaxed(&rsa2048, "nokey", "a.test"));
		free(msg);
		msg = more;
	}
	EXPECT(msg, DKIM_VERDICT_FAIL, "s=nokey: no key in DNS");
	CHECK(*dns.queries - before <= DKIM_CHECK_ALIGNED_MAX);
}

static void test_crlf_is_what_verifies(void)
{
	/* The signer hashed CRLF lines; the same message with bare LF does not pass, so the caller
	 * must hand over the message with CRLF as received. */
	char *msg = dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "r2048", "a.test"));
	char *lf = malloc(strlen(msg) + 1);
	size_t j = 0;
	for (size_t i = 0; msg[i] != '\0'; i++)
		if (msg[i] != '\r')
			lf[j++] = msg[i];
	lf[j] = '\0';
	CHECK(check_with(checker, lf, "a.test").verdict != DKIM_VERDICT_PASS);
	free(msg);
	free(lf);
}

static void test_key_file(void)
{
	char path[] = "/tmp/test_dkim_check.XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct dkim_options opts = {.key_file = path};
	const char *error = NULL;
	struct dkim_checker *from_file;
	char *msg = dkim_test_sign(MESSAGE, dkim_relaxed(&ed25519, "ed", "a.test"));
	fprintf(f, "ed._domainkey.a.test %s\n", ed25519.record);
	fclose(f);
	from_file = dkim_checker_new(&opts, &error);
	CHECK(from_file != NULL);
	if (from_file != NULL) {
		CHECK(check_with(from_file, msg, "a.test").verdict == DKIM_VERDICT_PASS);
		free(msg);
		msg = dkim_test_sign(MESSAGE, dkim_relaxed(&rsa2048, "r2048", "a.test"));
		CHECK(check_with(from_file, msg, "a.test").verdict == DKIM_VERDICT_FAIL);
		dkim_checker_free(from_file);
	}
	free(msg);
	unlink(path);
}

static void test_options_and_helpers(void)
{
	const char *error = NULL;
	struct dkim_options bad = {.nameserver = "127.0.0.1"};
	CHECK(dkim_checker_new(&bad, &error) == NULL && error != NULL);
	bad.nameserver = "localhost:53";
	CHECK(dkim_checker_new(&bad, &error) == NULL);
	struct dkim_checker *system = dkim_checker_new(NULL, &error);
	CHECK(system != NULL);
	dkim_checker_free(system);
	CHECK_STR(dkim_verdict_reply(DKIM_VERDICT_NONE), "554 5.7.1 No DKIM signature found");
	CHECK_STR(dkim_verdict_reply(DKIM_VERDICT_FAIL), "554 5.7.1 No valid DKIM signature found");
	CHECK(strncmp(dkim_verdict_reply(DKIM_VERDICT_TEMPFAIL), "451 4.7.5 ", 10) == 0);
	CHECK(dkim_verdict_reply(DKIM_VERDICT_PASS) == NULL);
	CHECK(dkim_domain_is_literal("[192.0.2.1]"));
	CHECK(dkim_domain_is_literal("[IPv6:2001:db8::1]"));
	CHECK(!dkim_domain_is_literal("a.test"));
	CHECK(!dkim_domain_is_literal("[a.test"));
	CHECK(!dkim_domain_is_literal(""));
}

int main(void)
{
	struct dkim_test_key *keys[] = {&rsa512, &rsa1024, &rsa2048, &ed25519};
	struct dkim_options opts = {0};
	const char *error = NULL;

	dkim_test_key_make(&rsa512, EVP_RSA_gen(512));
	dkim_test_key_make(&rsa1024, EVP_RSA_gen(1024));
	dkim_test_key_make(&rsa2048, EVP_RSA_gen(2048));
	dkim_test_key_make(&ed25519, EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	dns_server_add(&dns, "r512._domainkey.a.test", rsa512.record);
	dns_server_add(&dns, "r1024._domainkey.a.test", rsa1024.record);
	dns_server_add(&dns, "r2048._domainkey.a.test", rsa2048.record);
	dns_server_add(&dns, "ed._domainkey.a.test", ed25519.record);
	dns_server_add(&dns, "r2048._domainkey.sub.a.test", rsa2048.record);
	dns_server_add(&dns, "r2048._domainkey.c.test", rsa2048.record);
	if (dns_server_start(&dns) != 0) {
		perror("dns_server_start");
		return 1;
	}
	opts.nameserver = dns.address;
	opts.dns_timeout = 1;
	checker = dkim_checker_new(&opts, &error);
	if (checker == NULL) {
		fprintf(stderr, "dkim_checker_new: %s\n", error);
		dns_server_stop(&dns);
		return 1;
	}

	test_valid_signatures_pass();
	test_alignment_ignores_case_only();
	test_signature_of_another_domain_costs_no_query();
	test_tampering_fails();
	test_weak_or_partial_signatures_fail();
	test_expired_signature_fails();
	test_signature_must_cover_from();
	test_only_one_from_field();
	test_fields_read_as_libopendkim_reads_them();
	test_one_good_signature_suffices();
	test_no_signature_is_none();
	test_key_lookups();
	test_temporary_failure_only_when_nothing_passed();
	test_signatures_checked_are_bounded();
	test_crlf_is_what_verifies();
	test_key_file();
	test_options_and_helpers();

	dkim_checker_free(checker);
	dns_server_stop(&dns);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		dkim_test_key_free(keys[i]);
	return test_summary("test_dkim_check");
}
