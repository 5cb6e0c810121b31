/* Asks a running Dovecot's auth service what an IMAP login or an LMTP delivery asks, COUNT
 * times one after another on one connection, and prints requests per second and latency.
 * usage: auth-load login AUTH-CLIENT-SOCKET COUNT PREFIX PASSWORD   (PREFIX00000@example.org)
 *        auth-load lookup AUTH-MASTER-SOCKET COUNT PREFIX */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char in[65536];
static size_t in_len;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* The next line from the server, without its newline; exits when the server goes away. */
static const char *next_line(int fd)
{
	static char line[sizeof in];
	char *end;
	while ((end = memchr(in, '\n', in_len)) == NULL) {
		ssize_t n = read(fd, in + in_len, sizeof in - in_len);
		if (n <= 0) {
			fprintf(stderr, "auth-load: the server closed the connection\n");
			exit(1);
		}
		in_len += (size_t)n;
	}
	size_t len = (size_t)(end - in);
	memcpy(line, in, len);
	line[len] = '\0';
	in_len -= len + 1;
	memmove(in, end + 1, in_len);
	return line;
}

static void send_text(int fd, const char *text)
{
	size_t len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len)
		exit(1);
}

static void base64(const unsigned char *data, size_t len, char *out)
{
	static const char digits[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = data[i] << 16 | (i + 1 < len ? data[i + 1] << 8 : 0) |
			     (i + 2 < len ? data[i + 2] : 0);
		*out++ = digits[v >> 18 & 63];
		*out++ = digits[v >> 12 & 63];
		*out++ = i + 1 < len ? digits[v >> 6 & 63] : '=';
		*out++ = i + 2 < len ? digits[v & 63] : '=';
	}
	*out = '\0';
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int login = argc == 6 && strcmp(argv[1], "login") == 0;
	if (!login && !(argc == 5 && strcmp(argv[1], "lookup") == 0)) {
		fprintf(stderr, "usage: auth-load login|lookup SOCKET COUNT PREFIX [PASSWORD]\n");
		return 2;
	}
	int count = atoi(argv[3]);
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	snprintf(address.sun_path, sizeof address.sun_path, "%s", argv[2]);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (count <= 0 || fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) != 0) {
		perror("auth-load: connect");
		return 1;
	}
	if (login) {
		char hello[64];
		snprintf(hello, sizeof hello, "VERSION\t1\t2\nCPID\t%ld\n", (long)getpid());
		send_text(fd, hello);
		while (strcmp(next_line(fd), "DONE") != 0)
			;
	} else {
		send_text(fd, "VERSION\t1\t0\n");
	}
	double *latency = calloc((size_t)count, sizeof *latency), start = now();
	for (int i = 0; i < count; i++) {
		char user[128], request[1024], answer[32];
		snprintf(user, sizeof user, "%s%05d@example.org", argv[4], i % 1000);
		if (login) {
			unsigned char plain[300];
			char encoded[420];
			int len = snprintf((char *)plain + 1, sizeof plain - 1, "%s%c%s", user, 0, argv[5]);
			plain[0] = '\0';
			base64(plain, (size_t)len + 1, encoded);
			snprintf(request, sizeof request,
				 "AUTH\t%d\tPLAIN\tservice=imap\tsecured\tresp=%s\n", i + 1, encoded);
		} else {
			snprintf(request, sizeof request, "USER\t%d\t%s\tservice=lmtp\n", i + 1, user);
		}
		snprintf(answer, sizeof answer, "%s\t%d\t", login ? "OK" : "USER", i + 1);
		double t = now();
		send_text(fd, request);
		const char *line;
		while (strncmp(line = next_line(fd), "VERSION", 7) == 0 ||
		       strncmp(line, "SPID", 4) == 0)
			;
		latency[i] = now() - t;
		if (strncmp(line, answer, strlen(answer)) != 0) {
			/* a failure is answered only after auth_failure_delay: say so at once */
			fprintf(stderr, "auth-load: %s answered: %.200s\n", user, line);
			return 1;
		}
	}
	double seconds = now() - start;
	qsort(latency, (size_t)count, sizeof *latency, compare);
	printf("%6d %-7s through Dovecot: %7.0f/s  p50 %6.3f ms  p99 %6.3f ms\n", count,
	       login ? "logins" : "lookups", count / seconds, latency[count / 2] * 1000,
	       latency[count * 99 / 100] * 1000);
	free(latency);
	return 0;
}
