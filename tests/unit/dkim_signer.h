/* Test keys and a DKIM signer for the tests and benchmarks of dkim_check: keys made with
 * OpenSSL, signatures made by libopendkim's signer, as a sending relay's OpenDKIM makes them. */
#ifndef CHATMAIL_DKIM_SIGNER_H
#define CHATMAIL_DKIM_SIGNER_H

#include <opendkim/dkim.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dkim_test_key {
	char *pem;    /* private key for the signer */
	char *record; /* the DKIM TXT record */
	bool is_rsa;
};

static inline char *dkim_test_base64(const unsigned char *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* Takes pkey (an RSA or Ed25519 key) and frees it. */
static inline void dkim_test_key_make(struct dkim_test_key *key, EVP_PKEY *pkey)
{
	unsigned char raw[32], *der = NULL;
	size_t raw_len = sizeof raw, size;
	char *p, *data;
	long len;
	BIO *bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL);
	len = BIO_get_mem_data(bio, &data);
	key->pem = strndup(data, (size_t)len);
	BIO_free(bio);
	key->is_rsa = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA;
	if (key->is_rsa) {
		int der_len = i2d_PUBKEY(pkey, &der); /* RFC 6376 §3.6.1: SubjectPublicKeyInfo */
		p = dkim_test_base64(der, (size_t)der_len);
		OPENSSL_free(der);
	} else {
		EVP_PKEY_get_raw_public_key(pkey, raw, &raw_len); /* RFC 8463 §4: the raw key */
		p = dkim_test_base64(raw, raw_len);
	}
	size = strlen(p) + 64;
	key->record = malloc(size);
	snprintf(key->record, size, "v=DKIM1; k=%s; p=%s", key->is_rsa ? "rsa" : "ed25519", p);
	free(p);
	EVP_PKEY_free(pkey);
}

static inline void dkim_test_key_free(struct dkim_test_key *key)
{
	free(key->pem);
	free(key->record);
}

struct dkim_signing {
	const struct dkim_test_key *key;
	const char *selector;
	const char *domain;
	dkim_canon_t header_canon, body_canon;
	dkim_alg_t alg;
	time_t when;		    /* t=, 0 for now */
	uint64_t ttl;		    /* x= = t= + ttl, 0 for none */
	bool length;		    /* l= */
	const char **required_hdrs; /* NULL: libopendkim's (From) */
};

/* relaxed/relaxed with the key's -sha256 algorithm, as most signers do. */
static inline struct dkim_signing dkim_relaxed(const struct dkim_test_key *key,
					       const char *selector, const char *domain)
{
	struct dkim_signing s = {
	    .key = key,
	    .selector = selector,
	    .domain = domain,
	    .header_canon = DKIM_CANON_RELAXED,
	    .body_canon = DKIM_CANON_RELAXED,
	    .alg = key->is_rsa ? DKIM_SIGN_RSASHA256 : DKIM_SIGN_ED25519SHA256,
	};
	return s;
}

/* msg with a DKIM-Signature field by s on top, as a signing relay adds it; malloc'd. */
static inline char *dkim_test_sign(const char *msg, struct dkim_signing s)
{
	DKIM_LIB *lib = dkim_init(NULL, NULL);
	unsigned min_bits = 512, flags = s.length ? DKIM_LIBFLAGS_SIGNLEN : 0;
	uint64_t when = (uint64_t)s.when;
	DKIM_STAT status;
	DKIM *dkim;
	unsigned char *header = NULL;
	size_t header_len = 0;
	char *out = NULL;

	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &min_bits, sizeof min_bits);
	dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags);
	if (s.when != 0)
		dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &when, sizeof when);
	if (s.ttl != 0)
		dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNATURETTL, &s.ttl, sizeof s.ttl);
	if (s.required_hdrs != NULL)
		dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_REQUIREDHDRS, s.required_hdrs,
			     sizeof s.required_hdrs);
	dkim = dkim_sign(lib, (const unsigned char *)"test", NULL, (unsigned char *)s.key->pem,
			 (const unsigned char *)s.selector, (const unsigned char *)s.domain,
			 s.header_canon, s.body_canon, s.alg, -1, &status);
	if (dkim != NULL && dkim_chunk(dkim, (unsigned char *)msg, strlen(msg)) == DKIM_STAT_OK &&
	    dkim_chunk(dkim, NULL, 0) == DKIM_STAT_OK && dkim_eom(dkim, NULL) == DKIM_STAT_OK &&
	    dkim_getsighdr_d(dkim, strlen("DKIM-Signature: "), &header, &header_len) ==
		DKIM_STAT_OK) {
		size_t size = header_len + strlen(msg) + 32;
		out = malloc(size);
		snprintf(out, size, "DKIM-Signature: %.*s\r\n%s", (int)header_len, header, msg);
	} else {
		fprintf(stderr, "signing failed: %s\n", dkim != NULL ? dkim_geterror(dkim) : "");
		out = strdup(msg);
	}
	if (dkim != NULL)
		dkim_free(dkim);
	dkim_close(lib);
	return out;
}

#endif
