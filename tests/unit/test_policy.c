/* The filtermail policy over the .eml corpus in tests/data/eml/ (run from the repo root), and
 * the passthrough, Autocrypt Setup Message and enforcement rules of SPEC §4. */
#include "policy.h"
#include "test.h"

#include "address.h"

#include <dirent.h>
#include <stdlib.h>

#define CORPUS "tests/data/eml"
#define ALICE "alice@chat.example.org"
#define BOB "bob@example.net"
#define DAEMON "MAILER-DAEMON@mx.example.net"
#define MESSAGE_MAX (256 * 1024)

enum expect { PLAIN, ENCRYPTED, SECUREJOIN, ENCRYPTED_INCOMING_ONLY, NO_FROM };

/* The three common outcomes, for mail from ALICE to BOB. */
/* clang-format off */
#define ENCRYPTED_BOTH_WAYS(file) {file, ALICE, POLICY_ACCEPT, POLICY_ACCEPT, ENCRYPTED}
#define SECUREJOIN_BOTH_WAYS(file) {file, ALICE, POLICY_ACCEPT, POLICY_ACCEPT, SECUREJOIN}
#define UNENCRYPTED(file) {file, ALICE, POLICY_REJECT_UNENCRYPTED, POLICY_REJECT_UNENCRYPTED, PLAIN}
/* clang-format on */

static const struct corpus_case {
	const char *file;
	const char *sender; /* MAIL FROM for the outgoing check */
	enum policy_verdict outgoing;
	enum policy_verdict incoming; /* every recipient enforces encryption */
	enum expect kind;
} corpus[] = {
    ENCRYPTED_BOTH_WAYS("encrypted.eml"),
    ENCRYPTED_BOTH_WAYS("encrypted-lf.eml"),
    ENCRYPTED_BOTH_WAYS("encrypted-two-pkesk.eml"),
    ENCRYPTED_BOTH_WAYS("encrypted-skesk.eml"),
    ENCRYPTED_BOTH_WAYS("encrypted-rsa-five-octet.eml"),
    ENCRYPTED_BOTH_WAYS("encrypted-partial.eml"),
    ENCRYPTED_BOTH_WAYS("encrypted-seipd-only.eml"),
    ENCRYPTED_BOTH_WAYS("encrypted-no-crc.eml"),
    ENCRYPTED_BOTH_WAYS("encrypted-gnupg-reframed.eml"),
    ENCRYPTED_BOTH_WAYS("encrypted-gnupg-partial.eml"),
    ENCRYPTED_BOTH_WAYS("encrypted-thunderbird-style.eml"),
    ENCRYPTED_BOTH_WAYS("encrypted-base64-armor.eml"),
    ENCRYPTED_BOTH_WAYS("encrypted-qp-armor.eml"),
    {"encrypted-armor-version.eml", ALICE, POLICY_REJECT_UNENCRYPTED, POLICY_ACCEPT,
     ENCRYPTED_INCOMING_ONLY},
    {"encrypted-armor-comment.eml", ALICE, POLICY_REJECT_UNENCRYPTED, POLICY_ACCEPT,
     ENCRYPTED_INCOMING_ONLY},
    ENCRYPTED_BOTH_WAYS("from-display-name.eml"),
    /* Incoming mail needs one From: address to read (a 5xx otherwise). Two From: fields
     * are a header no daemon reads as we would: not encrypted (below). */
    {"from-two-addresses.eml", ALICE, POLICY_REJECT_FROM_MISMATCH, POLICY_REJECT_NO_FROM,
     NO_FROM},
    UNENCRYPTED("from-duplicate.eml"),
    UNENCRYPTED("from-space-before-colon.eml"),
    UNENCRYPTED("broken-old-format-gnupg.eml"),
    UNENCRYPTED("broken-truncated.eml"),
    UNENCRYPTED("broken-trailing-garbage.eml"),
    UNENCRYPTED("broken-seipd-first.eml"),
    UNENCRYPTED("broken-two-seipd.eml"),
    UNENCRYPTED("broken-literal.eml"),
    UNENCRYPTED("broken-aead.eml"),
    UNENCRYPTED("broken-no-seipd.eml"),
    UNENCRYPTED("broken-partial-pkesk.eml"),
    UNENCRYPTED("broken-partial-unfinished.eml"),
    UNENCRYPTED("broken-bad-base64.eml"),
    UNENCRYPTED("broken-bad-padding.eml"),
    UNENCRYPTED("broken-no-end-line.eml"),
    UNENCRYPTED("broken-text-after-end.eml"),
    UNENCRYPTED("broken-signed-message.eml"),
    UNENCRYPTED("broken-version-2.eml"),
    UNENCRYPTED("broken-three-parts.eml"),
    UNENCRYPTED("broken-one-part.eml"),
    UNENCRYPTED("broken-parts-swapped.eml"),
    UNENCRYPTED("broken-nested.eml"),
    UNENCRYPTED("broken-inline-pgp.eml"),
    UNENCRYPTED("broken-no-boundary.eml"),
    UNENCRYPTED("broken-unknown-cte.eml"),
    UNENCRYPTED("broken-duplicate-boundary.eml"),
    UNENCRYPTED("header-not-a-field.eml"),
    UNENCRYPTED("header-space-before-colon.eml"),
    UNENCRYPTED("header-blank-continuation.eml"),
    UNENCRYPTED("header-content-type-comment.eml"),
    UNENCRYPTED("fake-encrypted.eml"),
    UNENCRYPTED("fake-cleartext-armor.eml"),
    UNENCRYPTED("mime-bomb.eml"),
    UNENCRYPTED("plain.eml"),
    UNENCRYPTED("plain-lf.eml"),
    {"plain-no-from.eml", ALICE, POLICY_REJECT_FROM_MISMATCH, POLICY_REJECT_NO_FROM, NO_FROM},
    SECUREJOIN_BOTH_WAYS("securejoin-vc.eml"),
    SECUREJOIN_BOTH_WAYS("securejoin-vg.eml"),
    SECUREJOIN_BOTH_WAYS("securejoin-vc-lf.eml"),
    SECUREJOIN_BOTH_WAYS("securejoin-vg-base64.eml"),
    SECUREJOIN_BOTH_WAYS("securejoin-vc-qp.eml"),
    UNENCRYPTED("securejoin-header-only.eml"),
    UNENCRYPTED("securejoin-wrong-body.eml"),
    UNENCRYPTED("securejoin-two-parts.eml"),
    UNENCRYPTED("securejoin-html.eml"),
    UNENCRYPTED("securejoin-nested.eml"),
    UNENCRYPTED("securejoin-wrong-header.eml"),
    /* Mailed to BOB here; mailed to oneself in test_autocrypt_setup_message_only_to_self. */
    UNENCRYPTED("asm.eml"),
    UNENCRYPTED("asm-wrong-subject.eml"),
    UNENCRYPTED("asm-not-mixed.eml"),
    UNENCRYPTED("mdn.eml"),
    {"bounce.eml", DAEMON, POLICY_REJECT_UNENCRYPTED, POLICY_ACCEPT, PLAIN},
    {"bounce-auto-submitted-no.eml", DAEMON, POLICY_REJECT_UNENCRYPTED, POLICY_REJECT_UNENCRYPTED,
     PLAIN},
    {"bounce-no-auto-submitted.eml", DAEMON, POLICY_REJECT_UNENCRYPTED, POLICY_REJECT_UNENCRYPTED,
     PLAIN},
    {"bounce-not-report.eml", DAEMON, POLICY_REJECT_UNENCRYPTED, POLICY_REJECT_UNENCRYPTED, PLAIN},
    {"bounce-not-daemon.eml", "mailer-daemon.fan@example.net", POLICY_REJECT_UNENCRYPTED,
     POLICY_REJECT_UNENCRYPTED, PLAIN},
};

#define CORPUS_COUNT (sizeof corpus / sizeof corpus[0])

struct text {
	char *text;
	size_t len;
};

static struct text load(const char *file)
{
	struct text m = {NULL, 0};
	char path[512];
	int n = snprintf(path, sizeof path, "%s/%s", CORPUS, file);
	FILE *f = n > 0 && (size_t)n < sizeof path ? fopen(path, "rb") : NULL;
	if (f == NULL) {
		fprintf(stderr, "cannot open %s (run from the repository root)\n", path);
		return m;
	}
	m.text = malloc(MESSAGE_MAX);
	if (m.text != NULL)
		m.len = fread(m.text, 1, MESSAGE_MAX, f);
	fclose(f);
	return m;
}

static struct config config_with(const char *extra)
{
	struct config c;
	struct config_error e;
	char text[1024];
	int n =
	    snprintf(text, sizeof text, "[params]\nmail_domain = chat.example.org\n%s\n", extra);
	if (n < 0 || (size_t)n >= sizeof text ||
	    config_parse(&c, text, (size_t)n, &e, NULL, NULL) != 0)
		abort();
	return c;
}

/* A transaction as filtermail's server builds it: MAIL FROM, then each RCPT with its flag. */
static struct smtp_tx transaction(const char *from, const char *const *rcpt, const bool *enforce,
				  size_t count)
{
	struct smtp_tx tx;
	memset(&tx, 0, sizeof tx);
	if (smtp_parse_mail("FROM:<x>", 8, &tx.mail) != SMTP_PATH_OK)
		abort();
	snprintf(tx.mail.address, sizeof tx.mail.address, "%s", from);
	tx.mail.address_len = strlen(tx.mail.address);
	if (address_canonical(from, strlen(from), tx.sender, sizeof tx.sender) < 0)
		tx.sender[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		struct smtp_path path = {0};
		snprintf(path.address, sizeof path.address, "%s", rcpt[i]);
		path.address_len = strlen(path.address);
		if (smtp_tx_add_recipient(&tx, &path) != 0)
			abort();
		tx.recipients[i].enforce = enforce != NULL && enforce[i];
	}
	return tx;
}

static struct message scan(struct text t)
{
	struct message m;
	if (message_parse(t.text != NULL ? t.text : "", t.len, &m) != 0)
		abort();
	return m;
}

static struct policy_result outgoing(const struct config *c, const char *from,
				     const char *const *rcpt, size_t count, struct text t)
{
	struct smtp_tx tx = transaction(from, rcpt, NULL, count);
	struct message m = scan(t);
	struct policy_result r = policy_outgoing(c, &tx, &m);
	smtp_tx_reset(&tx);
	return r;
}

static struct policy_result incoming_from(const char *sender, const char *const *rcpt,
					  const bool *enforce, size_t count, struct text t)
{
	struct smtp_tx tx = transaction(sender, rcpt, enforce, count);
	struct message m = scan(t);
	struct policy_result r = policy_incoming(&tx, &m);
	smtp_tx_reset(&tx);
	return r;
}

static struct policy_result incoming(const char *const *rcpt, const bool *enforce, size_t count,
				     struct text t)
{
	return incoming_from("someone@example.net", rcpt, enforce, count, t);
}

static void test_corpus_verdicts(void)
{
	struct config c = config_with("");
	const char *const to_bob[] = {BOB};
	const bool enforce[] = {true}, relaxed[] = {false};
	for (size_t i = 0; i < CORPUS_COUNT; i++) {
		const struct corpus_case *k = &corpus[i];
		struct text m = load(k->file);
		CHECK(m.len > 0);
		struct policy_result out = outgoing(&c, k->sender, to_bob, 1, m);
		struct policy_result in = incoming(to_bob, enforce, 1, m);
		struct policy_result in_relaxed = incoming(to_bob, relaxed, 1, m);
		bool ok = out.verdict == k->outgoing && in.verdict == k->incoming &&
			  in_relaxed.verdict ==
			      (k->kind == NO_FROM ? POLICY_REJECT_NO_FROM : POLICY_ACCEPT) &&
			  out.reason != NULL && in.reason != NULL;
		if (out.verdict == POLICY_ACCEPT)
			ok = ok && out.encrypted == (k->kind == ENCRYPTED) &&
			     out.securejoin == (k->kind == SECUREJOIN);
		ok = ok &&
		     in.encrypted == (k->kind == ENCRYPTED || k->kind == ENCRYPTED_INCOMING_ONLY) &&
		     in.securejoin == (k->kind == SECUREJOIN);
		CHECK(ok);
		if (!ok)
			fprintf(stderr, "%s: outgoing %d (%s) incoming %d (%s) encrypted %d/%d\n",
				k->file, out.verdict, out.reason, in.verdict, in.reason,
				out.encrypted, in.encrypted);
		free(m.text);
	}
}

static bool in_corpus(const char *name)
{
	for (size_t i = 0; i < CORPUS_COUNT; i++)
		if (strcmp(corpus[i].file, name) == 0)
			return true;
	return false;
}

static void test_every_corpus_file_has_a_verdict(void)
{
	DIR *dir = opendir(CORPUS);
	struct dirent *entry;
	size_t files = 0;
	CHECK(dir != NULL);
	if (dir == NULL)
		return;
	while ((entry = readdir(dir)) != NULL) {
		size_t len = strlen(entry->d_name);
		if (len < 5 || strcmp(entry->d_name + len - 4, ".eml") != 0)
			continue;
		files++;
		if (!in_corpus(entry->d_name)) {
			fprintf(stderr, "%s has no expected verdict\n", entry->d_name);
			CHECK(false);
		}
	}
	closedir(dir);
	CHECK(files == CORPUS_COUNT);
}

static void test_from_header_must_be_the_envelope_sender(void)
{
	struct config c = config_with("passthrough_senders = " ALICE " bob@example.net");
	const char *const to_bob[] = {BOB};
	struct text m = load("encrypted.eml");
	CHECK(outgoing(&c, ALICE, to_bob, 1, m).verdict == POLICY_ACCEPT);
	CHECK(outgoing(&c, "ALICE@chat.EXAMPLE.org", to_bob, 1, m).verdict == POLICY_ACCEPT);
	/* Even encrypted mail, even from a passthrough sender. */
	CHECK(outgoing(&c, BOB, to_bob, 1, m).verdict == POLICY_REJECT_FROM_MISMATCH);
	CHECK(outgoing(&c, "alice@chat.example.org.evil", to_bob, 1, m).verdict ==
	      POLICY_REJECT_FROM_MISMATCH);
	CHECK(outgoing(&c, "alice", to_bob, 1, m).verdict == POLICY_REJECT_FROM_MISMATCH);
	CHECK(outgoing(&c, "", to_bob, 1, m).verdict == POLICY_REJECT_FROM_MISMATCH);
	free(m.text);
}

static void test_passthrough_senders_and_recipients(void)
{
	struct text m = load("plain.eml");
	const char *const to_bob[] = {BOB};
	const char *const to_bob_upper[] = {"BOB@Example.NET"};
	const char *const to_bob_and_carol[] = {BOB, "carol@other.org"};
	const char *const to_sub[] = {"carol@sub.example.net"};
	const char *const to_lookalike[] = {"bob@xexample.net"};
	struct config plain = config_with("");
	CHECK(outgoing(&plain, ALICE, to_bob, 1, m).verdict == POLICY_REJECT_UNENCRYPTED);

	struct config senders = config_with("passthrough_senders = echo@chat.example.org " ALICE);
	struct policy_result r = outgoing(&senders, ALICE, to_bob, 1, m);
	CHECK(r.verdict == POLICY_ACCEPT && !r.encrypted && !r.securejoin);
	CHECK(outgoing(&senders, ALICE, to_bob_and_carol, 2, m).verdict == POLICY_ACCEPT);

	struct config one = config_with("passthrough_recipients = privacy@x.org " BOB);
	CHECK(outgoing(&one, ALICE, to_bob, 1, m).verdict == POLICY_ACCEPT);
	CHECK(outgoing(&one, ALICE, to_bob_upper, 1, m).verdict == POLICY_ACCEPT);
	/* Every recipient must pass, not just one. */
	CHECK(outgoing(&one, ALICE, to_bob_and_carol, 2, m).verdict == POLICY_REJECT_UNENCRYPTED);
	CHECK(outgoing(&one, ALICE, to_bob, 0, m).verdict == POLICY_REJECT_UNENCRYPTED);

	struct config domain = config_with("passthrough_recipients = @example.net @other.org");
	CHECK(outgoing(&domain, ALICE, to_bob, 1, m).verdict == POLICY_ACCEPT);
	CHECK(outgoing(&domain, ALICE, to_bob_and_carol, 2, m).verdict == POLICY_ACCEPT);
	/* "@example.net" is that domain, not its subdomains or look-alikes. */
	CHECK(outgoing(&domain, ALICE, to_sub, 1, m).verdict == POLICY_REJECT_UNENCRYPTED);
	CHECK(outgoing(&domain, ALICE, to_lookalike, 1, m).verdict == POLICY_REJECT_UNENCRYPTED);
	/* A sender on the recipient list is no passthrough sender. */
	struct config bob_only = config_with("passthrough_recipients = " ALICE);
	CHECK(outgoing(&bob_only, ALICE, to_bob, 1, m).verdict == POLICY_REJECT_UNENCRYPTED);
	free(m.text);
}

static void test_autocrypt_setup_message_only_to_self(void)
{
	struct config c = config_with("");
	const char *const to_self[] = {ALICE};
	const char *const to_self_upper[] = {"Alice@Chat.Example.org"};
	const char *const to_self_and_bob[] = {ALICE, BOB};
	const char *const to_bob[] = {BOB};
	struct text asm_ok = load("asm.eml");
	struct text wrong_subject = load("asm-wrong-subject.eml");
	struct text not_mixed = load("asm-not-mixed.eml");
	struct text plain = load("plain.eml");
	CHECK(outgoing(&c, ALICE, to_self, 1, asm_ok).verdict == POLICY_ACCEPT);
	CHECK(outgoing(&c, ALICE, to_self_upper, 1, asm_ok).verdict == POLICY_ACCEPT);
	CHECK(outgoing(&c, ALICE, to_self_and_bob, 2, asm_ok).verdict == POLICY_REJECT_UNENCRYPTED);
	CHECK(outgoing(&c, ALICE, to_bob, 1, asm_ok).verdict == POLICY_REJECT_UNENCRYPTED);
	CHECK(outgoing(&c, ALICE, to_self, 1, wrong_subject).verdict == POLICY_REJECT_UNENCRYPTED);
	CHECK(outgoing(&c, ALICE, to_self, 1, not_mixed).verdict == POLICY_REJECT_UNENCRYPTED);
	CHECK(outgoing(&c, ALICE, to_self, 1, plain).verdict == POLICY_REJECT_UNENCRYPTED);
	free(asm_ok.text);
	free(wrong_subject.text);
	free(not_mixed.text);
	free(plain.text);
}

static void test_incoming_enforcement_per_recipient(void)
{
	struct text plain = load("plain.eml");
	struct text encrypted = load("encrypted.eml");
	const char *const two[] = {BOB, "carol@chat.example.org"};
	const bool none[] = {false, false}, second[] = {false, true};
	CHECK(incoming(two, none, 2, plain).verdict == POLICY_ACCEPT);
	CHECK(incoming(two, second, 2, plain).verdict == POLICY_REJECT_UNENCRYPTED);
	CHECK(incoming(two, second, 2, encrypted).verdict == POLICY_ACCEPT);
	/* Mail whose envelope sender is not its From: goes on from <> (no bounce to a forgery);
	 * a bounce comes from <> anyway. */
	CHECK(incoming(two, none, 2, plain).null_sender);
	CHECK(!incoming_from(ALICE, two, none, 2, plain).null_sender);
	CHECK(!incoming_from("Alice@Chat.example.org", two, none, 2, plain).null_sender);
	free(plain.text);
	free(encrypted.text);
}

static void test_encryption_check_directly(void)
{
	struct text version = load("encrypted-armor-version.eml");
	struct message m = scan(version);
	CHECK(m.encryption_problem == NULL && m.armor_header && !m.securejoin);
	free(version.text);
	struct text sj = load("securejoin-vg-base64.eml");
	m = scan(sj);
	CHECK(m.securejoin && m.encryption_problem != NULL);
	free(sj.text);
	m = scan((struct text){NULL, 0});
	CHECK(m.encryption_problem != NULL && !m.securejoin && !m.has_from);
}

/* A rejection says why the message is not encrypted, for the log. */
static void test_rejections_say_why(void)
{
	static const struct {
		const char *file, *reason;
	} cases[] = {
	    {"plain.eml", "not multipart/encrypted"},
	    {"broken-no-boundary.eml",
	     "multipart/encrypted without a boundary or with a transfer encoding"},
	    {"broken-unknown-cte.eml", "unknown Content-Transfer-Encoding"},
	    {"broken-duplicate-boundary.eml", "repeated MIME parameter"},
	    {"header-not-a-field.eml", "header line that is not a field"},
	    {"header-space-before-colon.eml", "a field that decides the verdict appears twice"},
	    {"header-blank-continuation.eml", "header line of only white space"},
	    {"header-content-type-comment.eml", "Content-Type with text outside its parameters"},
	    {"from-space-before-colon.eml", "a field that decides the verdict appears twice"},
	    {"broken-one-part.eml", "multipart/encrypted with fewer than two parts"},
	    {"broken-three-parts.eml", "multipart/encrypted with more than two parts"},
	    {"broken-nested.eml", "multipart/encrypted holds a multipart"},
	    {"mime-bomb.eml", "multipart/encrypted holds a multipart"},
	    {"broken-version-2.eml", "first part is not application/pgp-encrypted Version: 1"},
	    {"broken-parts-swapped.eml", "first part is not application/pgp-encrypted Version: 1"},
	    {"encrypted-armor-version.eml", "armor header line in outgoing mail"},
	    {"broken-old-format-gnupg.eml", "old-format OpenPGP packet"},
	    {"broken-truncated.eml", "truncated OpenPGP packet"},
	    {"broken-two-seipd.eml", "data after the SEIPD packet"},
	    {"broken-aead.eml", "OpenPGP packet other than PKESK, SKESK or SEIPD"},
	    {"broken-partial-pkesk.eml", "partial body length on a session key packet"},
	    {"broken-no-seipd.eml", "no SEIPD packet after the session keys"},
	    {"broken-bad-base64.eml", "broken base64 in the armor"},
	    {"broken-text-after-end.eml", "no PGP MESSAGE armor"},
	    {"fake-encrypted.eml", "not an OpenPGP packet"},
	};
	struct config c = config_with("");
	const char *const to_bob[] = {BOB};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct text m = load(cases[i].file);
		struct policy_result r = outgoing(&c, ALICE, to_bob, 1, m);
		CHECK(r.verdict == POLICY_REJECT_UNENCRYPTED &&
		      strcmp(r.reason, cases[i].reason) == 0);
		if (strcmp(r.reason, cases[i].reason) != 0)
			fprintf(stderr, "%s: %s\n", cases[i].file, r.reason);
		free(m.text);
	}
}

/* A message cut anywhere before its END line is never encrypted. */
static void test_truncated_messages_are_not_encrypted(void)
{
	const char *files[] = {"encrypted.eml", "encrypted-partial.eml", "encrypted-lf.eml"};
	for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
		struct text m = load(files[f]);
		const char *end =
		    m.len > 0 ? memmem(m.text, m.len, "-----END PGP MESSAGE-----", 25) : NULL;
		CHECK(end != NULL);
		if (end == NULL) {
			free(m.text);
			continue;
		}
		size_t limit = (size_t)(end - m.text) + 25, wrong = 0;
		CHECK(scan(m).encryption_problem == NULL);
		for (size_t cut = 0; cut < limit; cut++)
			if (scan((struct text){m.text, cut}).encryption_problem == NULL)
				wrong++;
		CHECK(wrong == 0);
		free(m.text);
	}
}

int main(void)
{
	test_corpus_verdicts();
	test_every_corpus_file_has_a_verdict();
	test_from_header_must_be_the_envelope_sender();
	test_passthrough_senders_and_recipients();
	test_autocrypt_setup_message_only_to_self();
	test_incoming_enforcement_per_recipient();
	test_encryption_check_directly();
	test_truncated_messages_are_not_encrypted();
	test_rejections_say_why();
	return test_summary("policy");
}
