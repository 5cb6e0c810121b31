/* mxdeliv: POST /mxdeliv (SPEC §5b), relay-to-relay delivery over HTTPS, behind nginx: as a
 * FastCGI responder on the socket spawn-fcgi hands it on fd 0, or as a CGI program under
 * fcgiwrap. The message passes the same incoming checks as on port 25 (lib/incoming.c), then goes
 * to Postfix's incoming reinject port; the answer carries the SMTP reply. */
#include "config.h"
#include "fcgi_serve.h"
#include "incoming.h"
#include "log.h"
#include "mxdeliv.h"
#include "smtp_client.h"
#include "smtp_tx.h"

#include <fcgiapp.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Exit codes. */
#define EXIT_OK 0	  /* CGI: answered; FastCGI: stopped by SIGTERM or SIGINT */
#define EXIT_TEMPFAIL 111 /* FastCGI: config unreadable or the socket failed; CGI: no answer */

#define FROM_PARAM "HTTP_X_MAIL_FROM="
#define TO_PARAM "HTTP_X_MAIL_TO="
/* Incoming mail is handed on from this address, so the DKIM milter does not sign it (as
 * filtermail incoming does). */
#define REINJECT_SOURCE "127.0.0.2"

struct app {
	struct config config;
	bool config_ok;
	struct config_error config_error;
	struct incoming_checker incoming;
};

/* The request as the web server passes it: its parameters and its body. */
struct request {
	char **params; /* "NAME=value", NULL-terminated; repeated names kept (nginx 1.22) */
	FCGX_Stream *in, *out; /* NULL for a CGI: stdin and stdout */
};

static const char *param(const struct request *r, const char *name)
{
	size_t len = strlen(name);
	for (char **p = r->params; p != NULL && *p != NULL; p++)
		if (strncmp(*p, name, len) == 0 && (*p)[len] == '=')
			return *p + len + 1;
	return NULL;
}

static const char *reason(int status)
{
	switch (status) {
	case MXDELIV_HTTP_OK: return "OK";
	case MXDELIV_HTTP_REFUSED: return "Bad Request";
	case MXDELIV_HTTP_METHOD_NOT_ALLOWED: return "Method Not Allowed";
	case MXDELIV_HTTP_TOO_LARGE: return "Content Too Large";
	}
	return "Internal Server Error";
}

/* The answer: a status and one line of text (an SMTP reply where there is one). */
static int respond(const struct request *r, int status, const char *text)
{
	char response[SMTP_REPLY_TEXT_MAX + 256];
	int n = snprintf(response, sizeof response,
			 "Status: %d %s\r\n%sContent-Type: text/plain\r\n\r\n%s\n", status,
			 reason(status),
			 status == MXDELIV_HTTP_METHOD_NOT_ALLOWED ? "Allow: POST\r\n" : "", text);
	if (n < 0 || (size_t)n >= sizeof response)
		return -1;
	return fcgi_write(r->out, response, (size_t)n);
}

static int respond_smtp(const struct request *r, int code, const char *text)
{
	char line[SMTP_REPLY_TEXT_MAX + 8];
	if (snprintf(line, sizeof line, "%d %s", code, text) < 0)
		line[0] = '\0';
	return respond(r, mxdeliv_http_status(code), line);
}

/* Reads exactly len bytes of body; -1 when it ends early. */
static int read_body(const struct request *r, char *body, size_t len)
{
	size_t got = 0;
	while (got < len) {
		size_t want = len - got < (1u << 30) ? len - got : (1u << 30);
		ssize_t n;
		if (r->in != NULL)
			n = FCGX_GetStr(body + got, (int)want, r->in);
		else
			n = read(STDIN_FILENO, body + got, want);
		if (n < 0 && r->in == NULL && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* The envelope from X-Mail-From (at most one) and every X-Mail-To parameter. */
static int read_envelope(const struct request *r, struct smtp_tx *tx)
{
	const char *from = NULL;
	for (char **p = r->params; p != NULL && *p != NULL; p++) {
		if (strncmp(*p, FROM_PARAM, strlen(FROM_PARAM)) == 0) {
			if (from != NULL)
				return -1;
			from = *p + strlen(FROM_PARAM);
		} else if (strncmp(*p, TO_PARAM, strlen(TO_PARAM)) == 0) {
			const char *value = *p + strlen(TO_PARAM);
			if (mxdeliv_recipients(tx, value, strlen(value)) != 0)
				return -1;
		}
	}
	if (tx->recipient_count == 0)
		return -1;
	return mxdeliv_sender(tx, from, from != NULL ? strlen(from) : 0);
}

/* The body into tx->data, with CRLF line ends. */
static int take_body(struct app *app, const struct request *r, size_t len, struct smtp_tx *tx)
{
	char *raw = malloc(len > 0 ? len : 1);
	if (raw == NULL)
		return -1;
	if (read_body(r, raw, len) != 0) {
		free(raw);
		return -1;
	}
	size_t size = mxdeliv_crlf_size(raw, len);
	char *message = size == len ? raw : malloc(size + 1);
	if (message == NULL) {
		free(raw);
		return -1;
	}
	if (message != raw) {
		mxdeliv_crlf(raw, len, message);
		free(raw);
	}
	tx->data.message = message;
	tx->data.len = size;
	tx->data.size = size;
	tx->data.limit = app->config.max_message_size;
	tx->data.done = true;
	return 0;
}

/* One delivery: envelope, body, the incoming checks, then the reinject port's answer. */
static int deliver(struct app *app, const struct request *r, size_t len, struct smtp_tx *tx)
{
	struct incoming_reply reply;
	bool null_sender;

	if (read_envelope(r, tx) != 0) {
		log_info("refused a delivery: no valid X-Mail-From/X-Mail-To envelope");
		return respond_smtp(r, SMTP_REPLY_ARGUMENT_SYNTAX,
				    "5.5.4 Syntax: one X-Mail-From, X-Mail-To per recipient");
	}
	const char *client = param(r, "REMOTE_ADDR");
	if (client != NULL && strlen(client) <= SMTP_XFORWARD_VALUE_MAX &&
	    strspn(client, "0123456789abcdefABCDEF.:") == strlen(client)) {
		tx->xforward.present[SMTP_XFORWARD_ADDR] = true;
		memcpy(tx->xforward.value[SMTP_XFORWARD_ADDR], client, strlen(client) + 1);
	}
	for (size_t i = 0; i < tx->recipient_count; i++)
		if (incoming_recipient(&app->incoming, &tx->recipients[i], &reply) != 0)
			return respond_smtp(r, reply.code, reply.text);
	if (take_body(app, r, len, tx) != 0) {
		log_warn("a delivery from %s ended before its body did", client ? client : "?");
		return respond_smtp(r, SMTP_REPLY_LOCAL_ERROR, "4.3.0 Error: body not read");
	}
	if (incoming_message(&app->incoming, tx, &null_sender, &reply) != 0)
		return respond_smtp(r, reply.code, reply.text);
	struct smtp_client_request relay = {
	    .port = (uint16_t)app->config.postfix_reinject_port_incoming,
	    .source_address = REINJECT_SOURCE,
	    .helo = app->config.mail_domain,
	    .tx = tx,
	    .null_sender = null_sender,
	    .time_limit = SMTP_CLIENT_TIME_LIMIT,
	};
	struct smtp_client_answer answer;
	smtp_client_relay(&relay, &answer);
	/* "received mail" is what the metrics count (conf/mtail) */
	log_info("%s mail from %s over HTTPS for %zu recipient(s): %d %s",
		 answer.accepted ? "received" : "did not hand on", client ? client : "?",
		 tx->recipient_count, answer.code, answer.text);
	return respond_smtp(r, answer.code, answer.text);
}

static int handle(struct app *app, const struct request *r)
{
	const char *method = param(r, "REQUEST_METHOD");
	size_t len = 0;

	if (method == NULL || strcmp(method, "POST") != 0)
		return respond(r, MXDELIV_HTTP_METHOD_NOT_ALLOWED, "only POST is allowed");
	if (!app->config_ok) {
		log_error("cannot answer: %s: %s%s%s", config_path(), app->config_error.key,
			  app->config_error.key[0] != '\0' ? " " : "", app->config_error.message);
		return respond(r, MXDELIV_HTTP_INTERNAL_ERROR, "451 4.3.0 Error: not configured");
	}
	switch (mxdeliv_content_length(param(r, "CONTENT_LENGTH"), app->config.max_message_size,
				       &len)) {
	case 0:
		break;
	case 1:
		return respond(r, MXDELIV_HTTP_TOO_LARGE,
			       "552 5.3.4 Message size exceeds fixed limit");
	default:
		return respond_smtp(r, SMTP_REPLY_ARGUMENT_SYNTAX, "5.5.4 Error: no Content-Length");
	}
	struct smtp_tx tx = {0};
	int result = deliver(app, r, len, &tx);
	smtp_tx_reset(&tx);
	return result;
}

static int serve_cgi(struct app *app)
{
	extern char **environ;
	struct request r = {.params = environ};
	return handle(app, &r) == 0 ? EXIT_OK : EXIT_TEMPFAIL;
}

static void serve_request(FCGX_Request *fcgi, void *context)
{
	struct request r = {.params = fcgi->envp, .in = fcgi->in, .out = fcgi->out};
	if (handle(context, &r) != 0)
		log_info("the answer was not delivered: the client went away");
}

static int serve_fastcgi(struct app *app)
{
	if (!app->config_ok) {
		config_log_error(&app->config_error);
		return EXIT_TEMPFAIL;
	}
	return fcgi_serve(serve_request, app) == 0 ? EXIT_OK : EXIT_TEMPFAIL;
}

int main(void)
{
	static struct app app;
	bool cgi = FCGX_IsCGI();

	signal(SIGPIPE, SIG_IGN);
	log_open("mxdeliv", cgi ? LOG_TO_STDERR : LOG_TO_SYSLOG);
	app.config_ok = config_load(&app.config, &app.config_error) == 0;
	app.incoming.config = &app.config;
	int status = cgi ? serve_cgi(&app) : serve_fastcgi(&app);
	incoming_checker_close(&app.incoming);
	return status;
}
