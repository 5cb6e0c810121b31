/* filtermail: the SMTP filter Postfix spawns per connection (spawn(8), smtpd_proxy_filter);
 * stdin and stdout are the socket. "outgoing" checks mail of our users, "incoming" mail of
 * other servers (SPEC §4); accepted mail goes on to Postfix's reinject port. */
#include "accounts.h"
#include "address.h"
#include "config.h"
#include "dkim_check.h"
#include "log.h"
#include "mailstore.h"
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
/* The reference's name: "1" turns incoming DKIM verification off, for tests of other things
 * only; every message then logs a warning. Nothing we ship sets it. */
#define SKIP_DKIM_ENV "FILTERMAIL_SKIP_DKIM"
enum { OUTGOING, INCOMING };

struct session;

/* What differs between filtering our users' mail and other servers' mail. */
struct direction {
	const char *name;		/* "Outgoing", as the reference's log lines say */
	void (*mail)(struct session *); /* decides a MAIL */
	void (*rcpt)(struct session *); /* decides the last RCPT */
	struct policy_result (*policy)(const struct config *, const struct smtp_tx *,
				       const struct message *);
	uint16_t (*port)(const struct config *); /* where accepted mail goes on */
	const char *source_address;		 /* and from which address */
	/* after the policy accepted: may the message be what it claims to be? */
	bool (*authentic)(struct session *, const struct message *);
};

struct session {
	const struct direction *direction;
	struct config config;
	struct smtp_server server;
	struct ratelimit *ratelimit;
	struct accounts *accounts;
	struct dkim_checker *dkim; /* incoming: made at the first message that needs it */
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

/* Whether addr has an account; a relay without an account database yet has none. */
static enum accounts_status account_lookup(struct session *s, const char *addr)
{
	char hash[PASSWD_HASH_MAX];
	int64_t last_login;

	if (s->accounts == NULL && access(s->config.passdb_path, F_OK) != 0 && errno == ENOENT)
		return ACCOUNTS_NOT_FOUND;
	if (s->accounts == NULL)
		s->accounts = accounts_open_readonly(s->config.passdb_path);
	if (s->accounts == NULL)
		return ACCOUNTS_ERROR;
	enum accounts_status status = accounts_get(s->accounts, addr, hash, &last_login);
	explicit_bzero(hash, sizeof hash);
	return status;
}

/* RCPT, incoming: only our accounts, looked up by the canonical address that Postfix and
 * Dovecot deliver to, so a refusal comes before DATA and never as a bounce (backscatter).
 * Whether the owner refuses cleartext is read now; a lookup that fails counts as yes. */
static void incoming_rcpt(struct session *s)
{
	struct smtp_tx_recipient *r = &s->server.tx.recipients[s->server.tx.recipient_count - 1];

	if (r->canonical[0] == '\0' ||
	    address_check(&s->config, r->canonical, strlen(r->canonical)) != ADDRESS_OK) {
		log_info("Rejected recipient %s: not an address of this relay", r->address);
		smtp_server_rcpt_refuse(&s->server, SMTP_REPLY_MAILBOX_UNAVAILABLE,
					"5.1.1 Recipient address rejected: User unknown");
		return;
	}
	switch (account_lookup(s, r->canonical)) {
	case ACCOUNTS_OK:
		break;
	case ACCOUNTS_NOT_FOUND:
		log_info("Rejected recipient %s: no such account", r->address);
		smtp_server_rcpt_refuse(&s->server, SMTP_REPLY_MAILBOX_UNAVAILABLE,
					"5.1.1 Recipient address rejected: User unknown");
		return;
	default:
		smtp_server_rcpt_refuse(&s->server, SMTP_REPLY_LOCAL_ERROR,
					"4.3.0 Error: account lookup failed, try again later");
		return;
	}
	if (mailstore_enforces_e2ee(s->config.mailboxes_dir, r->canonical, &r->enforce) != 0) {
		log_warn("cannot tell whether %s enforces encryption: %s", r->canonical,
			 strerror(errno));
		r->enforce = true;
	}
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

static struct policy_result outgoing_policy(const struct config *config,
					    const struct smtp_tx *tx, const struct message *m)
{
	return policy_outgoing(config, tx, m);
}

static struct policy_result incoming_policy(const struct config *config,
					    const struct smtp_tx *tx, const struct message *m)
{
	(void)config;
	return policy_incoming(tx, m);
}

/* Our users' mail was authenticated by SASL and Postfix's login check. */
static bool outgoing_authentic(struct session *s, const struct message *m)
{
	(void)s;
	(void)m;
	return true;
}

static void done(struct session *s, int code, const char *text);

/* Refuses with a whole "554 5.7.1 …" reply line of dkim_check. */
static void refuse_with(struct session *s, const char *reply)
{
	done(s, (reply[0] - '0') * 100 + (reply[1] - '0') * 10 + (reply[2] - '0'), reply + 4);
}

/* SPEC §4 incoming DKIM: one valid signature of the From: domain, after the encryption
 * verdict, for every kind of message. A From: we cannot read has no domain to align with. */
static bool incoming_authentic(struct session *s, const struct message *m)
{
	char domain[CONFIG_DOMAIN_MAX + 1];
	struct dkim_result result;
	const char *error;

	if (getenv(SKIP_DKIM_ENV) != NULL && strcmp(getenv(SKIP_DKIM_ENV), "1") == 0) {
		log_warn("DKIM verification DISABLED by %s=1: never in production", SKIP_DKIM_ENV);
		return true;
	}
	const char *at = m->has_from ? memchr(m->from.ptr, '@', m->from.len) : NULL;
	if (at == NULL) {
		log_info("Rejected mail from %s: no From: domain to check DKIM against",
			 s->server.tx.mail.address);
		refuse_with(s, dkim_verdict_reply(DKIM_VERDICT_FAIL));
		return false;
	}
	size_t len = m->from.len - (size_t)(at + 1 - m->from.ptr);
	/* The address comes from the header, as long as a field may be; no domain is longer. */
	if (len > CONFIG_DOMAIN_MAX) {
		log_info("Rejected mail from %s: From: domain longer than %d bytes",
			 s->server.tx.mail.address, CONFIG_DOMAIN_MAX);
		refuse_with(s, dkim_verdict_reply(DKIM_VERDICT_FAIL));
		return false;
	}
	memcpy(domain, at + 1, len);
	domain[len] = '\0';
	if (dkim_domain_is_literal(domain))
		return true;
	if (s->dkim == NULL && (s->dkim = dkim_checker_new(NULL, &error)) == NULL) {
		log_error("cannot verify DKIM: %s", error);
		done(s, SMTP_REPLY_LOCAL_ERROR, "4.3.0 Error: cannot verify DKIM now");
		return false;
	}
	const struct smtp_tx *tx = &s->server.tx;
	dkim_check(s->dkim, smtp_tx_message(tx), tx->data.len, domain, &result);
	if (result.verdict == DKIM_VERDICT_PASS)
		return true;
	log_info("Rejected mail from %s: DKIM: %s", tx->mail.address, result.reason);
	refuse_with(s, dkim_verdict_reply(result.verdict));
	return false;
}

/* Everything in which the two directions differ. */
static const struct direction directions[] = {
    [OUTGOING] = {"Outgoing", outgoing_mail, outgoing_rcpt, outgoing_policy, outgoing_port, NULL,
		  outgoing_authentic},
    /* Incoming mail is handed on from this address so that the DKIM milter on the reinject
     * port does not sign it, as the reference relay does. */
    [INCOMING] = {"Incoming", incoming_mail, incoming_rcpt, incoming_policy, incoming_port,
		  "127.0.0.2", incoming_authentic},
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

/* A whole message: scanned once, the policy decides, then the downstream's answer is the
 * client's. */
static void decide_message(struct session *s)
{
	const struct smtp_tx *tx = &s->server.tx;
	const char *sender = tx->mail.address;
	struct message message;

	if (message_parse(smtp_tx_message(tx), tx->data.len, &message) != 0) {
		done(s, SMTP_REPLY_LOCAL_ERROR, "4.3.0 Error: insufficient system resources");
		return;
	}
	struct policy_result result = s->direction->policy(&s->config, tx, &message);
	switch (result.verdict) {
	case POLICY_REJECT_FROM_MISMATCH:
		log_info("Rejected mail from %s: %s", sender, result.reason);
		done(s, SMTP_REPLY_SYNTAX, "5.7.1 Invalid From: header, not the envelope sender");
		return;
	case POLICY_REJECT_NO_FROM:
		log_info("Rejected mail from %s: %s", sender, result.reason);
		done(s, SMTP_REPLY_FAILED, "5.7.1 Invalid From: header, need exactly one address");
		return;
	case POLICY_REJECT_UNENCRYPTED:
	case POLICY_ACCEPT:
		break;
	}
	/* The reference relay counts Secure-Join requests as encrypted in its log, and bounces
	 * apart (its metrics count these lines: README "Metrics"). */
	if (result.bounce)
		log_info("%s: Filtering mailer-daemon message from %s", s->direction->name,
			 sender[0] != '\0' ? sender : "<>");
	else
		log_info("%s: Filtering %s mail.", s->direction->name,
			 result.encrypted || result.securejoin ? "encrypted" : "unencrypted");
	if (result.verdict == POLICY_REJECT_UNENCRYPTED) {
		log_info("Rejected unencrypted mail from: %s (%s)", sender, result.reason);
		done(s, SMTP_REPLY_ENCRYPTION_NEEDED,
		     "Encryption Needed: Invalid Unencrypted Mail");
		return;
	}
	if (!s->direction->authentic(s, &message))
		return;
	if (result.null_sender)
		log_info("Envelope sender %s is not the From: address: handed on from <>",
			 sender[0] != '\0' ? sender : "<>");
	struct smtp_client_answer answer;
	relay(s, result.null_sender, &answer);
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
	accounts_close(session.accounts);
	dkim_checker_free(session.dkim);
	return status;
}
