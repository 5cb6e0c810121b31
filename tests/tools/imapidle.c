/* imapidle: many Delta Chat-like IMAP clients in IDLE on one relay, and mail delivered to them.
 * Opens N IMAPS connections, each its own account (created on first login), SELECT INBOX, IDLE;
 * then reads commands on stdin and answers on stdout, so a test or benchmark drives it:
 *   deliver I        submit a message to client I over SMTPS; "exists I MS" when its EXISTS came
 *                    (MS from the SMTP 250), "missing I" after 10 s without
 *   deliver-random K deliver to K random clients, one after the other; then "latency p50 P99"
 *   noop I           client I leaves IDLE, sends NOOP, IDLEs again: "noop I MS", or "failed I"
 *   alive            "alive K": how many connections are still open and in IDLE
 *   quit
 * usage: imapidle HOST IMAPS_PORT SMTPS_PORT DOMAIN N PREFIX MESSAGE_FILE
 * Accounts are PREFIX followed by digits (9 characters), the sender is number N. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PASSWORD "idle-bench-password"
#define SETUP_IN_FLIGHT 32 /* clients logging in at once */
#define LINE_MAX_LEN 4096
#define EXISTS_TIMEOUT_MS 10000
#define SETUP_TIMEOUT_MS 600000

enum state { CONNECTING, HANDSHAKE, GREETING, LOGIN, SELECT, IDLE_SENT, IDLING, DONE_SENT, NOOP_SENT, CLOSED };

struct client {
	int fd;
	SSL *ssl;
	enum state state;
	char line[LINE_MAX_LEN];
	size_t len;
	int exists;         /* an EXISTS arrived since the last delivery */
	double noop_start; /* when noop began */
};

static SSL_CTX *ctx;
static struct client *clients;
static int count, epfd, idling, failed;
static const char *host, *domain, *prefix;
static int imaps_port, smtps_port;
static char *message;
static size_t message_len;

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void die(const char *what)
{
	fprintf(stderr, "imapidle: %s\n", what);
	exit(1);
}

static void address(int i, char *out, size_t size)
{
	int digits = 9 - (int)strlen(prefix);
	snprintf(out, size, "%s%0*d@%s", prefix, digits, i, domain);
}

static int tcp_connect(int port, int nonblocking)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("HOST must be an IPv4 address");
	int fd = socket(AF_INET, SOCK_STREAM | (nonblocking ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS)
		die("connect");
	return fd;
}

/* Small commands: written whole, waiting for the socket when TLS wants it. */
static int ssl_send(SSL *ssl, int fd, const char *text, size_t len)
{
	while (len > 0) {
		int n = SSL_write(ssl, text, (int)len);
		if (n > 0) {
			text += n;
			len -= (size_t)n;
			continue;
		}
		int e = SSL_get_error(ssl, n);
		if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ)
			return -1;
		struct pollfd p = {fd, e == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, 0};
		poll(&p, 1, 1000);
	}
	return 0;
}

__attribute__((format(printf, 2, 3))) static void client_send(struct client *c, const char *format, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, format);
	int n = vsnprintf(buf, sizeof buf, format, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf || ssl_send(c->ssl, c->fd, buf, (size_t)n) < 0)
		c->state = CLOSED;
}

static void client_start(int i)
{
	struct client *c = &clients[i];
	c->fd = tcp_connect(imaps_port, 1);
	c->ssl = SSL_new(ctx);
	SSL_set_fd(c->ssl, c->fd);
	SSL_set_connect_state(c->ssl);
	c->state = CONNECTING;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (unsigned)i};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl");
}

static void client_close(struct client *c)
{
	if (c->state == IDLING)
		idling--;
	c->state = CLOSED;
	failed++;
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
}

/* One line from the server, in the client's state. */
static void client_line(int i, const char *line)
{
	struct client *c = &clients[i];
	char user[128];
	if (strncmp(line, "* ", 2) == 0 && strstr(line, " EXISTS") != NULL && atoi(line + 2) > 0)
		c->exists = 1;
	switch (c->state) {
	case GREETING:
		address(i, user, sizeof user);
		client_send(c, "a LOGIN %s %s\r\n", user, PASSWORD);
		c->state = LOGIN;
		break;
	case LOGIN:
		if (strncmp(line, "a OK", 4) == 0) {
			client_send(c, "b SELECT INBOX\r\n");
			c->state = SELECT;
		} else if (strncmp(line, "a ", 2) == 0) {
			fprintf(stderr, "imapidle: client %d: %s\n", i, line);
			client_close(c);
		}
		break;
	case SELECT:
		if (strncmp(line, "b OK", 4) == 0) {
			client_send(c, "c IDLE\r\n");
			c->state = IDLE_SENT;
		} else if (strncmp(line, "b ", 2) == 0) {
			client_close(c);
		}
		break;
	case IDLE_SENT:
		if (line[0] == '+') {
			c->state = IDLING;
			idling++;
		} else if (strncmp(line, "c ", 2) == 0) {
			client_close(c);
		}
		break;
	case DONE_SENT:
		if (strncmp(line, "c OK", 4) == 0) {
			client_send(c, "d NOOP\r\n");
			c->state = NOOP_SENT;
		}
		break;
	case NOOP_SENT:
		if (strncmp(line, "d OK", 4) == 0) {
			printf("noop %d %.1f\n", i, now_ms() - c->noop_start);
			fflush(stdout);
			client_send(c, "c IDLE\r\n");
			c->state = IDLE_SENT;
		} else if (strncmp(line, "d ", 2) == 0) {
			printf("failed %d\n", i);
			fflush(stdout);
		}
		break;
	default:
		break;
	}
}

static void client_event(int i)
{
	struct client *c = &clients[i];
	if (c->state == CLOSED)
		return;
	if (c->state == CONNECTING || c->state == HANDSHAKE) {
		c->state = HANDSHAKE;
		int r = SSL_do_handshake(c->ssl), e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);
		if (e != SSL_ERROR_NONE && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			client_close(c);
			return;
		}
		/* level-triggered: ask for writability only while TLS wants to write */
		struct epoll_event ev = {.events = e == SSL_ERROR_WANT_WRITE ? EPOLLOUT : EPOLLIN,
					 .data.u32 = (unsigned)i};
		epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
		if (r != 1)
			return;
		c->state = GREETING;
	}
	for (;;) {
		int n = SSL_read(c->ssl, c->line + c->len, (int)(sizeof c->line - 1 - c->len));
		if (n <= 0) {
			int e = SSL_get_error(c->ssl, n);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				client_close(c);
			return;
		}
		c->len += (size_t)n;
		char *end;
		while ((end = memchr(c->line, '\n', c->len)) != NULL) {
			*end = '\0';
			if (end > c->line && end[-1] == '\r')
				end[-1] = '\0';
			client_line(i, c->line);
			size_t used = (size_t)(end + 1 - c->line);
			memmove(c->line, end + 1, c->len - used);
			c->len -= used;
			if (c->state == CLOSED)
				return;
		}
		if (c->len == sizeof c->line - 1)
			c->len = 0; /* an overlong line: not one we wait for */
	}
}

/* Runs the event loop for up to ms milliseconds, or until done() says so. */
static void loop(double ms, int (*done)(void *), void *arg)
{
	double end = now_ms() + ms;
	struct epoll_event events[64];
	while (!(done != NULL && done(arg))) {
		double left = end - now_ms();
		if (left <= 0)
			return;
		int n = epoll_wait(epfd, events, 64, left > 100 ? 100 : (int)left + 1);
		for (int k = 0; k < n; k++)
			client_event((int)events[k].data.u32);
	}
}

static int setup_done(void *arg)
{
	int *started = arg;
	while (*started < count && *started - idling - failed < SETUP_IN_FLIGHT)
		client_start((*started)++);
	return idling + failed == count;
}

static int exists_seen(void *arg)
{
	return clients[*(int *)arg].exists;
}

/* --- SMTP submission, blocking, one session for every delivery --- */

static SSL *smtp;
static int smtp_fd;

static int smtp_reply(void)
{
	char line[1024];
	size_t len = 0;
	for (;;) {
		char ch;
		if (SSL_read(smtp, &ch, 1) != 1)
			return -1;
		if (ch != '\n') {
			if (len < sizeof line - 1)
				line[len++] = ch;
			continue;
		}
		line[len] = '\0';
		if (len >= 4 && line[3] == ' ')
			return atoi(line);
		len = 0;
	}
}

__attribute__((format(printf, 2, 3))) static int smtp_command(int expect, const char *format, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, format);
	int n = vsnprintf(buf, sizeof buf, format, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf || ssl_send(smtp, smtp_fd, buf, (size_t)n) < 0)
		return -1;
	int code = smtp_reply();
	if (code != expect)
		fprintf(stderr, "imapidle: SMTP %.*s: %d\n", (int)strcspn(buf, " \r"), buf, code);
	return code == expect ? 0 : -1;
}

static void smtp_open(void)
{
	char sender[128], plain[256], encoded[400];
	smtp_fd = tcp_connect(smtps_port, 0);
	smtp = SSL_new(ctx);
	SSL_set_fd(smtp, smtp_fd);
	if (SSL_connect(smtp) != 1 || smtp_reply() != 220 || smtp_command(250, "EHLO idle\r\n") < 0)
		die("SMTPS: no session");
	address(count, sender, sizeof sender);
	int n = snprintf(plain, sizeof plain, "%c%s%c%s", 0, sender, 0, PASSWORD);
	EVP_EncodeBlock((unsigned char *)encoded, (unsigned char *)plain, n);
	if (smtp_command(235, "AUTH PLAIN %s\r\n", encoded) < 0)
		die("SMTPS: AUTH failed");
}

/* The message file with the sender's and recipient's From: and To:, CRLF, dot-stuffed. */
static int smtp_message(int i)
{
	char sender[128], rcpt[128], head[400];
	address(count, sender, sizeof sender);
	address(i, rcpt, sizeof rcpt);
	if (smtp_command(250, "MAIL FROM:<%s>\r\n", sender) < 0 ||
	    smtp_command(250, "RCPT TO:<%s>\r\n", rcpt) < 0 || smtp_command(354, "DATA\r\n") < 0)
		return -1;
	int n = snprintf(head, sizeof head, "From: <%s>\r\nTo: <%s>\r\n", sender, rcpt);
	if (ssl_send(smtp, smtp_fd, head, (size_t)n) < 0)
		return -1;
	const char *p = message, *end = message + message_len;
	int in_header = 1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 0)
			in_header = 0;
		int skip = in_header && (strncasecmp(p, "From:", 5) == 0 || strncasecmp(p, "To:", 3) == 0 ||
					 strncasecmp(p, "X-Test-Purpose:", 15) == 0);
		if (!skip && ((len > 0 && p[0] == '.' && ssl_send(smtp, smtp_fd, ".", 1) < 0) ||
			      ssl_send(smtp, smtp_fd, p, len) < 0 || ssl_send(smtp, smtp_fd, "\r\n", 2) < 0))
			return -1;
		p = nl != NULL ? nl + 1 : end;
	}
	return smtp_command(250, ".\r\n");
}

/* Delivers to client i: the time from the SMTP 250 to its EXISTS, or -1. */
static double deliver(int i)
{
	if (smtp == NULL)
		smtp_open();
	clients[i].exists = 0;
	if (smtp_message(i) < 0)
		die("SMTPS: message refused");
	double sent = now_ms();
	loop(EXISTS_TIMEOUT_MS, exists_seen, &i);
	return clients[i].exists ? now_ms() - sent : -1;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void deliver_random(int k)
{
	double *ms = calloc((size_t)k, sizeof *ms);
	int seen = 0;
	if (ms == NULL)
		die("out of memory");
	srand((unsigned)time(NULL));
	for (int n = 0; n < k; n++) {
		int i = rand() % count;
		double t = deliver(i);
		if (t < 0) {
			printf("missing %d\n", i);
		} else {
			printf("exists %d %.1f\n", i, t);
			ms[seen++] = t;
		}
		fflush(stdout);
		loop(20, NULL, NULL);
	}
	qsort(ms, (size_t)seen, sizeof *ms, compare);
	if (seen > 0)
		printf("latency %.1f %.1f %d\n", ms[seen / 2], ms[(seen * 99) / 100 < seen ? (seen * 99) / 100 : seen - 1], seen);
	fflush(stdout);
	free(ms);
}

static void noop(int i)
{
	struct client *c = &clients[i];
	if (c->state != IDLING) {
		printf("failed %d\n", i);
		return;
	}
	idling--;
	c->noop_start = now_ms();
	client_send(c, "DONE\r\n");
	c->state = DONE_SENT;
	loop(EXISTS_TIMEOUT_MS, setup_done, &count);
	if (c->state != IDLING)
		printf("failed %d\n", i);
}

static void read_message(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		die("cannot read MESSAGE_FILE");
	static char buf[1 << 20];
	message_len = fread(buf, 1, sizeof buf, f);
	message = buf;
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 8)
		die("usage: imapidle HOST IMAPS_PORT SMTPS_PORT DOMAIN N PREFIX MESSAGE_FILE");
	host = argv[1], imaps_port = atoi(argv[2]), smtps_port = atoi(argv[3]), domain = argv[4];
	count = atoi(argv[5]), prefix = argv[6];
	if (count < 1 || strlen(prefix) > 4)
		die("N must be positive and PREFIX at most 4 characters");
	read_message(argv[7]);
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	clients = calloc((size_t)count, sizeof *clients);
	epfd = epoll_create1(0);
	if (ctx == NULL || clients == NULL || epfd < 0)
		die("setup");

	double start = now_ms();
	int started = 0;
	loop(SETUP_TIMEOUT_MS, setup_done, &started);
	printf("idle %d %d %.1f\n", idling, failed, (now_ms() - start) / 1e3);
	fflush(stdout);

	char command[64];
	size_t have = 0;
	for (;;) {
		char *nl = memchr(command, '\n', have);
		if (nl == NULL) {
			struct pollfd p = {0, POLLIN, 0};
			if (poll(&p, 1, 0) <= 0) { /* serve the connections while stdin is quiet */
				loop(100, NULL, NULL);
				continue;
			}
			ssize_t n = read(0, command + have, sizeof command - 1 - have);
			if (n <= 0)
				break;
			have += (size_t)n;
			if (have == sizeof command - 1)
				have = 0; /* no command is that long */
			continue;
		}
		*nl = '\0';
		int arg = atoi(command + strcspn(command, " "));
		if (strncmp(command, "quit", 4) == 0)
			break;
		else if (strncmp(command, "deliver-random ", 15) == 0)
			deliver_random(arg);
		else if (strncmp(command, "deliver ", 8) == 0 && arg >= 0 && arg < count) {
			double t = deliver(arg);
			if (t < 0)
				printf("missing %d\n", arg);
			else
				printf("exists %d %.1f\n", arg, t);
		} else if (strncmp(command, "noop ", 5) == 0 && arg >= 0 && arg < count)
			noop(arg);
		else if (strncmp(command, "alive", 5) == 0)
			printf("alive %d\n", idling);
		else
			printf("unknown command\n");
		fflush(stdout);
		size_t used = (size_t)(nl + 1 - command);
		memmove(command, nl + 1, have - used);
		have -= used;
	}
	return 0;
}
