/* smtpsink: a tiny SMTP server for tests and benchmarks that records exactly what it received
 * and answers as told.
 *
 * usage: smtpsink [options] PORT
 *   -d DIR   record each connection: DIR/<pid>.session holds every byte the client sent,
 *            DIR/<pid>.peer its address, DIR/<pid>-<n>.eml each message accepted with
 *            dot-stuffing undone
 *   -x       offer XFORWARD in the EHLO reply
 *   -g CODE  greeting code (default 220); -e CODE  EHLO reply code (default 250)
 *   -m CODE  MAIL reply; -r CODE  RCPT reply; -a CODE  DATA reply (default 354)
 *   -D CODE  reply at the end of data (default 250)
 *   -c       close the connection at the end of data without a reply
 *   -s       stay silent: accept connections, never answer
 * Listens on 127.0.0.1:PORT, one process per connection, until killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINE_MAX_BYTES (64 * 1024 * 1024)

static const char *dir;
static bool xforward, close_at_end, silent;
static int greeting = 220, ehlo = 250, mail = 250, rcpt = 250, data = 354, end = 250;

static FILE *session_log;

static void reply(FILE *out, int code, const char *text)
{
	fprintf(out, "%d %s\r\n", code, text);
	fflush(out);
}

static bool is(const char *line, const char *verb)
{
	return strncasecmp(line, verb, strlen(verb)) == 0;
}

/* Reads one line with its line end; records it. Returns its length, 0 at EOF. */
static ssize_t read_line(FILE *in, char **line, size_t *size)
{
	ssize_t n = getline(line, size, in);
	if (n <= 0)
		return 0;
	if (n > LINE_MAX_BYTES)
		exit(1);
	if (session_log != NULL)
		fwrite(*line, 1, (size_t)n, session_log);
	return n;
}

static void receive_data(FILE *in, FILE *out, int messages)
{
	char *line = NULL, path[4096];
	size_t size = 0;
	ssize_t n;
	FILE *eml = NULL;

	if (dir != NULL) {
		snprintf(path, sizeof path, "%s/%d-%d.tmp", dir, (int)getpid(), messages);
		eml = fopen(path, "w");
	}
	while ((n = read_line(in, &line, &size)) > 0) {
		if (strcmp(line, ".\r\n") == 0)
			break;
		if (eml != NULL)
			fwrite(line[0] == '.' ? line + 1 : line, 1, (size_t)n - (line[0] == '.'),
			       eml);
	}
	free(line);
	if (n <= 0 || close_at_end)
		exit(0);
	if (eml != NULL) {
		fclose(eml);
		char final[4096];
		snprintf(final, sizeof final, "%s/%d-%d.eml", dir, (int)getpid(), messages);
		if (end / 100 == 2)
			rename(path, final);
		else
			unlink(path);
	}
	reply(out, end, end / 100 == 2 ? "2.0.0 Ok: queued as SINK" : "5.0.0 refused by sink");
}

static void serve(int fd)
{
	FILE *in = fdopen(fd, "r"), *out = fdopen(dup(fd), "w");
	char *line = NULL, path[4096];
	size_t size = 0;
	int messages = 0;

	if (dir != NULL) {
		struct sockaddr_in peer;
		socklen_t peer_len = sizeof peer;
		char address[INET_ADDRSTRLEN] = "?";
		if (getpeername(fd, (struct sockaddr *)&peer, &peer_len) == 0)
			inet_ntop(AF_INET, &peer.sin_addr, address, sizeof address);
		snprintf(path, sizeof path, "%s/%d.peer", dir, (int)getpid());
		FILE *f = fopen(path, "w");
		if (f != NULL) {
			fprintf(f, "%s\n", address);
			fclose(f);
		}
		snprintf(path, sizeof path, "%s/%d.session", dir, (int)getpid());
		session_log = fopen(path, "w");
		setvbuf(session_log, NULL, _IONBF, 0);
	}
	if (silent) {
		while (read_line(in, &line, &size) > 0)
			;
		exit(0);
	}
	reply(out, greeting, "sink ESMTP");
	while (read_line(in, &line, &size) > 0) {
		if (is(line, "EHLO")) {
			if (ehlo != 250) {
				reply(out, ehlo, "EHLO refused");
				continue;
			}
			fprintf(out,
				"250-sink\r\n250-PIPELINING\r\n250-SIZE 100000000\r\n"
				"250-8BITMIME\r\n%s250 SMTPUTF8\r\n",
				xforward ? "250-XFORWARD NAME ADDR PROTO HELO SOURCE\r\n" : "");
			fflush(out);
		} else if (is(line, "XFORWARD")) {
			reply(out, 250, "2.0.0 Ok");
		} else if (is(line, "MAIL")) {
			reply(out, mail, mail == 250 ? "2.1.0 Ok" : "4.1.0 sender refused by sink");
		} else if (is(line, "RCPT")) {
			reply(out, rcpt,
			      rcpt == 250 ? "2.1.5 Ok" : "5.1.1 recipient refused by sink");
		} else if (is(line, "DATA")) {
			reply(out, data, data == 354 ? "go ahead" : "4.3.0 DATA refused by sink");
			if (data == 354)
				receive_data(in, out, ++messages);
		} else if (is(line, "QUIT")) {
			reply(out, 221, "2.0.0 Bye");
			break;
		} else {
			reply(out, 250, "2.0.0 Ok");
		}
	}
	exit(0);
}

int main(int argc, char **argv)
{
	int opt;

	while ((opt = getopt(argc, argv, "d:xg:e:m:r:a:D:cs")) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'x':
			xforward = true;
			break;
		case 'g':
			greeting = atoi(optarg);
			break;
		case 'e':
			ehlo = atoi(optarg);
			break;
		case 'm':
			mail = atoi(optarg);
			break;
		case 'r':
			rcpt = atoi(optarg);
			break;
		case 'a':
			data = atoi(optarg);
			break;
		case 'D':
			end = atoi(optarg);
			break;
		case 'c':
			close_at_end = true;
			break;
		case 's':
			silent = true;
			break;
		default:
			fprintf(stderr,
				"usage: smtpsink [-d dir] [-x] [-g|-e|-m|-r|-a|-D code] [-c] "
				"[-s] port\n");
			return 2;
		}
	}
	if (optind + 1 != argc)
		return 2;
	signal(SIGCHLD, SIG_IGN);
	int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_port = htons((uint16_t)atoi(argv[optind]))};
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 ||
	    listen(listener, 128) != 0) {
		perror("smtpsink");
		return 1;
	}
	for (;;) {
		int fd = accept(listener, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		if (fork() == 0) {
			close(listener);
			serve(fd);
		}
		close(fd);
	}
}
