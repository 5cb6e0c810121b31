/* mxdeliv-send: the Postfix pipe(8) transport for other domains (README "/mxdeliv"). It tries
 * POST https://<mx>/mxdeliv (SPEC §5b) and, when that does not take the message, hands it back
 * to Postfix through the loopback smtpd whose content_filter is the smtp transport. Postfix
 * stays the queue: exit 0 only once the peer or that smtpd took the message, EX_TEMPFAIL
 * (defer, retry later) otherwise.
 *
 * usage (master.cf): mxdeliv-send FALLBACK_PORT ${nexthop} ${sender} ${recipient}... */
#include "config.h"
#include "http_client.h"
#include "log.h"
#include "mxdeliv.h"
#include "smtp_client.h"
#include "smtp_tx.h"

#include <arpa/nameser.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

/* Exit codes, as pipe(8) reads them (sysexits.h). */
#define EXIT_SENT 0	  /* the peer or the smtp transport's queue has the message */
#define EXIT_USAGE 64	  /* EX_USAGE: a bad master.cf line (Postfix bounces) */
#define EXIT_TEMPFAIL 75 /* EX_TEMPFAIL: Postfix keeps the message and retries */

/* Seconds for the whole POST: a slow peer costs this, then SMTP gets its turn, both below
 * pipe(8)'s time limit. Tests shorten it through the environment. */
#define POST_TIMEOUT_SECONDS 60
#define POST_TIMEOUT_ENV "MXDELIV_POST_TIMEOUT"
/* Room over max_message_size for what Postfix added (Received:, DKIM-Signature:). */
#define MESSAGE_SLACK (1024 * 1024)

struct delivery {
	struct config config;
	const char *domain; /* the recipients' domain: Postfix's ${nexthop} */
	char host[MXDELIV_HOST_MAX + 1];
	struct smtp_tx tx;
};

/* pipe(8) shows the first line of what we print in the log's status. */
static int finish(int code, const char *format, ...) __attribute__((format(printf, 2, 3)));

static int finish(int code, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	vprintf(format, args);
	va_end(args);
	putchar('\n');
	fflush(stdout);
	return code;
}

/* The whole message from pipe(8), with CRLF line ends; -1 beyond limit bytes. */
static int read_message(struct smtp_tx *tx, size_t limit)
{
	size_t len = 0, size = 65536;
	char *raw = malloc(size);

	while (raw != NULL) {
		if (len == size) {
			/* grow by doubling, the last step to exactly limit + 1 (one byte over
			 * the limit tells a message that is too big) */
			size_t next = size * 2 <= limit + 1 ? size * 2 : limit + 1;
			char *bigger = next > size ? realloc(raw, next) : NULL;
			if (bigger == NULL)
				break;
			raw = bigger;
			size = next;
		}
		ssize_t n = read(STDIN_FILENO, raw + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (n == 0) {
			char *message = malloc(mxdeliv_crlf_size(raw, len) + 1);
			if (message == NULL)
				break;
			tx->data.len = mxdeliv_crlf(raw, len, message);
			tx->data.message = message;
			tx->data.size = tx->data.len + 1;
			free(raw);
			return 0;
		}
		len += (size_t)n;
	}
	free(raw);
	return -1;
}

/* The host that takes the domain's mail: its best MX, the domain itself without one, the
 * address of a literal. -1 when DNS cannot tell now (SMTP then asks it again). */
static int mail_host(const char *domain, char *host, size_t size)
{
	unsigned char answer[4096];
	ns_msg msg;
	ns_rr rr;
	int best = 65536;

	if (domain[0] == '[') {
		size_t len = strlen(domain);
		if (len < 3 || domain[len - 1] != ']' || len - 2 >= size)
			return -1;
		const char *start = domain + 1;
		if (strncasecmp(start, "IPv6:", 5) == 0) {
			start += 5;
			len -= 5;
		}
		memcpy(host, start, len - 2);
		host[len - 2] = '\0';
		return 0;
	}
	int n = res_query(domain, ns_c_in, ns_t_mx, answer, sizeof answer);
	if (n < 0) {
		if (h_errno != HOST_NOT_FOUND && h_errno != NO_DATA)
			return -1;
		return snprintf(host, size, "%s", domain) < (int)size ? 0 : -1;
	}
	if (ns_initparse(answer, n, &msg) != 0)
		return -1;
	host[0] = '\0';
	for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
		char name[NS_MAXDNAME];
		if (ns_parserr(&msg, ns_s_an, i, &rr) != 0 || ns_rr_type(rr) != ns_t_mx ||
		    ns_rr_rdlen(rr) < 3)
			continue;
		int preference = ns_get16(ns_rr_rdata(rr));
		if (preference >= best ||
		    ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr) + 2, name,
				       sizeof name) < 0 ||
		    strlen(name) >= size)
			continue;
		best = preference;
		memcpy(host, name, strlen(name) + 1);
	}
	if (host[0] == '\0')
		return snprintf(host, size, "%s", domain) < (int)size ? 0 : -1;
	return 0;
}

/* The table of hosts that needed SMTP, read and, with remember, written under one lock. */
static bool memory_check(const struct delivery *d, bool remember)
{
	static struct mxdeliv_memory memory;
	char path[CONFIG_PATH_MAX + sizeof MXDELIV_MEMORY_FILE + 2];
	bool smtp_only = false;

	if (snprintf(path, sizeof path, "%s/%s", d->config.state_dir, MXDELIV_MEMORY_FILE) >=
	    (int)sizeof path)
		return false;
	int fd = open(path, (remember ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("cannot open %s: %s", path, strerror(errno));
		return false;
	}
	if (flock(fd, remember ? LOCK_EX : LOCK_SH) == 0) {
		/* a file of another size (new, or cut short) holds nothing yet */
		if (pread(fd, &memory, sizeof memory, 0) != (ssize_t)sizeof memory)
			memset(&memory, 0, sizeof memory);
		int64_t now = (int64_t)time(NULL);
		smtp_only = mxdeliv_memory_smtp_only(&memory, d->host, now);
		if (remember) {
			mxdeliv_memory_remember(&memory, d->host, now);
			if (pwrite(fd, &memory, sizeof memory, 0) != (ssize_t)sizeof memory)
				log_warn("cannot write %s: %s", path, strerror(errno));
		}
	}
	close(fd);
	return smtp_only;
}

/* The POST; 0 when the peer took the message. */
static int post(struct delivery *d, struct http_response *response)
{
	const struct smtp_tx *tx = &d->tx;
	char url[MXDELIV_HOST_MAX + 32];
	size_t count = tx->recipient_count + 1;
	char (*lines)[SMTP_ADDRESS_MAX + 16] = calloc(count, sizeof *lines);
	const char **headers = calloc(count, sizeof *headers);
	size_t n = 0;
	int result = -1;

	response->status = 0;
	snprintf(response->error, sizeof response->error, "out of memory");
	if (lines == NULL || headers == NULL || mxdeliv_url(d->host, url, sizeof url) != 0)
		goto out;
	if (tx->mail.address_len > 0)
		snprintf(lines[n++], sizeof *lines, "X-Mail-From: %s", tx->mail.address);
	for (size_t i = 0; i < tx->recipient_count; i++)
		snprintf(lines[n++], sizeof *lines, "X-Mail-To: %s", tx->recipients[i].address);
	for (size_t i = 0; i < n; i++)
		headers[i] = lines[i];
	const char *timeout = getenv(POST_TIMEOUT_ENV);
	struct http_request request = {
	    .url = url,
	    .verify = mxdeliv_verify(d->domain),
	    .headers = headers,
	    .header_count = n,
	    .body = tx->data.message,
	    .body_len = tx->data.len,
	    .timeout_ms = (timeout != NULL && atoi(timeout) > 0 ? atoi(timeout)
								: POST_TIMEOUT_SECONDS) *
			  1000,
	};
	if (http_post(&request, response) == 0 && mxdeliv_accepted(response->status))
		result = 0;
out:
	free(lines);
	free(headers);
	return result;
}

/* Back to Postfix by the loopback smtpd that queues for the smtp transport. */
static int by_smtp(struct delivery *d, uint16_t port, const char *why)
{
	struct smtp_client_request request = {
	    .port = port,
	    .helo = d->config.mail_domain,
	    .tx = &d->tx,
	    .null_sender = d->tx.mail.address_len == 0,
	    .time_limit = SMTP_CLIENT_TIME_LIMIT,
	};
	struct smtp_client_answer answer;
	smtp_client_relay(&request, &answer);
	if (!answer.accepted) {
		log_warn("to %s: %s, and SMTP hand-over failed: %d %s", d->domain, why, answer.code,
			 answer.text);
		return finish(EXIT_TEMPFAIL, "not delivered over https (%s), SMTP queue: %s", why,
			      answer.text);
	}
	log_info("to %s: %s: handed to SMTP: %s", d->domain, why, answer.text);
	return finish(EXIT_SENT, "handed to SMTP (%s)", why);
}

static int deliver(struct delivery *d, uint16_t port)
{
	struct http_response response;
	char why[512];

	if (mail_host(d->domain, d->host, sizeof d->host) != 0)
		return by_smtp(d, port, "no MX answer now");
	if (memory_check(d, false)) {
		snprintf(why, sizeof why, "%s without /mxdeliv in the last 30 minutes", d->host);
		return by_smtp(d, port, why);
	}
	if (post(d, &response) == 0) {
		/* "sent mail" is what the metrics count (conf/mtail) */
		log_info("sent mail to %s over https://%s/mxdeliv for %zu recipient(s): %d %.200s",
			 d->domain, d->host, d->tx.recipient_count, response.status, response.body);
		return finish(EXIT_SENT, "delivered over https://%s/mxdeliv: %.200s", d->host,
			      response.body);
	}
	if (response.status == 0)
		snprintf(why, sizeof why, "https://%s/mxdeliv: %.200s", d->host, response.error);
	else
		snprintf(why, sizeof why, "https://%s/mxdeliv: %d %.200s", d->host, response.status,
			 strtok(response.body, "\r\n") ? response.body : "");
	if (mxdeliv_host_lacks_it(response.status))
		memory_check(d, true);
	return by_smtp(d, port, why);
}

int main(int argc, char **argv)
{
	static struct delivery d;
	struct config_error error;
	char *end;

	log_open("mxdeliv-send", LOG_TO_SYSLOG);
	long port = argc > 1 ? strtol(argv[1], &end, 10) : 0;
	if (argc < 5 || *end != '\0' || port < 1 || port > 65535) {
		log_error("usage: mxdeliv-send FALLBACK_PORT NEXTHOP SENDER RECIPIENT...");
		return finish(EXIT_USAGE, "mxdeliv-send: bad usage");
	}
	if (config_load(&d.config, &error) != 0) {
		config_log_error(&error);
		return finish(EXIT_TEMPFAIL, "mxdeliv-send: chatmail.ini unreadable");
	}
	d.domain = argv[2];
	if (mxdeliv_sender(&d.tx, argv[3], strlen(argv[3])) != 0)
		return finish(EXIT_TEMPFAIL, "mxdeliv-send: bad sender %s", argv[3]);
	for (int i = 4; i < argc; i++)
		if (mxdeliv_recipients(&d.tx, argv[i], strlen(argv[i])) != 0)
			return finish(EXIT_TEMPFAIL, "mxdeliv-send: bad recipient %s", argv[i]);
	if (read_message(&d.tx, d.config.max_message_size + MESSAGE_SLACK) != 0)
		return finish(EXIT_TEMPFAIL, "mxdeliv-send: message not read or too big");
	int status = deliver(&d, (uint16_t)port);
	smtp_tx_reset(&d.tx);
	return status;
}
