/* filtermail: the SMTP filter Postfix spawns per connection (spawn(8), smtpd_proxy_filter);
 * stdin and stdout are the socket. "outgoing" checks mail of our users, "incoming" mail of
 * other servers (SPEC §4); accepted mail goes on to Postfix's reinject port. */
#include "config.h"
#include "incoming.h"
#include "log.h"
#include "message.h"
#include "policy.h"
#include "ratelimit.h"
#include "smtp.h"
#include "smtp_client.h"
#include "smtp_server.h"
#include "stream.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Exit codes, as spawn(8) logs them. */
#define EXIT_DONE 0	   /* the session ended (QUIT, EOF, timeout, too many errors) */
#define EXIT_USAGE 100	   /* a bad command line: a permanent misconfiguration */
#define EXIT_TEMPORARY 111 /* chatmail.ini unreadable or the socket failed */

#define INPUT_SIZE 65536
#define OUTPUT_SIZE 16384
/* Tests shorten the client and relay timeouts (seconds) through these. */
#define TIMEOUT_ENV "FILTERMAIL_TIMEOUT"
#define RELAY_TIMEOUT_ENV "FILTERMAIL_RELAY_TIMEOUT"
enum { OUTGOING, INCOMING };

struct session;

/* What differs between filtering our users' mail and other servers' mail. */
struct direction {
	const char *name;		/* "Outgoing", as the reference's log lines say */
	void (*mail)(struct session *); /* decides a MAIL */
	void (*rcpt)(struct session *); /* decides the last RCPT */
	/* decides a whole message: 0 to hand it on (from <> when *null_sender), else -1 */
	int (*message)(struct session *, bool *null_sender, struct incoming_reply *);
	uint16_t (*port)(const struct config *); /* where accepted mail goes on */
	const char *source_address;		 /* and from which address */
};

struct session {
	const struct direction *direction;
	struct config config;
	struct smtp_server server;
	struct ratelimit *ratelimit;
	struct incoming_checker incoming; /* the incoming checks' database and DKIM handles */
	int relay_timeout;
	struct stream io; /* the client: stdin and stdout are spawn(8)'s socket */
	char in[INPUT_SIZE];
	char out[OUTPUT_SIZE];
};

static int env_seconds(const char *name, int fallback)
{
	const char *value = getenv(name);
	char *end;

	if (value == NULL || value[0] == '\0')
		return fallback;
	long seconds = strtol(value, &end, 10);
	if (*end != '\0' || seconds < 1 || seconds > 86400)
		return fallback;
	return (int)seconds;
}

static int queue_reply(struct session *s)
{
	return stream_put(&s->io, s->server.reply, s->server.reply_len);
}

/* MAIL, outgoing (SPEC §4): one address with one '@', written as its canonical form (no
 * quotes, trailing dot or +detail: Postfix's login check lets those through, and they would
 * buy a second rate budget), then the shared send rate of that address. */
static void outgoing_mail(struct session *s)
{
	const struct smtp_tx *tx = &s->server.tx;
	const char *sender = tx->sender;
	char text[SMTP_ADDRESS_MAX + 64];

	if (memchr(tx->mail.address, '@', tx->mail.address_len) == NULL ||
	    strchr(strchr(tx->mail.address, '@') + 1, '@') != NULL) {
		smtp_server_refuse(&s->server, SMTP_REPLY_SYNTAX,
				   "5.1.7 Invalid from address: need exactly one @");
		return;
	}
	if (strcasecmp(tx->mail.address, sender) != 0) {
		log_info("Rejected sender %s: not written as %s", tx->mail.address, sender);
		smtp_server_refuse(&s->server, SMTP_REPLY_MAILBOX_NAME,
				   "5.7.1 Sender address is not written as the login's address");
		return;
	}
	if (s->ratelimit == NULL)
		s->ratelimit = ratelimit_open(s->config.state_dir);
	enum ratelimit_status status = s->ratelimit == NULL
					   ? RATELIMIT_ERROR
					   : ratelimit_check(s->ratelimit, sender, ratelimit_now(),
							     s->config.max_user_send_per_minute,
							     s->config.max_user_send_burst_size);
	switch (status) {
	case RATELIMIT_ALLOWED:
		smtp_server_mail_accept(&s->server);
		return;
	case RATELIMIT_DENIED:
		log_info("Too much mail from %s", sender);
		if (snprintf(text, sizeof text, "4.7.1: Too much mail from %s", sender) < 0)
			text[0] = '\0';
		smtp_server_refuse(&s->server, SMTP_REPLY_RATE_LIMITED, text);
		return;
	case RATELIMIT_ERROR:
		smtp_server_refuse(&s->server, SMTP_REPLY_LOCAL_ERROR,
				   "4.3.0 Error: send rate unknown, try again later");
		return;
	}
}

static void incoming_mail(struct session *s)
{
	smtp_server_mail_accept(&s->server);
}

/* Postfix checked the destination and the sender's login already. */
static void outgoing_rcpt(struct session *s)
{
	smtp_server_rcpt_accept(&s->server);
}

/* RCPT, incoming: the shared checks (lib/incoming.c). */
static void incoming_rcpt(struct session *s)
{
	struct smtp_tx_recipient *r = &s->server.tx.recipients[s->server.tx.recipient_count - 1];
	struct incoming_reply reply;

	if (incoming_recipient(&s->incoming, r, &reply) != 0)
		smtp_server_rcpt_refuse(&s->server, reply.code, reply.text);
	else
		smtp_server_rcpt_accept(&s->server);
}

static uint16_t outgoing_port(const struct config *config)
{
	return (uint16_t)config->postfix_reinject_port;
}

static uint16_t incoming_port(const struct config *config)
{
	return (uint16_t)config->postfix_reinject_port_incoming;
}

/* A whole outgoing message: the outgoing policy and its verdict. Our users' mail was
 * authenticated by SASL and Postfix's login check. */
static int outgoing_message(struct session *s, bool *null_sender, struct incoming_reply *reply)
{
	const struct smtp_tx *tx = &s->server.tx;
	struct message message;

	*null_sender = false;
	if (message_parse(smtp_tx_message(tx), tx->data.len, &message) != 0) {
		reply->code = SMTP_REPLY_LOCAL_ERROR;
		snprintf(reply->text, sizeof reply->text, "4.3.0 Error: insufficient system resources");
		return -1;
	}
	struct policy_result result = policy_outgoing(&s->config, tx, &message);
	return filter_verdict("Outgoing", tx->mail.address, &result, reply);
}

/* A whole incoming message: the checks port 25 and /mxdeliv share (lib/incoming.c). */
static int incoming_check(struct session *s, bool *null_sender, struct incoming_reply *reply)
{
	return incoming_message(&s->incoming, &s->server.tx, null_sender, reply);
}

/* Everything in which the two directions differ. */
static const struct direction directions[] = {
    [OUTGOING] = {"Outgoing", outgoing_mail, outgoing_rcpt, outgoing_message, outgoing_port, NULL},
    /* Incoming mail is handed on from this address so that the DKIM milter on the reinject
     * port does not sign it, as the reference relay does. */
    [INCOMING] = {"Incoming", incoming_mail, incoming_rcpt, incoming_check, incoming_port,
		  "127.0.0.2"},
};

static void relay(struct session *s, bool null_sender, struct smtp_client_answer *answer)
{
	struct smtp_client_request request = {
	    .port = s->direction->port(&s->config),
	    .source_address = s->direction->source_address,
	    .helo = s->config.mail_domain,
	    .tx = &s->server.tx,
	    .null_sender = null_sender,
	    .time_limit = s->relay_timeout,
	};
	smtp_client_relay(&request, answer);
}

static void done(struct session *s, int code, const char *text)
{
	smtp_server_message_done(&s->server, code, text, strlen(text));
}

/* A whole message: the direction decides, then the downstream's answer is the client's. */
static void decide_message(struct session *s)
{
	struct incoming_reply reply;
	bool null_sender;

	if (s->direction->message(s, &null_sender, &reply) != 0) {
		done(s, reply.code, reply.text);
		return;
	}
	struct smtp_client_answer answer;
	relay(s, null_sender, &answer);
	smtp_server_message_done(&s->server, answer.code, answer.text, answer.text_len);
}

static int serve(struct session *s)
{
	struct smtp_server *server = &s->server;

	if (queue_reply(s) != 0)
		return EXIT_TEMPORARY;
	for (;;) {
		size_t consumed = 0, pending;
		const char *input = stream_pending(&s->io, &pending);
		enum smtp_action action = SMTP_ACTION_NONE;
		if (pending > 0)
			action = smtp_server_input(server, input, pending, &consumed);
		stream_consume(&s->io, consumed);
		switch (action) {
		case SMTP_ACTION_NONE:
			if (consumed > 0)
				continue;
			/* Pipelined replies go out before we wait for the client. */
			if (stream_flush(&s->io) != 0)
				return EXIT_DONE;
			ssize_t n = stream_fill(&s->io);
			if (n > 0)
				continue;
			if (n == 0) {
				if (server->state == SMTP_STATE_DATA)
					log_warn("lost connection in DATA: nothing forwarded");
				return EXIT_DONE;
			}
			log_warn("timeout after %s: nothing forwarded",
				 server->state == SMTP_STATE_DATA ? "DATA" : "a command");
			smtp_server_timeout(server);
			if (queue_reply(s) == 0)
				(void)stream_flush(&s->io);
			return EXIT_DONE;
		case SMTP_ACTION_MAIL:
			s->direction->mail(s);
			break;
		case SMTP_ACTION_RCPT:
			s->direction->rcpt(s);
			break;
		case SMTP_ACTION_MESSAGE:
			decide_message(s);
			break;
		case SMTP_ACTION_REPLY:
		case SMTP_ACTION_DATA:
			break;
		case SMTP_ACTION_CLOSE:
			if (queue_reply(s) == 0)
				(void)stream_flush(&s->io);
			return EXIT_DONE;
		}
		if (queue_reply(s) != 0)
			return EXIT_DONE;
	}
}

int main(int argc, char **argv)
{
	static struct session session;
	struct config_error error;

	log_open("filtermail", LOG_TO_SYSLOG);
	signal(SIGPIPE, SIG_IGN);
	if (argc != 2 || (strcmp(argv[1], "outgoing") != 0 && strcmp(argv[1], "incoming") != 0)) {
		log_error("usage: filtermail outgoing|incoming");
		return EXIT_USAGE;
	}
	session.incoming.config = &session.config;
	session.direction = &directions[strcmp(argv[1], "outgoing") == 0 ? OUTGOING : INCOMING];
	if (config_load(&session.config, &error) != 0) {
		config_log_error(&error);
		static const char reply[] = "421 4.3.0 Error: filter not configured\r\n";
		ssize_t n = write(STDOUT_FILENO, reply, sizeof reply - 1);
		(void)n;
		return EXIT_TEMPORARY;
	}
	stream_init(&session.io, STDIN_FILENO, STDOUT_FILENO, session.in, sizeof session.in,
		    session.out, sizeof session.out);
	session.io.timeout_ms = env_seconds(TIMEOUT_ENV, SMTP_TIMEOUT_SECONDS) * 1000;
	session.relay_timeout = env_seconds(RELAY_TIMEOUT_ENV, SMTP_CLIENT_TIME_LIMIT);
	smtp_server_init(&session.server, session.config.mail_domain,
			 session.config.max_message_size);
	int status = serve(&session);
	smtp_server_free(&session.server);
	ratelimit_close(session.ratelimit);
	incoming_checker_close(&session.incoming);
	return status;
}
