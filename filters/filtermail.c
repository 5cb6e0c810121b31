/* filtermail: the SMTP filter Postfix spawns per connection (spawn(8), smtpd_proxy_filter);
 * stdin and stdout are the socket. "outgoing" checks mail of our users, "incoming" mail of
 * other servers (SPEC §4); accepted mail goes on to Postfix's reinject port. */
#include "config.h"
#include "log.h"
#include "mailstore.h"
#include "policy.h"
#include "ratelimit.h"
#include "smtp.h"
#include "smtp_client.h"
#include "smtp_server.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
/* Incoming mail is handed on from this address so that the DKIM milter on the reinject port
 * verifies it instead of signing it, as the reference relay does. */
#define INCOMING_SOURCE_ADDRESS "127.0.0.2"

enum direction { OUTGOING, INCOMING };

struct session {
	enum direction direction;
	struct config config;
	struct smtp_server server;
	struct ratelimit *ratelimit;
	int timeout_ms;
	int relay_timeout;
	char in[INPUT_SIZE];
	size_t in_start, in_end;
	char out[OUTPUT_SIZE];
	size_t out_len;
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

/* Writes all pending replies; the client may be slow to read, but not forever. */
static int flush(struct session *s)
{
	size_t done = 0;

	while (done < s->out_len) {
		struct pollfd pfd = {.fd = STDOUT_FILENO, .events = POLLOUT};
		int ready = poll(&pfd, 1, s->timeout_ms);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			return -1;
		ssize_t n = write(STDOUT_FILENO, s->out + done, s->out_len - done);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	s->out_len = 0;
	return 0;
}

static int queue_reply(struct session *s)
{
	const struct smtp_server *server = &s->server;

	if (server->reply_len > sizeof s->out - s->out_len && flush(s) != 0)
		return -1;
	memcpy(s->out + s->out_len, server->reply, server->reply_len);
	s->out_len += server->reply_len;
	return 0;
}

/* Reads more input. Returns the bytes read, 0 at EOF, -1 on timeout or error. */
static ssize_t fill(struct session *s)
{
	size_t have = s->in_end - s->in_start;

	if (s->in_start > 0) {
		memmove(s->in, s->in + s->in_start, have);
		s->in_start = 0;
		s->in_end = have;
	}
	for (;;) {
		struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
		int ready = poll(&pfd, 1, s->timeout_ms);
		if (ready < 0 && errno == EINTR)
			continue;
		if (ready <= 0)
			return -1;
		ssize_t n = read(STDIN_FILENO, s->in + s->in_end, sizeof s->in - s->in_end);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n > 0)
			s->in_end += (size_t)n;
		return n;
	}
}

static size_t count_at_signs(const char *address)
{
	size_t n = 0;
	for (; *address != '\0'; address++)
		n += *address == '@';
	return n;
}

/* SPEC §4 outgoing: one address with one '@', then the shared send rate. */
static void decide_mail(struct session *s)
{
	const char *sender = s->server.mail.address;
	char text[SMTP_ADDRESS_MAX + 64];

	if (s->direction == INCOMING) {
		smtp_server_mail_accept(&s->server);
		return;
	}
	if (count_at_signs(sender) != 1) {
		smtp_server_refuse(&s->server, SMTP_REPLY_SYNTAX,
				   "5.1.7 Invalid from address: need exactly one @");
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

/* SPEC §4 incoming: whether each recipient's maildir asks for encryption. A name that cannot
 * be a maildir or a lookup that fails counts as asking: cleartext is refused, not let in. */
static bool *find_enforced(struct session *s, const char *const *recipients, size_t count)
{
	bool *enforce = calloc(count > 0 ? count : 1, sizeof *enforce);

	for (size_t i = 0; enforce != NULL && i < count; i++)
		if (mailstore_enforces_e2ee(s->config.mailboxes_dir, recipients[i], &enforce[i]) !=
		    0) {
			log_warn("cannot tell whether %s enforces encryption: %s", recipients[i],
				 strerror(errno));
			enforce[i] = true;
		}
	return enforce;
}

static void relay(struct session *s, const struct smtp_server *server,
		  struct smtp_client_answer *answer)
{
	struct smtp_client_request request = {
	    .port = (uint16_t)(s->direction == OUTGOING ? s->config.postfix_reinject_port
							: s->config.postfix_reinject_port_incoming),
	    .source_address = s->direction == INCOMING ? INCOMING_SOURCE_ADDRESS : NULL,
	    .helo = s->config.mail_domain,
	    .mail = &server->mail,
	    .recipients = (const char *const *)server->recipients,
	    .recipient_count = server->recipient_count,
	    .xforward = &server->xforward,
	    .message = server->data.message != NULL ? server->data.message : "",
	    .message_len = server->data.len,
	    .time_limit = s->relay_timeout,
	};
	smtp_client_relay(&request, answer);
}

static void done(struct session *s, int code, const char *text)
{
	smtp_server_message_done(&s->server, code, text, strlen(text));
}

/* A whole message: the policy decides, then the downstream's answer is the client's. */
static void decide_message(struct session *s)
{
	struct smtp_server *server = &s->server;
	const char *const *recipients = (const char *const *)server->recipients;
	struct envelope envelope = {server->mail.address, recipients, server->recipient_count};
	struct policy_result result;
	const char *direction = s->direction == OUTGOING ? "Outgoing" : "Incoming";
	/* An empty message has no buffer yet. */
	const char *message = server->data.message != NULL ? server->data.message : "";

	if (s->direction == OUTGOING) {
		result = policy_outgoing(&s->config, &envelope, message, server->data.len);
	} else {
		bool *enforce = find_enforced(s, recipients, server->recipient_count);
		if (enforce == NULL) {
			done(s, SMTP_REPLY_LOCAL_ERROR,
			     "4.3.0 Error: insufficient system resources");
			return;
		}
		result = policy_incoming(&s->config, &envelope, enforce, message, server->data.len);
		free(enforce);
	}
	if (result.verdict == POLICY_REJECT_FROM_MISMATCH) {
		log_info("Rejected mail from %s: %s", envelope.from, result.reason);
		done(s, SMTP_REPLY_SYNTAX, "5.7.1 Invalid From: header, not the envelope sender");
		return;
	}
	/* The reference relay counts Secure-Join requests as encrypted in its log. */
	log_info("%s: Filtering %s mail.", direction,
		 result.encrypted || result.securejoin ? "encrypted" : "unencrypted");
	if (result.verdict == POLICY_REJECT_UNENCRYPTED) {
		log_info("Rejected unencrypted mail from: %s", envelope.from);
		done(s, SMTP_REPLY_ENCRYPTION_NEEDED,
		     "Encryption Needed: Invalid Unencrypted Mail");
		return;
	}
	struct smtp_client_answer answer;
	relay(s, server, &answer);
	smtp_server_message_done(server, answer.code, answer.text, answer.text_len);
}

static int serve(struct session *s)
{
	struct smtp_server *server = &s->server;

	if (queue_reply(s) != 0)
		return EXIT_TEMPORARY;
	for (;;) {
		size_t consumed = 0;
		enum smtp_action action = SMTP_ACTION_NONE;
		if (s->in_end > s->in_start)
			action = smtp_server_input(server, s->in + s->in_start,
						   s->in_end - s->in_start, &consumed);
		s->in_start += consumed;
		switch (action) {
		case SMTP_ACTION_NONE:
			if (consumed > 0)
				continue;
			/* Pipelined replies go out before we wait for the client. */
			if (flush(s) != 0)
				return EXIT_DONE;
			ssize_t n = fill(s);
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
				(void)flush(s);
			return EXIT_DONE;
		case SMTP_ACTION_MAIL:
			decide_mail(s);
			break;
		case SMTP_ACTION_MESSAGE:
			decide_message(s);
			break;
		case SMTP_ACTION_REPLY:
		case SMTP_ACTION_DATA:
			break;
		case SMTP_ACTION_CLOSE:
			if (queue_reply(s) == 0)
				(void)flush(s);
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
	session.direction = strcmp(argv[1], "outgoing") == 0 ? OUTGOING : INCOMING;
	if (config_load(&session.config, &error) != 0) {
		config_log_error(&error);
		static const char reply[] = "421 4.3.0 Error: filter not configured\r\n";
		ssize_t n = write(STDOUT_FILENO, reply, sizeof reply - 1);
		(void)n;
		return EXIT_TEMPORARY;
	}
	session.timeout_ms = env_seconds(TIMEOUT_ENV, SMTP_TIMEOUT_SECONDS) * 1000;
	session.relay_timeout = env_seconds(RELAY_TIMEOUT_ENV, SMTP_CLIENT_TIME_LIMIT);
	smtp_server_init(&session.server, session.config.mail_domain,
			 session.config.max_message_size);
	int status = serve(&session);
	smtp_server_free(&session.server);
	ratelimit_close(session.ratelimit);
	return status;
}
