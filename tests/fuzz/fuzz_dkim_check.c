/* libFuzzer target for dkim_check, with keys from a file (never DNS): an input is a whole
 * message, or, when it starts with '+', the value of one more DKIM-Signature field put on top
 * of a validly signed message, which must still pass whatever that field says (but for an i=
 * that is not quoted-printable, which refuses the message). */
#include "dkim_check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The public halves of the keys that signed the seeds in corpus/fuzz_dkim_check. */
static const char keys[] =
    "fuzz._domainkey.a.test v=DKIM1; k=rsa; "
    "p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCk6tPtip5ISdMNNn7YPvh279ZHmvd1UJy6lbEhZkW5LkOMNv+"
    "ZPrLJTGmaIaocsGTfmO3ylPTrVxSPJNj6NKgKHfbM/x8zuc4YDcLI7Go788/ptNtBTNDPR/"
    "Z8wq4/EjSrIzjnljKsyqCnlNEvCxzyYJNO34J+45SKV/erxzVPjQIDAQAB\n"
    "fuzzed._domainkey.a.test v=DKIM1; k=ed25519; p=BRlYAnZCL4KFO3+MVYR5AHeUOs6XdQwUWenVYbnGin0=\n";

/* corpus/fuzz_dkim_check/rsa-relaxed.eml */
static const char signed_message[] =
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=a.test; s=fuzz;\r\n"
    "\tt=1796179233; bh=DD3L33E64/RV0CUJdfGTtPGKU7OPJpo/2LxOdf3k0RI=;\r\n"
    "\th=From:To:Subject:Date:Message-ID:Content-Type;\r\n"
    "\tb=LEUJHW2chRr/LMVDYzgRM9eb0FXIUY1BUK/a3RFnwZyTiu2ApWteAov8RKYxch1w6\r\n"
    "\t jODL8fum/v7CBC6psKGb/fVO9jLbQwrduppbtV8muCA3K23/EwSygJvFN1U+InCCFC\r\n"
    "\t MCR1EUl1zSUqShl6Z7IVzarDH2HhcRpfLdvG47k0=\r\n"
    "From: Alice <alice@a.test>\r\n"
    "To: bob@b.test\r\n"
    "Subject: fuzz\r\n"
    "Date: Wed, 02 Dec 2026 02:00:00 +0000\r\n"
    "Message-ID: <f@a.test>\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "Hello Bob.\r\n";

static char key_file[] = "/tmp/fuzz_dkim_check.XXXXXX";

static void remove_key_file(void)
{
	unlink(key_file);
}

/* libopendkim opens the key file by name for each lookup: it stays until the process ends. */
static struct dkim_checker *checker_with_key_file(void)
{
	int fd = mkstemp(key_file);
	const char *error = NULL;
	struct dkim_options opts = {.key_file = key_file};
	struct dkim_checker *checker;
	if (fd < 0 || write(fd, keys, sizeof keys - 1) != (ssize_t)(sizeof keys - 1))
		abort();
	close(fd);
	atexit(remove_key_file);
	checker = dkim_checker_new(&opts, &error);
	if (checker == NULL)
		abort();
	return checker;
}

/* Whether buf holds a byte that could end the field and start another. */
static bool has_line_end(const uint8_t *buf, size_t len)
{
	return memchr(buf, '\r', len) != NULL || memchr(buf, '\n', len) != NULL ||
	       memchr(buf, '\0', len) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dkim_checker *checker;
	struct dkim_result result;
	char *msg;
	size_t len;
	bool extra = size > 0 && data[0] == '+';

	if (checker == NULL)
		checker = checker_with_key_file();
	if (extra) {
		len = strlen("DKIM-Signature: ") + (size - 1) + 2 + sizeof signed_message - 1;
		msg = malloc(len);
		memcpy(msg, "DKIM-Signature: ", 16);
		memcpy(msg + 16, data + 1, size - 1);
		memcpy(msg + 16 + size - 1, "\r\n", 2);
		memcpy(msg + 16 + size + 1, signed_message, sizeof signed_message - 1);
	} else {
		len = size;
		msg = malloc(size > 0 ? size : 1);
		memcpy(msg, data, size);
	}
	dkim_check(checker, msg, len, "a.test", &result);
	if (result.reason[0] == '\0' || result.verdict > DKIM_VERDICT_TEMPFAIL)
		abort();
	/* Keys come from a file that is there: nothing can be deferred. */
	if (result.verdict == DKIM_VERDICT_TEMPFAIL)
		abort();
	/* A broken or forged extra signature never spoils the valid one, but for the one refusal
	 * of a whole message that shields libopendkim (an i= that is not quoted-printable). */
	if (extra && !has_line_end(data + 1, size - 1) && result.verdict != DKIM_VERDICT_PASS &&
	    strcmp(result.reason, "i= is not quoted-printable") != 0) {
		fprintf(stderr, "valid signature lost: %s\n", result.reason);
		abort();
	}
	free(msg);
	return 0;
}
