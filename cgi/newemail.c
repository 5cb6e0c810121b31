/* newemail: POST /new (SPEC §3) from one binary, as a FastCGI responder on the socket that
 * spawn-fcgi hands it on fd 0 (many requests, config and database opened once) or as a CGI
 * program run by fcgiwrap (one request: CGI variables in the environment). */
#include "account.h"
#include "accounts.h"
#include "config.h"
#include "fcgi_serve.h"
#include "log.h"
#include "newemail.h"

#include <fcgiapp.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* Exit codes. */
#define EXIT_OK 0         /* CGI: answered; FastCGI: stopped by SIGTERM or SIGINT */
#define EXIT_TEMPFAIL 111 /* FastCGI: config unreadable or the socket failed; CGI: no answer */

#define HEADERS_MAX 512
#define RESPONSE_MAX (HEADERS_MAX + NEWEMAIL_ANSWER_MAX)

struct app {
	struct config config;
	bool config_ok;
	struct config_error config_error;
	struct accounts *accounts;
	dev_t db_dev; /* which file accounts has open, to notice it being replaced or removed */
	ino_t db_ino;
};

/* Where the answer goes: the request's FastCGI stream, or stdout for a CGI. */
struct reply {
	FCGX_Stream *stream;
};

static int reply_write(struct reply *reply, const char *text, size_t len)
{
	return fcgi_write(reply->stream, text, len);
}

static const char *status_reason(enum newemail_status status)
{
	switch (status) {
	case NEWEMAIL_HTTP_OK: return "OK";
	case NEWEMAIL_HTTP_MOVED: return "Moved Permanently";
	case NEWEMAIL_HTTP_BAD_REQUEST: return "Bad Request";
	case NEWEMAIL_HTTP_METHOD_NOT_ALLOWED: return "Method Not Allowed";
	case NEWEMAIL_HTTP_TOO_LARGE: return "Content Too Large";
	case NEWEMAIL_HTTP_INTERNAL_ERROR: return "Internal Server Error";
	case NEWEMAIL_HTTP_UNAVAILABLE: return "Service Unavailable";
	}
	return "Error";
}

/* Sends the CGI headers, extra ones (each ending in CRLF) and a JSON body when there is one,
 * in one write. */
static int respond(struct reply *reply, enum newemail_status status, const char *extra,
		   const char *body, size_t body_len)
{
	char response[RESPONSE_MAX];
	int n = snprintf(response, sizeof response, "Status: %d %s\r\n%s%s\r\n", (int)status,
			 status_reason(status), extra,
			 body_len > 0 ? "Content-Type: application/json\r\n"
					"Cache-Control: no-store\r\n"
				      : "");
	if (n < 0 || (size_t)n >= sizeof response || body_len >= sizeof response - (size_t)n)
		return -1;
	memcpy(response + n, body, body_len);
	int result = reply_write(reply, response, (size_t)n + body_len);
	explicit_bzero(response, sizeof response);
	if (result != 0)
		log_info("the answer (%d) was not delivered: the client went away", (int)status);
	return result;
}

static int respond_error(struct reply *reply, enum newemail_status status, const char *extra,
			 const char *text)
{
	char body[512];
	size_t len = newemail_error(text, body, sizeof body);
	return respond(reply, status, extra, body, len);
}

/* The account store, opened on first use and again when its file was replaced or removed, so
 * a database that was missing or broken works again without a restart. */
static struct accounts *app_accounts(struct app *app)
{
	struct stat st;
	bool same = stat(app->config.passdb_path, &st) == 0 && st.st_dev == app->db_dev &&
		    st.st_ino == app->db_ino;

	if (app->accounts != NULL && same)
		return app->accounts;
	accounts_close(app->accounts);
	app->accounts = accounts_open(app->config.passdb_path); /* logs why on failure */
	if (app->accounts != NULL && stat(app->config.passdb_path, &st) == 0) {
		app->db_dev = st.st_dev;
		app->db_ino = st.st_ino;
	}
	return app->accounts;
}

static int create(struct app *app, struct reply *reply)
{
	char addr[MAILSTORE_ADDRESS_MAX + 1], password[PASSWD_MAX], body[NEWEMAIL_ANSWER_MAX];

	enum creation_refusal refusal = account_creation_allowed(&app->config);
	if (refusal != CREATION_ALLOWED) {
		log_warn("not creating an account: %s", account_refusal_text(refusal));
		return respond_error(reply, NEWEMAIL_HTTP_UNAVAILABLE, "",
				     account_refusal_text(refusal));
	}
	struct accounts *accounts = app_accounts(app);
	if (accounts == NULL)
		return respond_error(reply, NEWEMAIL_HTTP_INTERNAL_ERROR, "",
				     "the account database is unavailable");
	switch (newemail_create(&app->config, accounts, (int64_t)time(NULL), addr, password)) {
	case NEWEMAIL_CREATED:
		break;
	case NEWEMAIL_EXHAUSTED:
		return respond_error(reply, NEWEMAIL_HTTP_INTERNAL_ERROR, "",
				     "no free address is left");
	case NEWEMAIL_FAILED:
		return respond_error(reply, NEWEMAIL_HTTP_INTERNAL_ERROR, "",
				     "the account could not be stored");
	}
	size_t len = newemail_answer(&app->config, addr, password, body, sizeof body);
	explicit_bzero(password, sizeof password);
	if (len == 0) {
		log_error("the answer for %s does not fit", addr);
		return respond_error(reply, NEWEMAIL_HTTP_INTERNAL_ERROR, "", "internal error");
	}
	int result = respond(reply, NEWEMAIL_HTTP_OK, "", body, len);
	explicit_bzero(body, sizeof body);
	return result;
}

static int handle(struct app *app, const struct newemail_request *request, struct reply *reply)
{
	char location[CONFIG_DOMAIN_MAX + 64];
	enum newemail_action action = newemail_classify(request);

	switch (action) {
	case NEWEMAIL_CREATE:
	case NEWEMAIL_REDIRECT:
		break;
	case NEWEMAIL_NO_METHOD:
		log_error("refused a request: %s (is fastcgi_params included?)",
			  newemail_action_text(action));
		return respond_error(reply, newemail_action_status(action), "",
				     newemail_action_text(action));
	default:
		log_info("refused a %.*s request: %s", NEWEMAIL_METHOD_MAX, request->method,
			 newemail_action_text(action));
		return respond_error(reply, newemail_action_status(action),
				     action == NEWEMAIL_METHOD_REFUSED ? "Allow: GET, POST\r\n" : "",
				     newemail_action_text(action));
	}
	if (!app->config_ok) {
		log_error("cannot answer: %s: %s%s%s", config_path(), app->config_error.key,
			  app->config_error.key[0] != '\0' ? " " : "", app->config_error.message);
		return respond_error(reply, NEWEMAIL_HTTP_INTERNAL_ERROR, "",
				     "the relay's configuration is unreadable");
	}
	if (action == NEWEMAIL_CREATE)
		return create(app, reply);
	int n = snprintf(location, sizeof location, "Location: dcaccount:https://%s/new\r\n",
			 app->config.mail_domain);
	if (n < 0 || (size_t)n >= sizeof location)
		return respond_error(reply, NEWEMAIL_HTTP_INTERNAL_ERROR, "", "internal error");
	return respond(reply, NEWEMAIL_HTTP_MOVED, location, "", 0);
}

static int serve_cgi(struct app *app)
{
	struct newemail_request request = {
		.method = getenv("REQUEST_METHOD"),
		.query = getenv("QUERY_STRING"),
		.content_length = getenv("CONTENT_LENGTH"),
	};
	struct reply reply = {.stream = NULL};

	return handle(app, &request, &reply) == 0 ? EXIT_OK : EXIT_TEMPFAIL;
}

static void serve_request(FCGX_Request *fcgi, void *context)
{
	struct newemail_request request = {
		.method = FCGX_GetParam("REQUEST_METHOD", fcgi->envp),
		.query = FCGX_GetParam("QUERY_STRING", fcgi->envp),
		.content_length = FCGX_GetParam("CONTENT_LENGTH", fcgi->envp),
	};
	struct reply reply = {.stream = fcgi->out};
	handle(context, &request, &reply);
}

static int serve_fastcgi(struct app *app)
{
	if (!app->config_ok) {
		config_log_error(&app->config_error);
		return EXIT_TEMPFAIL;
	}
	app_accounts(app); /* open the store now; a failure is retried per request */
	return fcgi_serve(serve_request, app) == 0 ? EXIT_OK : EXIT_TEMPFAIL;
}

int main(void)
{
	static struct app app;
	bool cgi = FCGX_IsCGI();

	/* A peer that closed its end must cost one failed write, not the process. */
	signal(SIGPIPE, SIG_IGN);
	/* Under spawn-fcgi stderr is often /dev/null; under fcgiwrap it is nginx's error log. */
	log_open("newemail", cgi ? LOG_TO_STDERR : LOG_TO_SYSLOG);
	app.config_ok = config_load(&app.config, &app.config_error) == 0;
	int status = cgi ? serve_cgi(&app) : serve_fastcgi(&app);
	accounts_close(app.accounts);
	return status;
}
