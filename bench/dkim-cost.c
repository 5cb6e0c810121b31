/* dkim-cost: what incoming DKIM verification costs filtermail: setting up the checker (once per
 * process), and one check per message, RSA-2048 and Ed25519, 10 KB and 1 MB, with the key
 * looked up through the resolver library from a DNS server on loopback (as from a local
 * unbound with the key in its cache).
 * usage: dkim-cost COUNT */
#include "dkim_check.h"

#include "dkim_signer.h"
#include "dns_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A message whose body is size bytes of 76-character lines, like an armored OpenPGP block. */
static char *message(size_t size)
{
	static const char header[] = "From: <alice@a.test>\r\nTo: <bob@b.test>\r\n"
				     "Subject: [...]\r\nMessage-ID: <1@a.test>\r\n\r\n";
	char *msg = malloc(sizeof header + size + 80);
	size_t len = sizeof header - 1;
	memcpy(msg, header, len);
	while (len < sizeof header - 1 + size) {
		memset(msg + len, 'A', 76);
		memcpy(msg + len + 76, "\r\n", 2);
		len += 78;
	}
	msg[len] = '\0';
	return msg;
}

static int measure(struct dkim_checker *checker, const char *label, const char *msg, int count)
{
	struct dkim_result result;
	double start = now();
	for (int i = 0; i < count; i++) {
		dkim_check(checker, msg, strlen(msg), "a.test", &result);
		if (result.verdict != DKIM_VERDICT_PASS) {
			fprintf(stderr, "dkim-cost: %s: %s\n", label, result.reason);
			return 1;
		}
	}
	printf("  DKIM check, %s: %.0f us per message\n", label, (now() - start) / count * 1e6);
	return 0;
}

int main(int argc, char **argv)
{
	int count = argc == 2 ? atoi(argv[1]) : 0, failed = 0;
	struct dkim_test_key rsa, ed;
	struct dns_server dns = {0};
	struct dkim_options opts = {0};
	const char *error = NULL;
	struct dkim_checker *checker;
	char *small = message(10 * 1000), *large = message(1000 * 1000);
	double start;

	if (count <= 0)
		return 2;
	dkim_test_key_make(&rsa, EVP_RSA_gen(2048));
	dkim_test_key_make(&ed, EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	dns_server_add(&dns, "rsa._domainkey.a.test", rsa.record);
	dns_server_add(&dns, "ed._domainkey.a.test", ed.record);
	if (dns_server_start(&dns) != 0)
		return 1;
	opts.nameserver = dns.address;

	/* The first one also initialises OpenSSL, as in a new filtermail process. */
	start = now();
	checker = dkim_checker_new(&opts, &error);
	printf("  DKIM checker setup, first in the process: %.0f us\n", (now() - start) * 1e6);
	dkim_checker_free(checker);
	start = now();
	for (int i = 0; i < count; i++) {
		checker = dkim_checker_new(&opts, &error);
		if (checker == NULL) {
			fprintf(stderr, "dkim-cost: %s\n", error);
			dns_server_stop(&dns);
			return 1;
		}
		dkim_checker_free(checker);
	}
	printf("  DKIM checker setup, again: %.0f us\n", (now() - start) / count * 1e6);

	checker = dkim_checker_new(&opts, &error);
	failed |= measure(checker, "RSA-2048, 10 KB",
			  dkim_test_sign(small, dkim_relaxed(&rsa, "rsa", "a.test")), count);
	failed |= measure(checker, "Ed25519, 10 KB",
			  dkim_test_sign(small, dkim_relaxed(&ed, "ed", "a.test")), count);
	failed |= measure(checker, "RSA-2048, 1 MB",
			  dkim_test_sign(large, dkim_relaxed(&rsa, "rsa", "a.test")),
			  count / 10 > 0 ? count / 10 : 1);
	printf("  DNS queries: %u for %d checks (one per check: no cache in the process)\n",
	       *dns.queries, 2 * count + (count / 10 > 0 ? count / 10 : 1));
	dkim_checker_free(checker);
	dns_server_stop(&dns);
	return failed;
}
