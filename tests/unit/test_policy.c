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

/* Each row states the reason the policy gives, so that a row refused for another reason than
 * its X-Test-Purpose fails here (the generator makes each from a good message by one change). */
#define NOT_PGP_MIME "not multipart/encrypted"
#define FROM_MISMATCH "From: header is not the envelope sender"
#define ARMOR_HEADER "armor header line in outgoing mail"
#define FIRST_PART "first part is not application/pgp-encrypted Version: 1"
#define AFTER_SEIPD "data after the SEIPD packet"
#define NO_ARMOR "no PGP MESSAGE armor"
#define BAD_BASE64 "broken base64 in the armor"
#define TRUNCATED "truncated OpenPGP packet"
#define OTHER_PACKET "OpenPGP packet other than PKESK, SKESK or SEIPD"
#define TWICE "a field that decides the verdict appears twice"
#define HOLDS_MULTIPART "multipart/encrypted holds a multipart"
#define NO_SINGLE_FROM "no single From: address"

/* The common rows, for mail from ALICE to BOB. */
/* clang-format off */
#define ENCRYPTED_BOTH_WAYS(file) \
	{file, ALICE, POLICY_ACCEPT, "encrypted", POLICY_ACCEPT, "encrypted", ENCRYPTED}
#define SECUREJOIN_BOTH_WAYS(file) \
	{file, ALICE, POLICY_ACCEPT, "Secure-Join request", POLICY_ACCEPT, "Secure-Join request", SECUREJOIN}
#define UNENCRYPTED(file, why) \
	{file, ALICE, POLICY_REJECT_UNENCRYPTED, why, POLICY_REJECT_UNENCRYPTED, why, PLAIN}
/* clang-format on */

static const struct corpus_case {
	const char *file;
	const char *sender; /* MAIL FROM for the outgoing check */
	enum policy_verdict outgoing;
	const char *outgoing_reason;
	enum policy_verdict incoming; /* every recipient enforces encryption */
	const char *incoming_reason;
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
    {"encrypted-armor-version.eml", ALICE, POLICY_REJECT_UNENCRYPTED, ARMOR_HEADER, POLICY_ACCEPT,
     "encrypted", ENCRYPTED_INCOMING_ONLY},
    {"encrypted-armor-comment.eml", ALICE, POLICY_REJECT_UNENCRYPTED, ARMOR_HEADER, POLICY_ACCEPT,
     "encrypted", ENCRYPTED_INCOMING_ONLY},
    ENCRYPTED_BOTH_WAYS("from-display-name.eml"),
    /* Incoming mail needs one From: address to read (a 5xx otherwise). Two From: fields
     * are a header no daemon reads as we would: not encrypted (below). */
    {"from-two-addresses.eml", ALICE, POLICY_REJECT_FROM_MISMATCH, FROM_MISMATCH,
     POLICY_REJECT_NO_FROM, NO_SINGLE_FROM, NO_FROM},
    UNENCRYPTED("from-duplicate.eml", TWICE),
    UNENCRYPTED("from-space-before-colon.eml", TWICE),
    UNENCRYPTED("broken-old-format-gnupg.eml", "old-format OpenPGP packet"),
    UNENCRYPTED("broken-truncated.eml", TRUNCATED),
    UNENCRYPTED("broken-trailing-garbage.eml", AFTER_SEIPD),
    /* The PKESK after the SEIPD is what follows it. */
    UNENCRYPTED("broken-seipd-first.eml", AFTER_SEIPD),
    UNENCRYPTED("broken-two-seipd.eml", AFTER_SEIPD),
    UNENCRYPTED("broken-literal.eml", OTHER_PACKET),
    UNENCRYPTED("broken-aead.eml", OTHER_PACKET),
    UNENCRYPTED("broken-no-seipd.eml", "no SEIPD packet after the session keys"),
    UNENCRYPTED("broken-partial-pkesk.eml", "partial body length on a session key packet"),
    UNENCRYPTED("broken-partial-unfinished.eml", TRUNCATED),
    UNENCRYPTED("broken-bad-base64.eml", BAD_BASE64),
    UNENCRYPTED("broken-bad-padding.eml", BAD_BASE64),
    UNENCRYPTED("broken-no-end-line.eml", NO_ARMOR),
    UNENCRYPTED("broken-text-after-end.eml", NO_ARMOR),
    UNENCRYPTED("broken-signed-message.eml", NO_ARMOR),
    UNENCRYPTED("broken-version-2.eml", FIRST_PART),
    UNENCRYPTED("broken-three-parts.eml", "multipart/encrypted with more than two parts"),
    UNENCRYPTED("broken-one-part.eml", "multipart/encrypted with fewer than two parts"),
    UNENCRYPTED("broken-parts-swapped.eml", FIRST_PART),
    UNENCRYPTED("broken-nested.eml", HOLDS_MULTIPART),
    UNENCRYPTED("broken-inline-pgp.eml", NOT_PGP_MIME),
    UNENCRYPTED("broken-no-boundary.eml",
		"multipart/encrypted without a boundary or with a transfer encoding"),
    UNENCRYPTED("broken-unknown-cte.eml", "unknown Content-Transfer-Encoding"),
    UNENCRYPTED("broken-duplicate-boundary.eml", "repeated MIME parameter"),
    UNENCRYPTED("header-not-a-field.eml", "header line that is not a field"),
    UNENCRYPTED("header-space-before-colon.eml", TWICE),
    UNENCRYPTED("header-blank-continuation.eml", "header line of only white space"),
    UNENCRYPTED("header-content-type-comment.eml", "MIME field with text outside its parameters"),
    UNENCRYPTED("fake-encrypted.eml", "not an OpenPGP packet"),
    /* Words with spaces are no base64. */
    UNENCRYPTED("fake-cleartext-armor.eml", BAD_BASE64),
    UNENCRYPTED("mime-bomb.eml", HOLDS_MULTIPART),
    UNENCRYPTED("plain.eml", NOT_PGP_MIME),
    UNENCRYPTED("plain-lf.eml", NOT_PGP_MIME),
    {"plain-no-from.eml", ALICE, POLICY_REJECT_FROM_MISMATCH, FROM_MISMATCH, POLICY_REJECT_NO_FROM,
     NO_SINGLE_FROM, NO_FROM},
    SECUREJOIN_BOTH_WAYS("securejoin-vc.eml"),
    SECUREJOIN_BOTH_WAYS("securejoin-vg.eml"),
    SECUREJOIN_BOTH_WAYS("securejoin-vc-lf.eml"),
    SECUREJOIN_BOTH_WAYS("securejoin-vg-base64.eml"),
    SECUREJOIN_BOTH_WAYS("securejoin-vc-qp.eml"),
    UNENCRYPTED("securejoin-header-only.eml", NOT_PGP_MIME),
    UNENCRYPTED("securejoin-wrong-body.eml", NOT_PGP_MIME),
    UNENCRYPTED("securejoin-two-parts.eml", NOT_PGP_MIME),
    UNENCRYPTED("securejoin-html.eml", NOT_PGP_MIME),
    UNENCRYPTED("securejoin-nested.eml", NOT_PGP_MIME),
    UNENCRYPTED("securejoin-wrong-header.eml", NOT_PGP_MIME),
    /* Mailed to BOB here; mailed to oneself in test_autocrypt_setup_message_only_to_self. */
    UNENCRYPTED("asm.eml", NOT_PGP_MIME),
    UNENCRYPTED("asm-wrong-subject.eml", NOT_PGP_MIME),
    UNENCRYPTED("asm-not-mixed.eml", NOT_PGP_MIME),
    UNENCRYPTED("mdn.eml", NOT_PGP_MIME),
    {"bounce.eml", DAEMON, POLICY_REJECT_UNENCRYPTED, NOT_PGP_MIME, POLICY_ACCEPT,
     "bounce from a mailer daemon", PLAIN},
    {"bounce-auto-submitted-no.eml", DAEMON, POLICY_REJECT_UNENCRYPTED, NOT_PGP_MIME,
     POLICY_REJECT_UNENCRYPTED, NOT_PGP_MIME, PLAIN},
    {"bounce-no-auto-submitted.eml", DAEMON, POLICY_REJECT_UNENCRYPTED, NOT_PGP_MIME,
     POLICY_REJECT_UNENCRYPTED, NOT_PGP_MIME, PLAIN},
    {"bounce-not-report.eml", DAEMON, POLICY_REJECT_UNENCRYPTED, NOT_PGP_MIME,
     POLICY_REJECT_UNENCRYPTED, NOT_PGP_MIME, PLAIN},
    {"bounce-not-daemon.eml", "mailer-daemon.fan@example.net", POLICY_REJECT_UNENCRYPTED,
     NOT_PGP_MIME, POLICY_REJECT_UNENCRYPTED, NOT_PGP_MIME, PLAIN},
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
			  out.reason != NULL && in.reason != NULL &&
			  strcmp(out.reason, k->outgoing_reason) == 0 &&
			  strcmp(in.reason, k->incoming_reason) == 0;
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

enum direction { TO_BOB, TO_SELF, INCOMING };

#define BOUNDARY "LtN3B8k2dQ4oYx7sZ0vRwAcE"
#define SJ_PART "Content-Type: text/plain; charset=utf-8\r\n\r\nSecure-Join: vc-request\r\n"

/* Rows undone: each message with the one defect its X-Test-Purpose names repaired gets the
 * verdict and reason of its good twin, so the row is refused for that defect and nothing
 * else. (The other rows differ from a good message in OpenPGP bytes or are refused at the
 * top; their reasons in the corpus table are all they can show.) */
/* clang-format off */
static const struct repair {
	const char *file, *defect, *repaired;
	enum direction direction;
	enum policy_verdict verdict;
	const char *reason;
} repairs[] = {
    {"from-two-addresses.eml", ", <mallory@example.net>", "", TO_BOB, POLICY_ACCEPT, "encrypted"},
    {"from-duplicate.eml", "From: <mallory@example.net>\r\n", "", TO_BOB, POLICY_ACCEPT, "encrypted"},
    {"plain-no-from.eml", "Subject:", "From: <" ALICE ">\r\nSubject:", TO_BOB,
     POLICY_REJECT_UNENCRYPTED, NOT_PGP_MIME},
    {"encrypted-armor-version.eml", "Version: ProtonMail\r\n", "", TO_BOB, POLICY_ACCEPT, "encrypted"},
    {"encrypted-armor-comment.eml", "Comment: https://example.org\r\n", "", TO_BOB, POLICY_ACCEPT,
     "encrypted"},
    {"broken-bad-base64.eml", "\r\nwV!D", "\r\nwV4D", TO_BOB, POLICY_ACCEPT, "encrypted"},
    {"broken-no-end-line.eml", "\r\n\r\n--" BOUNDARY "--",
     "\r\n-----END PGP MESSAGE-----\r\n\r\n--" BOUNDARY "--", TO_BOB, POLICY_ACCEPT, "encrypted"},
    {"broken-text-after-end.eml", "PS: read this in the clear\r\n", "", TO_BOB, POLICY_ACCEPT,
     "encrypted"},
    {"broken-signed-message.eml", "BEGIN PGP SIGNED MESSAGE", "BEGIN PGP MESSAGE", TO_BOB,
     POLICY_ACCEPT, "encrypted"},
    {"broken-version-2.eml", "Version: 2", "Version: 1", TO_BOB, POLICY_ACCEPT, "encrypted"},
    {"broken-no-boundary.eml", "pgp-encrypted\"\r\n\r\n",
     "pgp-encrypted\"; boundary=" BOUNDARY "\r\n\r\n", TO_BOB, POLICY_ACCEPT, "encrypted"},
    {"broken-three-parts.eml", "--ThreeParts\r\nContent-Type: text/plain\r\n\r\nHello in the clear\r\n",
     "", TO_BOB, POLICY_ACCEPT, "encrypted"},
    {"broken-duplicate-boundary.eml", "; boundary=\"other\"", "", TO_BOB, POLICY_ACCEPT, "encrypted"},
    {"header-not-a-field.eml", "This line is no field\r\n", "", TO_BOB, POLICY_ACCEPT, "encrypted"},
    {"header-space-before-colon.eml", "Content-Type : text/plain\r\n", "", TO_BOB, POLICY_ACCEPT,
     "encrypted"},
    {"header-blank-continuation.eml", "MIME-Version: 1.0\r\n \r\n", "MIME-Version: 1.0\r\n", TO_BOB,
     POLICY_ACCEPT, "encrypted"},
    {"header-content-type-comment.eml", " (PGP/MIME)", "", TO_BOB, POLICY_ACCEPT, "encrypted"},
    {"from-space-before-colon.eml", "From : \"Someone\" <bob@chat.example.org>\r\n", "", TO_BOB,
     POLICY_ACCEPT, "encrypted"},
    {"securejoin-wrong-body.eml", "Hi! Secure-Join: vc-request, and here is my cleartext message.",
     "Secure-Join: vc-request", TO_BOB, POLICY_ACCEPT, "Secure-Join request"},
    {"securejoin-two-parts.eml",
     "--SJ8x2mQpL0vKzR\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
     "aGVsbG8=\r\n", "", TO_BOB, POLICY_ACCEPT, "Secure-Join request"},
    {"securejoin-wrong-header.eml", "Secure-Join: vc-auth", "Secure-Join: vc-request", TO_BOB,
     POLICY_ACCEPT, "Secure-Join request"},
    {"securejoin-header-only.eml", SJ_PART,
     "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" SJ_PART "--b--\r\n", TO_BOB,
     POLICY_ACCEPT, "Secure-Join request"},
    {"securejoin-nested.eml",
     "Content-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n" SJ_PART "--inner--\r\n",
     SJ_PART, TO_BOB, POLICY_ACCEPT, "Secure-Join request"},
    {"asm-wrong-subject.eml", "Subject: Autocrypt Setup Message, really",
     "Subject: Autocrypt Setup Message", TO_SELF, POLICY_ACCEPT, "Autocrypt Setup Message to self"},
    {"asm-not-mixed.eml", "multipart/alternative", "multipart/mixed", TO_SELF, POLICY_ACCEPT,
     "Autocrypt Setup Message to self"},
    {"bounce-auto-submitted-no.eml", "Auto-Submitted: no", "Auto-Submitted: auto-replied",
     INCOMING, POLICY_ACCEPT, "bounce from a mailer daemon"},
    {"bounce-no-auto-submitted.eml", "MIME-Version: 1.0\r\n",
     "MIME-Version: 1.0\r\nAuto-Submitted: auto-replied\r\n", INCOMING, POLICY_ACCEPT,
     "bounce from a mailer daemon"},
    {"bounce-not-report.eml", "multipart/mixed", "multipart/report", INCOMING, POLICY_ACCEPT,
     "bounce from a mailer daemon"},
    {"bounce-not-daemon.eml", "From: <mailer-daemon.fan@example.net>",
     "From: <mailer-daemon@example.net>", INCOMING, POLICY_ACCEPT, "bounce from a mailer daemon"},
};
/* clang-format on */

/* m with its only occurrence of defect below the X-Test-Purpose line (which may name it)
 * replaced; {NULL, 0} when defect is not there exactly once. */
static struct text repair(struct text m, const char *defect, const char *repaired)
{
	struct text out = {NULL, 0};
	size_t defect_len = strlen(defect), repaired_len = strlen(repaired);
	const char *purpose_end = m.len > 0 ? memchr(m.text, '\n', m.len) : NULL;
	if (purpose_end == NULL)
		return out;
	const char *end = m.text + m.len,
		   *at = memmem(purpose_end, (size_t)(end - purpose_end), defect, defect_len);
	if (at == NULL || memmem(at + 1, (size_t)(end - at - 1), defect, defect_len) != NULL)
		return out;
	size_t head = (size_t)(at - m.text), tail = m.len - head - defect_len;
	out.len = head + repaired_len + tail;
	out.text = malloc(out.len);
	if (out.text == NULL)
		abort();
	memcpy(out.text, m.text, head);
	memcpy(out.text + head, repaired, repaired_len);
	memcpy(out.text + head + repaired_len, at + defect_len, tail);
	return out;
}

static struct policy_result judge(enum direction direction, struct text m)
{
	struct config c = config_with("");
	const char *const to_bob[] = {BOB}, *const to_self[] = {ALICE};
	const bool enforce[] = {true};
	if (direction == INCOMING)
		return incoming(to_bob, enforce, 1, m);
	return outgoing(&c, ALICE, direction == TO_SELF ? to_self : to_bob, 1, m);
}

static void test_each_row_fails_for_its_purpose(void)
{
	for (size_t i = 0; i < sizeof repairs / sizeof repairs[0]; i++) {
		const struct repair *k = &repairs[i];
		struct text m = load(k->file);
		struct text fixed = repair(m, k->defect, k->repaired);
		CHECK(fixed.text != NULL);
		if (fixed.text == NULL) {
			fprintf(stderr, "%s: the defect is not there exactly once\n", k->file);
			free(m.text);
			continue;
		}
		struct policy_result before = judge(k->direction, m),
				     after = judge(k->direction, fixed);
		bool ok = strcmp(before.reason, k->reason) != 0 && after.verdict == k->verdict &&
			  strcmp(after.reason, k->reason) == 0;
		CHECK(ok);
		if (!ok)
			fprintf(stderr, "%s: refused for '%s', repaired '%s'\n", k->file,
				before.reason, after.reason);
		free(fixed.text);
		free(m.text);
	}
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
	test_each_row_fails_for_its_purpose();
	test_from_header_must_be_the_envelope_sender();
	test_passthrough_senders_and_recipients();
	test_autocrypt_setup_message_only_to_self();
	test_incoming_enforcement_per_recipient();
	test_encryption_check_directly();
	test_truncated_messages_are_not_encrypted();
	return test_summary("policy");
}
