/* smtpchat: plays a scripted SMTP client against a program run exactly as Postfix spawn(8)
 * runs it (stdin, stdout and stderr are one socket), or against a TCP port, and prints what
 * the server answered.
 *
 * usage: smtpchat [-t SECONDS] [-p PORT | -- COMMAND ARGS...] < SCRIPT
 * The server's greeting is read and printed before the script starts. Script lines:
 *   > TEXT       send TEXT and CRLF; TEXT may hold \r \n \t \0 \\ \xHH
 *   >> TEXT      send TEXT alone (same escapes)
 *   < [N]        read N replies (default 1) and print their lines
 *   @ FILE       send the bytes of FILE
 *   % N BYTE     send N copies of the character BYTE
 *   ! SECONDS    sleep
 *   shut         close the sending half of the connection
 *   .            read until the server closes, print what came
 * A reply that does not come within -t seconds (default 10) prints "<timeout>"; the end of
 * the connection prints "<eof>" (lib/stream.c does the I/O, as in filtermail). A spawned program's fate ends the output: "[exit N]" or
 * "[signal N]". */
#include "stream.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fd = -1;
static struct stream io;
static char in[1 << 16], output[1 << 16];
static bool eof_told;

/* The server may have closed: what it said is still to be read, so a failed send is
 * dropped, not fatal. */
static void send_all(const char *p, size_t len)
{
	if (stream_put(&io, p, len) != 0 || stream_flush(&io) != 0)
		io.out_len = 0;
}

static size_t unescape(const char *s, char *out)
{
	size_t n = 0;
	for (; *s != '\0'; s++) {
		if (*s != '\\' || s[1] == '\0') {
			out[n++] = *s;
			continue;
		}
		switch (*++s) {
		case 'r':
			out[n++] = '\r';
			break;
		case 'n':
			out[n++] = '\n';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case '0':
			out[n++] = '\0';
			break;
		case 'x': {
			char hex[3] = {s[1], s[1] ? s[2] : 0, 0};
			out[n++] = (char)strtol(hex, NULL, 16);
			s += 2;
			break;
		}
		default:
			out[n++] = *s;
		}
	}
	return n;
}

/* Reads one line (without its line end) into line[size]; false on timeout, a line that
 * fills the buffer, or the end of the connection, which prints what was left and "<eof>". */
static bool read_line(char *line, size_t size)
{
	const char *text;
	size_t len;
	if (stream_line(&io, sizeof in, &text, &len) == 0) {
		if (len >= size)
			len = size - 1;
		memcpy(line, text, len);
		line[len] = '\0';
		return true;
	}
	if (strcmp(io.error, "timeout") == 0) {
		printf("<timeout>\n");
	} else if (strcmp(io.error, "connection closed") == 0 && !eof_told) {
		const char *rest = stream_pending(&io, &len);
		if (len > 0)
			printf("%.*s\n", (int)len, rest);
		stream_consume(&io, len);
		printf("<eof>\n");
		eof_told = true;
	}
	return false;
}

static void read_replies(int count)
{
	char line[sizeof in + 1];
	for (int i = 0; i < count; i++) {
		do {
			if (!read_line(line, sizeof line))
				return;
			printf("%s\n", line);
		} while (strlen(line) > 3 && line[3] == '-');
	}
}

static void read_to_end(void)
{
	char line[sizeof in + 1];
	while (read_line(line, sizeof line))
		printf("%s\n", line);
}

static void send_file(const char *path)
{
	char buf[1 << 16];
	int file = open(path, O_RDONLY);
	ssize_t n;
	if (file < 0) {
		perror(path);
		exit(2);
	}
	while ((n = read(file, buf, sizeof buf)) > 0)
		send_all(buf, (size_t)n);
	close(file);
}

static void run_script(void)
{
	char *line = NULL;
	size_t size = 0;
	ssize_t n;

	while ((n = getline(&line, &size, stdin)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		char *buf = malloc((size_t)n + 3);
		if (strncmp(line, ">> ", 3) == 0) {
			send_all(buf, unescape(line + 3, buf));
		} else if (strncmp(line, "> ", 2) == 0) {
			size_t len = unescape(line + 2, buf);
			memcpy(buf + len, "\r\n", 2);
			send_all(buf, len + 2);
		} else if (line[0] == '<') {
			read_replies(line[1] != '\0' ? atoi(line + 1) : 1);
		} else if (strncmp(line, "@ ", 2) == 0) {
			send_file(line + 2);
		} else if (line[0] == '%') {
			long count = strtol(line + 1, NULL, 10);
			char byte = line[n - 1];
			char chunk[1 << 16];
			memset(chunk, byte, sizeof chunk);
			for (long done = 0; done < count; done += (long)sizeof chunk)
				send_all(chunk, (size_t)(count - done < (long)sizeof chunk
							     ? count - done
							     : (long)sizeof chunk));
		} else if (line[0] == '!') {
			struct timespec ts = {atoi(line + 1), 0};
			nanosleep(&ts, NULL);
		} else if (strcmp(line, "shut") == 0) {
			shutdown(fd, SHUT_WR);
		} else if (strcmp(line, ".") == 0) {
			read_to_end();
		}
		free(buf);
		fflush(stdout);
	}
	free(line);
}

int main(int argc, char **argv)
{
	int opt, port = 0;
	pid_t child = -1;

	while ((opt = getopt(argc, argv, "t:p:")) != -1) {
		if (opt == 't')
			io.timeout_ms = atoi(optarg) * 1000;
		else if (opt == 'p')
			port = atoi(optarg);
		else
			return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (port > 0) {
		struct sockaddr_in addr = {.sin_family = AF_INET,
					   .sin_port = htons((uint16_t)port)};
		addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
			perror("smtpchat: connect");
			return 1;
		}
	} else if (optind < argc) {
		int pair[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0)
			return 1;
		child = fork();
		if (child == 0) {
			dup2(pair[1], 0);
			dup2(pair[1], 1);
			dup2(pair[1], 2);
			close(pair[0]);
			close(pair[1]);
			execvp(argv[optind], argv + optind);
			_exit(127);
		}
		close(pair[1]);
		fd = pair[0];
	} else {
		return 2;
	}
	int timeout_ms = io.timeout_ms > 0 ? io.timeout_ms : 10000;
	stream_init(&io, fd, fd, in, sizeof in, output, sizeof output);
	io.timeout_ms = timeout_ms;
	read_replies(1);
	fflush(stdout);
	run_script();
	close(fd);
	if (child > 0) {
		int status;
		waitpid(child, &status, 0);
		if (WIFEXITED(status))
			printf("[exit %d]\n", WEXITSTATUS(status));
		else
			printf("[signal %d]\n", WTERMSIG(status));
	}
	return 0;
}
