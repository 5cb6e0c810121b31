/* POST /new policy of SPEC §3: request classes, dclogin URLs, answers, and account creation on
 * a real sqlite store in a temp dir. */
#include "account.h"
#include "accounts.h"
#include "address.h"
#include "log.h"
#include "newemail.h"
#include "passwd.h"
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char dir[64] = "/tmp/chatmail-newemail-XXXXXX";

static void make_config(struct config *config, const char *domain, const char *extra)
{
	char ini[2048];
	struct config_error error;
	int n = snprintf(ini, sizeof ini,
			 "[params]\nmail_domain = %s\npassdb_path = %s/passdb.sqlite\n"
			 "mailboxes_dir = %s/mail\nnocreate_file = %s/nocreate\n"
			 "vmail_user = %d:%d\nmin_free_disk_space = 0\nmin_available_memory = 0\n"
			 "max_load_1m = 100000\n%s",
			 domain, dir, dir, dir, (int)getuid(), (int)getgid(), extra);
	CHECK(n > 0 && (size_t)n < sizeof ini);
	CHECK(config_parse(config, ini, (size_t)n, &error, NULL, NULL) == 0);
}

static enum newemail_action classify(const char *method, const char *query, const char *length)
{
	struct newemail_request request = {method, query, length};
	return newemail_classify(&request);
}

static void test_classify(void)
{
	CHECK(classify("POST", NULL, NULL) == NEWEMAIL_CREATE);
	CHECK(classify("POST", "", "") == NEWEMAIL_CREATE); /* nginx's fastcgi_params, no body */
	CHECK(classify("POST", NULL, "0") == NEWEMAIL_CREATE);
	CHECK(classify("POST", NULL, "000") == NEWEMAIL_CREATE);
	CHECK(classify("GET", NULL, NULL) == NEWEMAIL_REDIRECT);
	CHECK(classify("GET", "", "") == NEWEMAIL_REDIRECT);
	CHECK(classify(NULL, NULL, NULL) == NEWEMAIL_NO_METHOD);
	CHECK(classify("", NULL, NULL) == NEWEMAIL_NO_METHOD);
	CHECK(classify("PUT", NULL, NULL) == NEWEMAIL_METHOD_REFUSED);
	CHECK(classify("HEAD", NULL, NULL) == NEWEMAIL_METHOD_REFUSED);
	CHECK(classify("post", NULL, NULL) == NEWEMAIL_METHOD_REFUSED); /* methods are exact */
	CHECK(classify("POST ", NULL, NULL) == NEWEMAIL_METHOD_REFUSED);
	CHECK(classify("POSTX", NULL, NULL) == NEWEMAIL_METHOD_REFUSED);
	CHECK(classify("PUT", "a=1", "5") == NEWEMAIL_METHOD_REFUSED); /* the method comes first */
	CHECK(classify("POST", "a=1", NULL) == NEWEMAIL_QUERY_REFUSED);
	CHECK(classify("GET", "x", NULL) == NEWEMAIL_QUERY_REFUSED);
	CHECK(classify("POST", NULL, "1") == NEWEMAIL_BODY_REFUSED);
	CHECK(classify("POST", NULL, "1024") == NEWEMAIL_BODY_REFUSED);
	CHECK(classify("POST", NULL, "1025") == NEWEMAIL_BODY_TOO_LARGE);
	CHECK(classify("POST", NULL, "99999999999999999999999999999") == NEWEMAIL_BODY_TOO_LARGE);
	CHECK(classify("POST", NULL, "-1") == NEWEMAIL_BAD_LENGTH);
	CHECK(classify("POST", NULL, "1e3") == NEWEMAIL_BAD_LENGTH);
	CHECK(classify("POST", NULL, " 1") == NEWEMAIL_BAD_LENGTH);
	CHECK(classify("POST", NULL, "0x10") == NEWEMAIL_BAD_LENGTH);
	CHECK(classify("GET", NULL, "5") == NEWEMAIL_REDIRECT); /* a GET body is never read */

	CHECK(newemail_action_status(NEWEMAIL_CREATE) == 200);
	CHECK(newemail_action_status(NEWEMAIL_REDIRECT) == 301);
	CHECK(newemail_action_status(NEWEMAIL_NO_METHOD) == 500);
	CHECK(newemail_action_status(NEWEMAIL_METHOD_REFUSED) == 405);
	CHECK(newemail_action_status(NEWEMAIL_QUERY_REFUSED) == 400);
	CHECK(newemail_action_status(NEWEMAIL_BAD_LENGTH) == 400);
	CHECK(newemail_action_status(NEWEMAIL_BODY_REFUSED) == 400);
	CHECK(newemail_action_status(NEWEMAIL_BODY_TOO_LARGE) == 413);
}

static void test_url(void)
{
	char out[64];
	CHECK(newemail_url_encode(out, sizeof out, "aZ09-._~", 8, "") == 8);
	CHECK_STR(out, "aZ09-._~");
	CHECK(newemail_url_encode(out, sizeof out, "a@[1]", 5, "@") == 9);
	CHECK_STR(out, "a@%5B1%5D");
	CHECK(newemail_url_encode(out, sizeof out, "+ &=%#?/", 8, "") == 24);
	CHECK_STR(out, "%2B%20%26%3D%25%23%3F%2F");
	CHECK(newemail_url_encode(out, sizeof out, "\xc3\xa9\x01", 3, "") == 9);
	CHECK_STR(out, "%C3%A9%01");
	CHECK(newemail_url_encode(out, sizeof out, "a\0b", 3, "") == 5); /* NUL is never kept */
	CHECK_STR(out, "a%00b");
	/* "%2B" needs 4 bytes with its NUL */
	CHECK(newemail_url_encode(out, 4, "+", 1, "") == 3);
	CHECK(newemail_url_encode(out, 3, "+", 1, "") == 0);
	CHECK_STR(out, "");
	CHECK(newemail_url_encode(out, 2, "ab", 2, "") == 0);
}

/* Decodes %XX in text; enough to read back what newemail_url_encode wrote. */
static void url_decode(const char *text, char *out)
{
	while (*text != '\0') {
		unsigned value;
		if (*text == '%' && sscanf(text + 1, "%2x", &value) == 1) {
			*out++ = (char)value;
			text += 3;
		} else {
			*out++ = *text++;
		}
	}
	*out = '\0';
}

static void test_dclogin(void)
{
	struct config config;
	char url[NEWEMAIL_URL_MAX];

	make_config(&config, "1.2.3.4", "");
	CHECK(newemail_self_signed(&config));
	CHECK(newemail_dclogin_url(&config, "abc@[1.2.3.4]", "p&=+ %w", url, sizeof url) > 0);
	CHECK_STR(url, "dclogin:abc@%5B1.2.3.4%5D?p=p%26%3D%2B%20%25w&v=1&ic=3&sc=3"
		       "&ih=1.2.3.4&sh=1.2.3.4");

	make_config(&config, "_chat.example.org", "");
	CHECK(newemail_self_signed(&config));
	CHECK(newemail_dclogin_url(&config, "abc@_chat.example.org", "x", url, sizeof url) > 0);
	CHECK_STR(url, "dclogin:abc@_chat.example.org?p=x&v=1&ic=3&sc=3");

	make_config(&config, "example.org", "");
	CHECK(!newemail_self_signed(&config));

	/* Every character a password can have survives the trip through the URL. */
	const char *all = NEWEMAIL_PASSWORD_ALPHABET;
	make_config(&config, "1.2.3.4", "");
	size_t len = newemail_dclogin_url(&config, "abc@[1.2.3.4]", all, url, sizeof url);
	CHECK(len > 0 && len == strlen(url));
	const char *p = strstr(url, "?p=");
	const char *end = strstr(url, "&v=1");
	CHECK(p != NULL && end != NULL && end > p);
	if (p != NULL && end != NULL && end > p) {
		char value[NEWEMAIL_URL_MAX], decoded[NEWEMAIL_URL_MAX];
		memcpy(value, p + 3, (size_t)(end - p - 3));
		value[end - p - 3] = '\0';
		CHECK(strpbrk(value, "&?#+ =") == NULL);
		url_decode(value, decoded);
		CHECK_STR(decoded, all);
	}
	CHECK(newemail_dclogin_url(&config, "abc@[1.2.3.4]", all, url, 40) == 0);
}

static void test_answer(void)
{
	struct config config;
	char body[NEWEMAIL_ANSWER_MAX];

	make_config(&config, "example.org", "");
	CHECK(newemail_answer(&config, "abcdefghi@example.org", "a\"b\\c", body, sizeof body) > 0);
	CHECK_STR(body, "{\"email\": \"abcdefghi@example.org\", \"password\": \"a\\\"b\\\\c\"}\n");
	make_config(&config, "1.2.3.4", "");
	CHECK(newemail_answer(&config, "abcdefghi@[1.2.3.4]", "pw", body, sizeof body) > 0);
	CHECK_STR(body, "{\"email\": \"abcdefghi@[1.2.3.4]\", \"password\": \"pw\", "
			"\"dclogin_url\": \"dclogin:abcdefghi@%5B1.2.3.4%5D?p=pw&v=1&ic=3&sc=3"
			"&ih=1.2.3.4&sh=1.2.3.4\"}\n");
	CHECK(newemail_answer(&config, "abcdefghi@[1.2.3.4]", "pw", body, 60) == 0);
	CHECK(newemail_error("no \"way\"", body, sizeof body) > 0);
	CHECK_STR(body, "{\"error\": \"no \\\"way\\\"\"}\n");
}

static int count(const char *addr, int64_t last_login, void *context)
{
	(void)addr, (void)last_login;
	++*(int *)context;
	return 0;
}

static int stored(struct accounts *accounts)
{
	int n = 0;
	CHECK(accounts_foreach(accounts, count, &n) == ACCOUNTS_OK);
	return n;
}

/* Takes the first `taken` one-character localparts (a, b, c, ...) of a 36-name space. */
static void take_names(struct accounts *accounts, int taken)
{
	for (int i = 0; i < taken; i++) {
		char addr[32];
		snprintf(addr, sizeof addr, "%c@example.org", NEWEMAIL_LOCALPART_ALPHABET[i]);
		CHECK(accounts_insert(accounts, addr, "{X}taken", 0) == ACCOUNTS_OK);
	}
}

static void test_create(void)
{
	struct config config;
	char addr[MAILSTORE_ADDRESS_MAX + 1], password[PASSWD_MAX], hash[PASSWD_HASH_MAX];

	make_config(&config, "example.org", "password_min_length = 20\n");
	struct accounts *accounts = accounts_open(config.passdb_path);
	CHECK(accounts != NULL);
	CHECK(newemail_create(&config, accounts, 86400 * 3, addr, password) == NEWEMAIL_CREATED);
	CHECK(address_check(&config, addr, strlen(addr)) == ADDRESS_OK);
	CHECK(strlen(addr) == 9 + strlen("@example.org"));
	CHECK(strspn(addr, NEWEMAIL_LOCALPART_ALPHABET) == 9);
	CHECK(strlen(password) == 23);
	CHECK(strspn(password, NEWEMAIL_PASSWORD_ALPHABET) == 23);
	int64_t last_login;
	CHECK(accounts_get(accounts, addr, hash, &last_login) == ACCOUNTS_OK);
	CHECK(strstr(hash, password) == NULL);
	CHECK(passwd_verify(password, hash));
	CHECK(last_login == 86400 * 3);
	char home[512];
	snprintf(home, sizeof home, "%s/mail/%s/enforceE2EEincoming", dir, addr);
	CHECK(access(home, F_OK) == 0);
	accounts_close(accounts);

	/* A space of 36 names (one character) with a third taken: a single attempt would
	 * collide in one of three creations, so 40 creations in a row only succeed when a
	 * collision is retried with a fresh name (a false failure: 40 * 3^-16 ~ 1e-6). */
	make_config(&config, "example.org", "username_min_length = 1\nusername_max_length = 1\n");
	int created = 0;
	for (int round = 0; round < 40; round++) {
		char path[128];
		snprintf(path, sizeof path, "%s/collide-%d.sqlite", dir, round);
		accounts = accounts_open(path);
		CHECK(accounts != NULL);
		if (accounts == NULL)
			break;
		take_names(accounts, 12);
		if (newemail_create(&config, accounts, 0, addr, password) == NEWEMAIL_CREATED &&
		    strlen(addr) == 1 + strlen("@example.org") &&
		    strchr(&NEWEMAIL_LOCALPART_ALPHABET[12], addr[0]) != NULL &&
		    accounts_get(accounts, addr, hash, NULL) == ACCOUNTS_OK &&
		    passwd_verify(password, hash))
			created++;
		CHECK(stored(accounts) == 13);
		accounts_close(accounts);
	}
	CHECK(created == 40);

	/* Every name taken: a bounded number of tries, nothing stored, nothing handed out. */
	snprintf(config.passdb_path, sizeof config.passdb_path, "%s/full.sqlite", dir);
	accounts = accounts_open(config.passdb_path);
	CHECK(accounts != NULL);
	take_names(accounts, 36);
	CHECK(newemail_create(&config, accounts, 0, addr, password) == NEWEMAIL_EXHAUSTED);
	CHECK_STR(addr, "");
	CHECK_STR(password, "");
	CHECK(stored(accounts) == 36);
	CHECK(accounts_get(accounts, "a@example.org", hash, NULL) == ACCOUNTS_OK);
	CHECK_STR(hash, "{X}taken");

	/* A password that doveauth could not take is refused before anything is stored. */
	make_config(&config, "example.org", "password_min_length = 253\n");
	CHECK(newemail_create(&config, accounts, 0, addr, password) == NEWEMAIL_FAILED);
	CHECK(stored(accounts) == 36);
	accounts_close(accounts);
}

int main(void)
{
	char command[128];

	CHECK(mkdtemp(dir) != NULL);
	setenv("CHATMAIL_LOG", "/dev/null", 1);
	log_open("test_newemail", LOG_TO_STDERR);
	test_classify();
	test_url();
	test_dclogin();
	test_answer();
	test_create();
	snprintf(command, sizeof command, "rm -rf '%s'", dir);
	CHECK(system(command) == 0);
	return test_summary("newemail");
}
