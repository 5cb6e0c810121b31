/* expire-gen: builds maildirs for the expiry benchmark, fast: ACCOUNTS homes below DIR, each
 * with cur/ new/ and .Sent/cur, holding MAILS empty mail files of spread ages; every 100th
 * mail is a sparse 300000-byte file (a "large" mail that costs no disk).
 * usage: expire-gen DIR ACCOUNTS MAILS DOMAIN
 * Ages cycle over 0..29 days, so about a third is older than 20 days. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DAY 86400
#define LARGE_SIZE 300000

static int make_dir(int parent, const char *name)
{
	if (mkdirat(parent, name, 0700) != 0 && errno != EEXIST)
		return -1;
	return openat(parent, name, O_RDONLY | O_DIRECTORY);
}

static int make_mail(int dir, unsigned long n, time_t now)
{
	char name[64];
	snprintf(name, sizeof name, "%ld.M%luP1.bench,S=0:2,S", (long)now, n);
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -1;
	if (n % 100 == 7 && ftruncate(fd, LARGE_SIZE) != 0) {
		close(fd);
		return -1;
	}
	time_t age = (time_t)(n % 30) * DAY + (time_t)(n % 3600);
	struct timespec times[2] = {{now - age, 0}, {now - age, 0}};
	int status = futimens(fd, times);
	close(fd);
	return status;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: expire-gen DIR ACCOUNTS MAILS DOMAIN\n");
		return 2;
	}
	unsigned long accounts = strtoul(argv[2], NULL, 10), mails = strtoul(argv[3], NULL, 10);
	time_t now = time(NULL);
	int root = make_dir(AT_FDCWD, argv[1]);
	if (root < 0) {
		perror(argv[1]);
		return 1;
	}
	unsigned long n = 0;
	for (unsigned long a = 0; a < accounts; a++) {
		char addr[128];
		snprintf(addr, sizeof addr, "u%08lu@%s", a, argv[4]);
		int home = make_dir(root, addr);
		int cur = home >= 0 ? make_dir(home, "cur") : -1;
		int new = home >= 0 ? make_dir(home, "new") : -1;
		int sent = home >= 0 ? make_dir(home, ".Sent") : -1;
		int sent_cur = sent >= 0 ? make_dir(sent, "cur") : -1;
		if (cur < 0 || new < 0 || sent_cur < 0) {
			perror(addr);
			return 1;
		}
		/* most mail in the inbox, some new, some sent */
		for (unsigned long m = 0; m < mails; m++, n++) {
			int dir = m % 10 == 0 ? new : m % 10 == 1 ? sent_cur : cur;
			if (make_mail(dir, n, now) != 0) {
				perror("mail");
				return 1;
			}
		}
		close(cur);
		close(new);
		close(sent_cur);
		close(sent);
		close(home);
	}
	close(root);
	return 0;
}
