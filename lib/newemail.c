/* POST /new (SPEC §3): request policy, credentials and answers; the FastCGI/CGI I/O is in
 * cgi/newemail.c. */
#include "newemail.h"

#include "account.h"
#include "json.h"
#include "log.h"
#include "random.h"

#include <stdio.h>
#include <string.h>

#define LOCALPART_MAX 64 /* the largest username_max_length config.c accepts */

/* Parses CONTENT_LENGTH; anything above NEWEMAIL_BODY_MAX counts as NEWEMAIL_BODY_MAX + 1, so
 * no length overflows. Returns 0, or -1 when it is not a decimal number. */
static int parse_length(const char *text, size_t *length)
{
	size_t value = 0;

	if (text[0] == '\0')
		return -1;
	for (const char *p = text; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		value = value * 10 + (size_t)(*p - '0');
		if (value > NEWEMAIL_BODY_MAX)
			value = NEWEMAIL_BODY_MAX + 1;
	}
	*length = value;
	return 0;
}

enum newemail_action newemail_classify(const struct newemail_request *request)
{
	size_t length;

	if (request->method == NULL || request->method[0] == '\0')
		return NEWEMAIL_NO_METHOD;
	bool get = strcmp(request->method, "GET") == 0;
	if (!get && strcmp(request->method, "POST") != 0)
		return NEWEMAIL_METHOD_REFUSED;
	if (request->query != NULL && request->query[0] != '\0')
		return NEWEMAIL_QUERY_REFUSED;
	if (get)
		return NEWEMAIL_REDIRECT;
	/* nginx's fastcgi_params sends an empty CONTENT_LENGTH when there is no body. */
	if (request->content_length == NULL || request->content_length[0] == '\0')
		return NEWEMAIL_CREATE;
	if (parse_length(request->content_length, &length) != 0)
		return NEWEMAIL_BAD_LENGTH;
	if (length > NEWEMAIL_BODY_MAX)
		return NEWEMAIL_BODY_TOO_LARGE;
	return length == 0 ? NEWEMAIL_CREATE : NEWEMAIL_BODY_REFUSED;
}

enum newemail_status newemail_action_status(enum newemail_action action)
{
	switch (action) {
	case NEWEMAIL_CREATE: return NEWEMAIL_HTTP_OK;
	case NEWEMAIL_REDIRECT: return NEWEMAIL_HTTP_MOVED;
	case NEWEMAIL_NO_METHOD: return NEWEMAIL_HTTP_INTERNAL_ERROR;
	case NEWEMAIL_METHOD_REFUSED: return NEWEMAIL_HTTP_METHOD_NOT_ALLOWED;
	case NEWEMAIL_QUERY_REFUSED: return NEWEMAIL_HTTP_BAD_REQUEST;
	case NEWEMAIL_BAD_LENGTH: return NEWEMAIL_HTTP_BAD_REQUEST;
	case NEWEMAIL_BODY_REFUSED: return NEWEMAIL_HTTP_BAD_REQUEST;
	case NEWEMAIL_BODY_TOO_LARGE: return NEWEMAIL_HTTP_TOO_LARGE;
	}
	return NEWEMAIL_HTTP_INTERNAL_ERROR;
}

const char *newemail_action_text(enum newemail_action action)
{
	switch (action) {
	case NEWEMAIL_CREATE: return "create an account";
	case NEWEMAIL_REDIRECT: return "redirect to Delta Chat";
	case NEWEMAIL_NO_METHOD: return "the gateway set no REQUEST_METHOD";
	case NEWEMAIL_METHOD_REFUSED: return "only GET and POST are allowed";
	case NEWEMAIL_QUERY_REFUSED: return "/new takes no query string";
	case NEWEMAIL_BAD_LENGTH: return "CONTENT_LENGTH is not a number";
	case NEWEMAIL_BODY_REFUSED: return "POST /new takes no request body";
	case NEWEMAIL_BODY_TOO_LARGE: return "request body too large";
	}
	return "bad request";
}

bool newemail_self_signed(const struct config *config)
{
	return config->ip_only || config->mail_domain[0] == '_';
}

static bool unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

size_t newemail_url_encode(char *out, size_t size, const char *text, size_t len,
			   const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	if (size == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		bool plain = unreserved(c) || (c != '\0' && strchr(keep, c) != NULL);
		size_t need = plain ? 1 : 3;
		if (need >= size - n) {
			out[0] = '\0';
			return 0;
		}
		if (plain) {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return n;
}

size_t newemail_dclogin_url(const struct config *config, const char *addr, const char *password,
			    char *out, size_t size)
{
	char addr_encoded[3 * MAILSTORE_ADDRESS_MAX + 1], password_encoded[3 * PASSWD_MAX + 1];
	char host_encoded[3 * CONFIG_DOMAIN_MAX + 1], hosts[2 * sizeof host_encoded + 16] = "";

	/* '@' stays: clients that read the address without decoding it still find it. */
	if (newemail_url_encode(addr_encoded, sizeof addr_encoded, addr, strlen(addr), "@") == 0 ||
	    newemail_url_encode(password_encoded, sizeof password_encoded, password,
				strlen(password), "") == 0)
		return 0;
	if (config->ip_only) {
		/* The IP has no DNS records to find the IMAP and SMTP hosts from. */
		if (newemail_url_encode(host_encoded, sizeof host_encoded, config->mail_domain,
					strlen(config->mail_domain), "") == 0)
			return 0;
		int n = snprintf(hosts, sizeof hosts, "&ih=%s&sh=%s", host_encoded, host_encoded);
		if (n < 0 || (size_t)n >= sizeof hosts)
			return 0;
	}
	/* ic=3 and sc=3: accept the certificate that cannot be checked (sc for older clients). */
	int n = snprintf(out, size, "dclogin:%s?p=%s&v=1&ic=3&sc=3%s", addr_encoded,
			 password_encoded, hosts);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			out[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

size_t newemail_answer(const struct config *config, const char *addr, const char *password,
		       char *out, size_t size)
{
	struct json_writer writer;

	json_begin(&writer, out, size);
	json_member(&writer, "email", addr, strlen(addr));
	json_member(&writer, "password", password, strlen(password));
	if (newemail_self_signed(config)) {
		char url[NEWEMAIL_URL_MAX];
		size_t len = newemail_dclogin_url(config, addr, password, url, sizeof url);
		if (len == 0)
			writer.overflow = true; /* no answer without the URL it needs */
		else
			json_member(&writer, "dclogin_url", url, len);
		explicit_bzero(url, sizeof url);
	}
	return json_end(&writer);
}

size_t newemail_error(const char *text, char *out, size_t size)
{
	struct json_writer writer;

	json_begin(&writer, out, size);
	json_member(&writer, "error", text, strlen(text));
	return json_end(&writer);
}

/* Tries fresh localparts until one is free; the password and its hash stay the same, since
 * hashing is the costly part. */
static enum newemail_result store(const struct config *config, struct accounts *accounts,
				  int64_t now, const char *hash, char *addr)
{
	char localpart[LOCALPART_MAX + 1];

	for (int attempt = 0; attempt < NEWEMAIL_CREATE_ATTEMPTS; attempt++) {
		if (random_string(localpart, config->username_max_length,
				  NEWEMAIL_LOCALPART_ALPHABET) != 0) {
			log_error("the kernel gave no random bytes");
			return NEWEMAIL_FAILED;
		}
		int n = snprintf(addr, MAILSTORE_ADDRESS_MAX + 1, "%s@%s", localpart,
				 config->address_domain);
		if (n < 0 || n > MAILSTORE_ADDRESS_MAX ||
		    address_check(config, addr, (size_t)n) != ADDRESS_OK) {
			log_error("cannot make a valid address for %s", config->address_domain);
			return NEWEMAIL_FAILED;
		}
		switch (account_create(config, accounts, addr, hash, now)) {
		case ACCOUNTS_OK:
			return NEWEMAIL_CREATED;
		case ACCOUNTS_EXISTS:
			continue;
		default:
			return NEWEMAIL_FAILED; /* account_create logged why */
		}
	}
	log_error("no free address after %d attempts: is username_max_length (%u) too small?",
		  NEWEMAIL_CREATE_ATTEMPTS, config->username_max_length);
	return NEWEMAIL_EXHAUSTED;
}

enum newemail_result newemail_create(const struct config *config, struct accounts *accounts,
				     int64_t now, char *addr, char *password)
{
	size_t password_len = (size_t)config->password_min_length + NEWEMAIL_PASSWORD_EXTRA;
	char hash[PASSWD_HASH_MAX];

	addr[0] = password[0] = '\0';
	if (config->username_max_length > LOCALPART_MAX || password_len >= PASSWD_MAX) {
		log_error("username_max_length %u or password_min_length %u is too large for /new",
			  config->username_max_length, config->password_min_length);
		return NEWEMAIL_FAILED;
	}
	if (random_string(password, password_len, NEWEMAIL_PASSWORD_ALPHABET) != 0) {
		log_error("the kernel gave no random bytes");
		return NEWEMAIL_FAILED;
	}
	if (passwd_hash(password, hash, sizeof hash) != 0) {
		log_error("cannot hash a new password");
		explicit_bzero(password, PASSWD_MAX);
		return NEWEMAIL_FAILED;
	}
	enum newemail_result result = store(config, accounts, now, hash, addr);
	explicit_bzero(hash, sizeof hash);
	if (result != NEWEMAIL_CREATED) {
		explicit_bzero(password, PASSWD_MAX);
		addr[0] = '\0';
	}
	return result;
}
