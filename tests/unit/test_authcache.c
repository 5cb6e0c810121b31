/* Dovecot's answer to CACHE-FLUSH, and a flush where no Dovecot listens. */
#include "authcache.h"
#include "test.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int parse(const char *text, unsigned long *count)
{
	return authcache_parse_reply(text, strlen(text), count);
}

static void test_parse(void)
{
	unsigned long count = 99;
	CHECK(parse("VERSION\t1\t2\nSPID\t123\nOK\t1\t2\n", &count) == 1 && count == 2);
	CHECK(parse("OK\t1\t0\n", &count) == 1 && count == 0);
	/* incomplete: more must be read */
	CHECK(parse("", &count) == 0);
	CHECK(parse("VERSION\t1\t2\nSPID\t1", &count) == 0);
	CHECK(parse("VERSION\t1\t2\nOK\t1\t3", &count) == 0);
	/* anything but the handshake and our answer */
	CHECK(parse("FAIL\t1\n", &count) == -1);
	CHECK(parse("OK\t2\t1\n", &count) == -1);
	CHECK(parse("OK\t1\t\n", &count) == -1);
	CHECK(parse("OK\t1\t1x\n", &count) == -1);
	CHECK(parse("OK\t1\t99999999999999999999\n", &count) == -1);
	CHECK(parse("VERSION\n", &count) == -1);
	char endless[AUTHCACHE_REPLY_MAX];
	memset(endless, 'x', sizeof endless);
	CHECK(authcache_parse_reply(endless, sizeof endless, &count) == -1);
}

static void test_no_dovecot(void)
{
	char dir[] = "/tmp/chatmail-authcache-XXXXXX", path[128];
	CHECK(mkdtemp(dir) != NULL);
	CHECK(authcache_flush(dir, "abcdefghi@example.org") == AUTHCACHE_NO_DOVECOT);
	/* a socket left behind by a Dovecot that is gone */
	struct sockaddr_un address = {.sun_family = AF_UNIX};
	snprintf(address.sun_path, sizeof address.sun_path, "%s/%s", dir, AUTHCACHE_SOCKET);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&address, sizeof address) == 0);
	close(fd);
	CHECK(authcache_flush(dir, "abcdefghi@example.org") == AUTHCACHE_NO_DOVECOT);
	CHECK(authcache_flush(dir, "abc\tdefghi@example.org") == AUTHCACHE_FAILED);
	snprintf(path, sizeof path, "%s/%s", dir, AUTHCACHE_SOCKET);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_parse();
	test_no_dovecot();
	return test_summary("authcache");
}
