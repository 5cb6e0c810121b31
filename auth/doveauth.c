/* doveauth: Dovecot's checkpassword program (passdb and userdb) with create-on-login.
 * Reads "user\0password\0timestamp\0" from fd 3, answers with an exit code or by exec'ing the
 * reply program named in argv[1] with USER, HOME and EXTRA set (for Dovecot's own
 * checkpassword-reply, by writing its answer to fd 4 directly). */
#include "account.h"
#include "accounts.h"
#include "address.h"
#include "checkpassword.h"
#include "config.h"
#include "log.h"
#include "mailstore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Exit codes of the checkpassword interface with Dovecot's extension. */
#define EXIT_LOGIN_DONE 0   /* what checkpassword-reply answers to a successful login */
#define EXIT_AUTH_FAILED 1  /* wrong password, bad address, creation refused */
#define EXIT_USAGE 2        /* called without a reply program */
#define EXIT_USER_UNKNOWN 3 /* userdb lookup of an address we do not have */
#define EXIT_TEMPFAIL 111   /* config or database unavailable: Dovecot retries later */
#define EXIT_LOOKUP_DONE 2  /* what checkpassword-reply answers to a successful lookup */

/* Dovecot reads the reply program's fields from this fd. */
#define DOVECOT_REPLY_FD 4
#define DOVECOT_REPLY_MAX 4096
#define EXTRA_FIELDS "userdb_uid userdb_gid userdb_quota_rule"

#define CHECKPASSWORD_FD 3

struct request {
	char data[CHECKPASSWORD_REQUEST_MAX + 1];
	struct checkpassword_request fields;
};

/* Reads the whole request from fd 3 and splits it. Returns 0, or -1 (logged). */
static int read_request(struct request *request)
{
	size_t len = 0;
	for (;;) {
		ssize_t n = read(CHECKPASSWORD_FD, request->data + len, sizeof request->data - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error("cannot read fd 3: %s", strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == sizeof request->data)
			break;
	}
	if (checkpassword_parse(request->data, len, &request->fields) != 0) {
		log_info("malformed request on fd 3 (%zu bytes: too long, or a NUL missing)", len);
		return -1;
	}
	return 0;
}

static int set_variable(const char *name, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
static int set_variable(const char *name, const char *format, ...)
{
	char value[CONFIG_PATH_MAX + 400];
	va_list args;
	va_start(args, format);
	int n = vsnprintf(value, sizeof value, format, args);
	va_end(args);
	if (n < 0 || (size_t)n >= sizeof value)
		return -1;
	return setenv(name, value, 1);
}

/* Appends "key=value<TAB>" with Dovecot's tab escaping (\001 quotes \001, TAB, CR, LF). */
static int append_field(char *out, size_t *len, const char *key, const char *value)
{
	if (value == NULL)
		return 0;
	int n = snprintf(out + *len, DOVECOT_REPLY_MAX - *len, "%s=", key);
	if (n < 0 || (size_t)n >= DOVECOT_REPLY_MAX - *len)
		return -1;
	*len += (size_t)n;
	for (const char *p = value; *p != '\0'; p++) {
		const char *escaped = *p == '\001' ? "\0011"
				      : *p == '\t' ? "\001t"
				      : *p == '\r' ? "\001r"
				      : *p == '\n' ? "\001n"
						   : NULL;
		size_t add = escaped != NULL ? 2 : 1;
		if (*len + add + 1 >= DOVECOT_REPLY_MAX)
			return -1;
		memcpy(out + *len, escaped != NULL ? escaped : p, add);
		*len += add;
	}
	out[(*len)++] = '\t';
	return 0;
}

/* Whether Dovecot handed us its reply pipe on fd 4: asked before any file is opened, which
 * could get that number otherwise. */
static bool dovecot_pipe;

static bool is_pipe(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

/* The reply program is Dovecot's checkpassword-reply, whose whole work is to write USER, HOME
 * and the EXTRA variables as one line of fields to fd 4 and exit 0 (2 for a lookup). */
static bool dovecot_reply_program(const char *path)
{
	const char *name = strrchr(path, '/');
	return dovecot_pipe && strcmp(name != NULL ? name + 1 : path, "checkpassword-reply") == 0;
}

/* Does checkpassword-reply's work here, which spares Dovecot a second program per login. */
static int answer_dovecot(bool lookup)
{
	char line[DOVECOT_REPLY_MAX], names[] = EXTRA_FIELDS;
	size_t len = 0;
	int status = append_field(line, &len, "user", getenv("USER"));
	status |= append_field(line, &len, "userdb_home", getenv("HOME"));
	for (char *save, *name = strtok_r(names, " ", &save); name != NULL;
	     name = strtok_r(NULL, " ", &save))
		status |= append_field(line, &len, name, getenv(name));
	if (status != 0 || write(DOVECOT_REPLY_FD, line, len) != (ssize_t)len) {
		log_error("cannot answer Dovecot on fd %d", DOVECOT_REPLY_FD);
		return EXIT_TEMPFAIL;
	}
	return lookup ? EXIT_LOOKUP_DONE : EXIT_LOGIN_DONE;
}

/* Sets what checkpassword-reply sends to Dovecot, then becomes the reply program. */
static int reply(const struct config *config, const char *addr, char **reply_argv,
		 bool lookup)
{
	char home[MAILSTORE_HOME_PATH_MAX];
	uid_t uid;
	gid_t gid;
	if (mailstore_owner_ids(config, &uid, &gid) != 0) {
		log_error("vmail user '%s' is unknown", config->vmail_user);
		return EXIT_TEMPFAIL;
	}
	/* Dovecot reads a quota number without a unit as kilobytes. */
	uint64_t quota_kib = (config->max_mailbox_size + 1023) / 1024;
	if (mailstore_home_path(config, addr, home, sizeof home) != 0 ||
	    setenv("USER", addr, 1) != 0 || setenv("HOME", home, 1) != 0 ||
	    set_variable("userdb_uid", "%lu", (unsigned long)uid) != 0 ||
	    set_variable("userdb_gid", "%lu", (unsigned long)gid) != 0 ||
	    set_variable("userdb_quota_rule", "*:storage=%" PRIu64 "K", quota_kib) != 0 ||
	    setenv("EXTRA", EXTRA_FIELDS, 1) != 0 ||
	    (lookup && setenv("AUTHORIZED", "2", 1) != 0)) {
		log_error("cannot set the reply environment for %s", addr);
		return EXIT_TEMPFAIL;
	}
	if (dovecot_reply_program(reply_argv[0]))
		return answer_dovecot(lookup);
	execv(reply_argv[0], reply_argv);
	log_error("cannot run %s: %s", reply_argv[0], strerror(errno));
	return EXIT_TEMPFAIL;
}

/* A userdb (or passdb) lookup without a password: known addresses only, no login recorded. */
static int lookup(const struct config *config, struct accounts *accounts, const char *addr,
		  char **reply_argv)
{
	char hash[PASSWD_HASH_MAX];
	if (getenv("CREDENTIALS_LOOKUP") != NULL) {
		log_info("credentials lookups are not supported: use a plaintext mechanism");
		return EXIT_AUTH_FAILED;
	}
	if (address_check(config, addr, strlen(addr)) != ADDRESS_OK)
		return EXIT_USER_UNKNOWN;
	switch (accounts_get(accounts, addr, hash, NULL)) {
	case ACCOUNTS_OK:
		explicit_bzero(hash, sizeof hash);
		return reply(config, addr, reply_argv, true);
	case ACCOUNTS_NOT_FOUND:
		return EXIT_USER_UNKNOWN;
	default:
		return EXIT_TEMPFAIL;
	}
}

static int authenticate(const struct config *config, struct accounts *accounts,
			struct request *request, char **reply_argv)
{
	char *password = (char *)request->fields.password;
	enum login_result result = account_login(config, accounts, request->fields.user, password,
						 (int64_t)time(NULL));
	explicit_bzero(password, strlen(password));
	switch (result) {
	case LOGIN_OK:
	case LOGIN_CREATED:
		return reply(config, request->fields.user, reply_argv, false);
	case LOGIN_FAILED:
		return EXIT_AUTH_FAILED;
	default:
		return EXIT_TEMPFAIL;
	}
}

int main(int argc, char **argv)
{
	static struct request request;
	struct config config;
	struct config_error error;

	dovecot_pipe = is_pipe(DOVECOT_REPLY_FD);
	log_open("doveauth", LOG_TO_STDERR);
	if (argc < 2) {
		log_error("usage: doveauth reply-program [args...] (with the request on fd 3)");
		return EXIT_USAGE;
	}
	const char *authorized = getenv("AUTHORIZED");
	bool is_lookup = authorized != NULL && strcmp(authorized, "1") == 0;
	if (read_request(&request) != 0)
		return is_lookup ? EXIT_USER_UNKNOWN : EXIT_AUTH_FAILED;
	if (config_load(&config, &error) != 0) {
		config_log_error(&error);
		return EXIT_TEMPFAIL;
	}
	/* A lookup only reads; a database that does not exist yet is made as for a login. */
	struct accounts *accounts = is_lookup ? accounts_open_readonly(config.passdb_path) : NULL;
	if (accounts == NULL)
		accounts = accounts_open(config.passdb_path);
	if (accounts == NULL)
		return EXIT_TEMPFAIL;
	int status = is_lookup ? lookup(&config, accounts, request.fields.user, argv + 1)
			       : authenticate(&config, accounts, &request, argv + 1);
	accounts_close(accounts);
	return status;
}
