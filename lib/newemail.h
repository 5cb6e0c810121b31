/* SPEC §3, POST /new: what a request asks for, the shape of new credentials, the answer. */
#ifndef CHATMAIL_NEWEMAIL_H
#define CHATMAIL_NEWEMAIL_H

#include "accounts.h"
#include "address.h"
#include "config.h"
#include "passwd.h"

#include <stddef.h>
#include <stdint.h>

#define NEWEMAIL_LOCALPART_ALPHABET "abcdefghijklmnopqrstuvwxyz0123456789"
/* Letters, digits and ASCII punctuation, as the reference relay draws them. */
#define NEWEMAIL_PASSWORD_ALPHABET                                                               \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"                          \
	"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
/* password_min_length + 3 characters, as the reference relay makes them. */
#define NEWEMAIL_PASSWORD_EXTRA 3

/* A body on POST /new is refused; one larger than this (nginx's client_max_body_size in
 * conf/nginx) is "too large" rather than merely unexpected. The app never reads a body. */
#define NEWEMAIL_BODY_MAX 1024
/* A method name longer than any HTTP method is no method we know. */
#define NEWEMAIL_METHOD_MAX 32
/* A collision of two random localparts is so rare that a few fresh names always suffice;
 * the bound keeps a tiny username_max_length from spinning for ever. */
#define NEWEMAIL_CREATE_ATTEMPTS 16

#define NEWEMAIL_URL_MAX (3 * (MAILSTORE_ADDRESS_MAX + PASSWD_MAX) + 2 * CONFIG_DOMAIN_MAX + 64)
#define NEWEMAIL_ANSWER_MAX (2 * NEWEMAIL_URL_MAX)

/* What a request asks for, decided from the CGI variables alone. */
enum newemail_action {
	NEWEMAIL_CREATE,          /* POST: make an account, answer 200 with its credentials */
	NEWEMAIL_REDIRECT,        /* GET: a person's browser, sent on to Delta Chat with 301 */
	NEWEMAIL_NO_METHOD,       /* 500: the gateway set no REQUEST_METHOD (fastcgi_params?) */
	NEWEMAIL_METHOD_REFUSED,  /* 405 with Allow: GET, POST */
	NEWEMAIL_QUERY_REFUSED,   /* 400: /new takes no parameters */
	NEWEMAIL_BAD_LENGTH,      /* 400: CONTENT_LENGTH is not a number */
	NEWEMAIL_BODY_REFUSED,    /* 400: POST /new takes no body */
	NEWEMAIL_BODY_TOO_LARGE,  /* 413 */
};

/* The CGI variables that matter; NULL when the gateway did not set one. */
struct newemail_request {
	const char *method;
	const char *query;
	const char *content_length;
};

enum newemail_action newemail_classify(const struct newemail_request *request);

/* HTTP status codes of the answers. */
enum newemail_status {
	NEWEMAIL_HTTP_OK = 200,
	NEWEMAIL_HTTP_MOVED = 301,
	NEWEMAIL_HTTP_BAD_REQUEST = 400,
	NEWEMAIL_HTTP_METHOD_NOT_ALLOWED = 405,
	NEWEMAIL_HTTP_TOO_LARGE = 413,
	NEWEMAIL_HTTP_INTERNAL_ERROR = 500,
	NEWEMAIL_HTTP_UNAVAILABLE = 503,
};

/* The status of a refused request and the reason sent in its JSON body (and logged). */
enum newemail_status newemail_action_status(enum newemail_action action);
const char *newemail_action_text(enum newemail_action action);

/* Relays whose TLS certificate clients cannot check: IP-only ones, and those whose domain
 * starts with '_' (no CA issues for it; the reference relay makes them self-signed). */
bool newemail_self_signed(const struct config *config);

/* Percent-encodes text[0..len) into out: everything but RFC 3986 unreserved characters and
 * the bytes in keep. Returns the length, or 0 when it does not fit (out then holds ""). */
size_t newemail_url_encode(char *out, size_t size, const char *text, size_t len,
			   const char *keep);

/* dclogin:<addr>?p=<password>&v=1&ic=3&sc=3, plus &ih=&sh= the IP for an IP-only relay: the
 * login link Delta Chat takes for a relay with an uncheckable certificate.
 * Returns the length, or 0 when it does not fit. */
size_t newemail_dclogin_url(const struct config *config, const char *addr, const char *password,
			    char *out, size_t size);

/* The JSON body of a 200: email, password, and dclogin_url for a self-signed relay.
 * Returns the length, or 0 when it does not fit. */
size_t newemail_answer(const struct config *config, const char *addr, const char *password,
		       char *out, size_t size);

/* The JSON body of a refusal: {"error": text}. Returns the length, or 0. */
size_t newemail_error(const char *text, char *out, size_t size);

/* The outcome of newemail_create. */
enum newemail_result {
	NEWEMAIL_CREATED,
	NEWEMAIL_EXHAUSTED, /* every fresh name was taken: username_max_length is too small */
	NEWEMAIL_FAILED,    /* no randomness, no hash or database trouble (already logged) */
};

/* Makes an account with a random localpart of username_max_length characters and a random
 * password of password_min_length + NEWEMAIL_PASSWORD_EXTRA characters, stored at once (the
 * hash only) through account_create; a taken name is retried with a fresh one.
 * addr holds MAILSTORE_ADDRESS_MAX + 1 bytes, password PASSWD_MAX. */
enum newemail_result newemail_create(const struct config *config, struct accounts *accounts,
				     int64_t now, char *addr, char *password);

#endif
