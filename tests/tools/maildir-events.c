/* maildir-events: what a Dovecot IDLE process hears of a maildir. Watches new/ and cur/ of
 * MAILDIR with the inotify mask Dovecot's io_add_notify() uses and prints one line per event,
 * "MICROSECONDS DIR EVENT NAME", the time counted from the start, until SECONDS have passed.
 * It measures how long a delivery's file events take to arrive, the window that Dovecot's
 * IDLE notify delay must cover to wake a client once per delivery.
 *
 * usage: maildir-events MAILDIR SECONDS
 * exit:  0 done, 1 cannot watch, 2 bad usage. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* src/lib/ioloop-notify-inotify.c of Dovecot 2.3 */
#define DOVECOT_MASK (IN_CREATE | IN_DELETE | IN_DELETE_SELF | IN_MOVE | IN_MODIFY)

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static const char *event_name(uint32_t mask)
{
	if (mask & IN_CREATE) return "create";
	if (mask & IN_DELETE) return "delete";
	if (mask & IN_MOVED_FROM) return "moved_from";
	if (mask & IN_MOVED_TO) return "moved_to";
	if (mask & IN_MODIFY) return "modify";
	if (mask & IN_DELETE_SELF) return "delete_self";
	return "other";
}

int main(int argc, char **argv)
{
	char *end, path[PATH_MAX];
	const char *dirs[2] = { "new", "cur" };
	int wd[2], fd, i;
	long seconds;

	if (argc != 3) {
		fprintf(stderr, "usage: maildir-events MAILDIR SECONDS\n");
		return EXIT_USAGE;
	}
	seconds = strtol(argv[2], &end, 10);
	if (*end != '\0' || seconds <= 0 || seconds > 86400) {
		fprintf(stderr, "maildir-events: SECONDS wants 1 to 86400\n");
		return EXIT_USAGE;
	}
	fd = inotify_init1(IN_CLOEXEC);
	if (fd < 0) {
		perror("maildir-events: inotify_init1");
		return EXIT_FAILED;
	}
	for (i = 0; i < 2; i++) {
		int n = snprintf(path, sizeof path, "%s/%s", argv[1], dirs[i]);
		if (n < 0 || (size_t)n >= sizeof path ||
		    (wd[i] = inotify_add_watch(fd, path, DOVECOT_MASK)) < 0) {
			fprintf(stderr, "maildir-events: cannot watch %s/%s: %s\n", argv[1], dirs[i],
				strerror(errno));
			return EXIT_FAILED;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int64_t start = now_us(), deadline = start + (int64_t)seconds * 1000000;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		int64_t left = deadline - now_us();
		if (left <= 0)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int ready = poll(&p, 1, (int)(left / 1000 + 1));
		if (ready < 0 && errno != EINTR) {
			perror("maildir-events: poll");
			return EXIT_FAILED;
		}
		if (ready <= 0)
			continue;
		int64_t t = now_us() - start;
		ssize_t len = read(fd, buf, sizeof buf);
		if (len <= 0)
			continue;
		for (char *at = buf; at < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)at;
			printf("%lld %s %s %s\n", (long long)t, ev->wd == wd[0] ? "new" : "cur",
			       event_name(ev->mask), ev->len > 0 ? ev->name : "-");
			at += sizeof *ev + ev->len;
		}
	}
	return EXIT_OK;
}
