/* smtpload: sends one message per SMTP connection to a TCP port of 127.0.0.1, from C
 * connections at once, and prints messages per second and latency (connect to the final reply)
 * p50/p99. A server spawned per connection sits behind bench/spawner, as behind spawn(8).
 *
 * A message counts as taken when its final reply is EXPECTED (250 unless -e says otherwise: a
 * filter refusing every message is measured with -e 523).
 *
 * usage: smtpload -c CONNECTIONS -n MESSAGES -f FROM -r TO [-e EXPECTED] -p PORT MESSAGE */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX 4096
#define WORKERS_MAX 256

static int port, total, expected = 250;
static const char *from, *to;
static char *data; /* the message as DATA: CRLF, stuffed, with the final dot */
static size_t data_len;
static double *latencies;
static atomic_int next_message, failures;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool send_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Reads one whole reply; returns its code, 0 on EOF or garbage. */
static int reply(int fd, char *buf, size_t *have)
{
	for (;;) {
		char *line = buf;
		for (char *lf; (lf = memchr(line, '\n', *have - (size_t)(line - buf))) != NULL;
		     line = lf + 1) {
			if (lf - line >= 4 && line[3] == ' ') {
				int code = atoi(line);
				size_t rest = *have - (size_t)(lf + 1 - buf);
				memmove(buf, lf + 1, rest);
				*have = rest;
				return code;
			}
		}
		if (*have == REPLY_MAX)
			return 0;
		ssize_t n = read(fd, buf + *have, REPLY_MAX - *have);
		if (n <= 0)
			return 0;
		*have += (size_t)n;
	}
}

static int command_line(int fd, char *buf, size_t *have, const char *line)
{
	if (!send_all(fd, line, strlen(line)))
		return 0;
	return reply(fd, buf, have);
}

static int open_tcp(void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One message on one connection. Returns true when the server answered it as expected. */
static bool one_message(double *latency)
{
	char buf[REPLY_MAX], line[600];
	size_t have = 0;
	double start = now();
	int fd = open_tcp();
	bool ok = false;

	if (fd < 0)
		return false;
	snprintf(line, sizeof line, "MAIL FROM:<%s>\r\n", from);
	if (reply(fd, buf, &have) == 220 && command_line(fd, buf, &have, "EHLO load\r\n") == 250 &&
	    command_line(fd, buf, &have, line) == 250) {
		snprintf(line, sizeof line, "RCPT TO:<%s>\r\n", to);
		if (command_line(fd, buf, &have, line) == 250 &&
		    command_line(fd, buf, &have, "DATA\r\n") == 354 && send_all(fd, data, data_len))
			ok = reply(fd, buf, &have) == expected;
	}
	*latency = now() - start;
	if (ok)
		command_line(fd, buf, &have, "QUIT\r\n");
	close(fd);
	return ok;
}

static void *worker(void *unused)
{
	(void)unused;
	for (int i; (i = atomic_fetch_add(&next_message, 1)) < total;)
		if (!one_message(&latencies[i]))
			atomic_fetch_add(&failures, 1);
	return NULL;
}

/* Reads the message (LF or CRLF) and makes it DATA: CRLF line ends, dots stuffed, the dot. */
static void load_message(const char *path)
{
	FILE *f = fopen(path, "r");
	struct stat st;
	if (f == NULL || fstat(fileno(f), &st) != 0) {
		perror(path);
		exit(2);
	}
	data = malloc(2 * (size_t)st.st_size + 8);
	char *line = NULL;
	size_t size = 0;
	ssize_t n;
	while ((n = getline(&line, &size, f)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (line[0] == '.')
			data[data_len++] = '.';
		memcpy(data + data_len, line, (size_t)n);
		data_len += (size_t)n;
		memcpy(data + data_len, "\r\n", 2);
		data_len += 2;
	}
	memcpy(data + data_len, ".\r\n", 3);
	data_len += 3;
	free(line);
	fclose(f);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int connections = 1, opt;

	while ((opt = getopt(argc, argv, "c:n:f:r:p:e:")) != -1) {
		switch (opt) {
		case 'c':
			connections = atoi(optarg);
			break;
		case 'n':
			total = atoi(optarg);
			break;
		case 'f':
			from = optarg;
			break;
		case 'r':
			to = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'e':
			expected = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc || from == NULL || to == NULL || port == 0 || total < 1 ||
	    connections < 1 || connections > WORKERS_MAX)
		return 2;
	load_message(argv[optind]);
	signal(SIGPIPE, SIG_IGN);
	latencies = calloc((size_t)total, sizeof *latencies);

	pthread_t threads[WORKERS_MAX];
	double start = now();
	for (int i = 0; i < connections; i++)
		pthread_create(&threads[i], NULL, worker, NULL);
	for (int i = 0; i < connections; i++)
		pthread_join(threads[i], NULL);
	double elapsed = now() - start;

	qsort(latencies, (size_t)total, sizeof *latencies, by_value);
	printf("%8.1f msg/s  p50 %7.2f ms  p99 %7.2f ms  failed %d", total / elapsed,
	       latencies[total / 2] * 1000, latencies[(total * 99) / 100] * 1000,
	       atomic_load(&failures));
	printf("\n");
	return atomic_load(&failures) == 0 ? 0 : 1;
}
