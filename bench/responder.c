/* responder: the floor of a per-connection SMTP filter: a static program that answers a session
 * on stdin/stdout (220, 250 to every command, 354 to DATA, 250 after the final dot, 221 to
 * QUIT) and looks at nothing. What spawning costs, without any filtering. */
#include <string.h>
#include <strings.h>
#include <unistd.h>

static char in[65536];

static void say(const char *reply)
{
	ssize_t n = write(STDOUT_FILENO, reply, strlen(reply));
	(void)n;
}

int main(void)
{
	size_t have = 0;
	int data = 0;

	say("220 responder\r\n");
	for (;;) {
		char *end = data ? memmem(in, have, "\r\n.\r\n", 5) : memchr(in, '\n', have);
		if (end == NULL) {
			if (data && have > 4) { /* keep what could start the final dot */
				memmove(in, in + have - 4, 4);
				have = 4;
			}
			if (have == sizeof in)
				have = 0;
			ssize_t n = read(STDIN_FILENO, in + have, sizeof in - have);
			if (n <= 0)
				return 0;
			have += (size_t)n;
			continue;
		}
		size_t used = (size_t)(end - in) + (data ? 5 : 1);
		if (data)
			say("250 ok\r\n"), data = 0;
		else if (strncasecmp(in, "DATA", 4) == 0)
			say("354 go on\r\n"), data = 1;
		else if (strncasecmp(in, "QUIT", 4) == 0)
			return say("221 bye\r\n"), 0;
		else
			say("250 ok\r\n");
		memmove(in, in + used, have - used);
		have -= used;
	}
}
