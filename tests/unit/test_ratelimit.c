/* The send rate (lib/ratelimit.h): GCRA arithmetic, and its state shared through a mapped
 * table by separate processes. */
#include "ratelimit.h"
#include "test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SECOND INT64_C(1000000)

static void test_gcra(void)
{
	int64_t interval = ratelimit_interval(60), tat = 0, now = 1000 * SECOND;
	CHECK(interval == SECOND);
	CHECK(ratelimit_interval(1) == 60 * SECOND);
	CHECK(ratelimit_interval(0) == 60 * SECOND);
	CHECK(ratelimit_interval(1000000) == 60);

	/* A burst of 10 goes at once, the 11th waits one interval. */
	for (int i = 0; i < 10; i++)
		CHECK(ratelimit_gcra(tat, now, interval, 10, &tat));
	CHECK(tat == now + 10 * SECOND);
	int64_t kept = tat;
	CHECK(!ratelimit_gcra(tat, now, interval, 10, &tat));
	CHECK(tat == kept); /* a refusal costs nothing */
	CHECK(!ratelimit_gcra(tat, now + SECOND - 1, interval, 10, &tat));
	CHECK(ratelimit_gcra(tat, now + SECOND, interval, 10, &tat));
	CHECK(!ratelimit_gcra(tat, now + SECOND, interval, 10, &tat));

	/* At the steady rate, one per interval goes forever. */
	tat = 0;
	for (int i = 0; i < 10; i++)
		CHECK(ratelimit_gcra(tat, now, interval, 10, &tat));
	bool steady = true;
	for (int i = 1; i <= 1000; i++)
		steady &= ratelimit_gcra(tat, now + i * SECOND, interval, 10, &tat);
	CHECK(steady);

	/* After a quiet spell the whole burst is back, and no more. */
	int allowed = 0;
	for (int i = 0; i < 20; i++)
		allowed += ratelimit_gcra(tat, now + 2000 * SECOND, interval, 10, &tat);
	CHECK(allowed == 10);

	/* A burst of one is a plain rate. */
	tat = 0;
	CHECK(ratelimit_gcra(tat, now, interval, 1, &tat));
	CHECK(!ratelimit_gcra(tat, now + SECOND / 2, interval, 1, &tat));
	CHECK(ratelimit_gcra(tat, now + SECOND, interval, 1, &tat));

	/* A stored time far in the future (a clock stepped back) holds a sender back no longer
	 * than one burst window. */
	tat = now + 1000000 * SECOND;
	CHECK(!ratelimit_gcra(tat, now, interval, 10, &tat));
	CHECK(ratelimit_gcra(tat, now + 10 * SECOND + SECOND, interval, 10, &tat));
	tat = INT64_MAX;
	CHECK(!ratelimit_gcra(tat, now, interval, 10, &tat));
}

/* Makes count checks of sender in a child process; its exit status is how many were allowed. */
static pid_t checker(const char *dir, const char *sender, int count)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	struct ratelimit *ratelimit = ratelimit_open(dir);
	int allowed = 0;
	for (int i = 0; ratelimit != NULL && i < count; i++)
		allowed +=
		    ratelimit_check(ratelimit, sender, ratelimit_now(), 1, 10) == RATELIMIT_ALLOWED;
	ratelimit_close(ratelimit);
	_exit(ratelimit != NULL ? allowed : 255);
}

static void test_store(void)
{
	char dir[] = "/tmp/test_ratelimit.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);

	struct ratelimit *ratelimit = ratelimit_open(dir);
	CHECK(ratelimit != NULL);
	int64_t now = ratelimit_now();
	for (int i = 0; i < 3; i++)
		CHECK(ratelimit_check(ratelimit, "a@example.org", now, 60, 3) == RATELIMIT_ALLOWED);
	CHECK(ratelimit_check(ratelimit, "a@example.org", now, 60, 3) == RATELIMIT_DENIED);
	/* The same sender in another spelling shares the budget; another sender has its own. */
	CHECK(ratelimit_check(ratelimit, "A@Example.ORG", now, 60, 3) == RATELIMIT_DENIED);
	CHECK(ratelimit_check(ratelimit, "b@example.org", now, 60, 3) == RATELIMIT_ALLOWED);
	CHECK(ratelimit_check(ratelimit, "a@example.org", now + SECOND, 60, 3) ==
	      RATELIMIT_ALLOWED);
	ratelimit_close(ratelimit);

	/* The state outlives the process that wrote it. */
	ratelimit = ratelimit_open(dir);
	CHECK(ratelimit_check(ratelimit, "a@example.org", now + SECOND, 60, 3) == RATELIMIT_DENIED);
	/* A sender whose time is up takes no room; one held back keeps its slot. */
	int64_t later = now + 86400 * SECOND;
	CHECK(ratelimit_senders(ratelimit, now) == 2);
	CHECK(ratelimit_check(ratelimit, "c@example.org", later, 60, 3) == RATELIMIT_ALLOWED);
	CHECK(ratelimit_check(ratelimit, "c@example.org", later, 60, 3) == RATELIMIT_ALLOWED);
	CHECK(ratelimit_check(ratelimit, "c@example.org", later, 60, 3) == RATELIMIT_ALLOWED);
	CHECK(ratelimit_check(ratelimit, "c@example.org", later, 60, 3) == RATELIMIT_DENIED);
	CHECK(ratelimit_senders(ratelimit, later) == 1);
	ratelimit_close(ratelimit);

	/* Eight processes racing over one sender get the burst, exactly, between them. */
	pid_t pids[8];
	for (int i = 0; i < 8; i++)
		pids[i] = checker(dir, "racer@example.org", 5);
	int allowed = 0, status;
	for (int i = 0; i < 8; i++) {
		waitpid(pids[i], &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 255);
		allowed += WEXITSTATUS(status);
	}
	CHECK(allowed == 10);

	/* A damaged table (an operating system crash without fsync) starts afresh: one of
	 * another size, and one of the right size whose pages were lost (zeros). */
	char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, RATELIMIT_FILE);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	for (int i = 0; f != NULL && i < 512; i++)
		fputs("this is not a database ", f);
	if (f != NULL)
		fclose(f);
	ratelimit = ratelimit_open(dir);
	CHECK(ratelimit != NULL);
	if (ratelimit != NULL) {
		CHECK(ratelimit_check(ratelimit, "racer@example.org", ratelimit_now(), 1, 10) ==
		      RATELIMIT_ALLOWED);
		ratelimit_close(ratelimit);
	}
	CHECK(truncate(path, 0) == 0);
	ratelimit = ratelimit_open(dir);
	CHECK(ratelimit != NULL);
	ratelimit_close(ratelimit);
	struct stat st;
	CHECK(stat(path, &st) == 0);
	CHECK(truncate(path, 0) == 0 && truncate(path, st.st_size) == 0);
	ratelimit = ratelimit_open(dir);
	CHECK(ratelimit != NULL);
	if (ratelimit != NULL) {
		CHECK(ratelimit_check(ratelimit, "racer@example.org", ratelimit_now(), 1, 10) ==
		      RATELIMIT_ALLOWED);
		CHECK(ratelimit_senders(ratelimit, ratelimit_now()) == 1);
		ratelimit_close(ratelimit);
	}

	/* A state_dir that cannot hold the database is an error, not a free pass. */
	CHECK(ratelimit_open("/proc/self/nonexistent") == NULL);

	char command[128];
	snprintf(command, sizeof command, "rm -rf %s", dir);
	CHECK(system(command) == 0);
}

/* More senders held back at once than the table has slots: those without room are refused
 * for now, and none of those in it loses its place (no sender gets a fresh burst). */
static void test_full(void)
{
	char dir[] = "/tmp/test_ratelimit.XXXXXX", sender[64], command[128];
	CHECK(mkdtemp(dir) != NULL);
	struct ratelimit *ratelimit = ratelimit_open(dir);
	CHECK(ratelimit != NULL);
	if (ratelimit == NULL)
		return;
	int64_t now = ratelimit_now();
	/* one error line per refusal: not worth reading */
	int saved_stderr = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
	dup2(null, STDERR_FILENO);
	int senders = RATELIMIT_BUCKETS * RATELIMIT_WAYS + 4096, allowed = 0, refused = 0,
	    other = 0;
	for (int i = 0; i < senders; i++) {
		snprintf(sender, sizeof sender, "user%d@example.org", i);
		enum ratelimit_status status = ratelimit_check(ratelimit, sender, now, 1, 1);
		allowed += status == RATELIMIT_ALLOWED;
		refused += status == RATELIMIT_ERROR;
	}
	CHECK(allowed + refused == senders);
	CHECK(refused >= 4096);
	CHECK((size_t)allowed == ratelimit_senders(ratelimit, now));
	for (int i = 0; i < senders; i++) {
		snprintf(sender, sizeof sender, "user%d@example.org", i);
		other += ratelimit_check(ratelimit, sender, now, 1, 1) == RATELIMIT_ALLOWED;
	}
	dup2(saved_stderr, STDERR_FILENO);
	close(saved_stderr);
	close(null);
	CHECK(other == 0);
	ratelimit_close(ratelimit);
	snprintf(command, sizeof command, "rm -rf %s", dir);
	CHECK(system(command) == 0);
}

/* A holder of a bucket that stopped (SIGSTOP, a debugger) costs another sender a few seconds
 * and a 4xx, never a stalled filtermail and never a free pass. */
static void test_a_stuck_lock_holder_times_out(void)
{
	char dir[] = "/tmp/test_ratelimit.XXXXXX", path[sizeof dir + 32];
	CHECK(mkdtemp(dir) != NULL);
	struct ratelimit *ratelimit = ratelimit_open(dir);
	CHECK(ratelimit != NULL);
	if (ratelimit == NULL)
		return;
	snprintf(path, sizeof path, "%s/%s", dir, RATELIMIT_FILE);
	int holder = open(path, O_RDWR);
	struct flock all = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
	CHECK(holder >= 0 && fcntl(holder, F_OFD_SETLK, &all) == 0);
	int64_t start = ratelimit_now();
	CHECK(ratelimit_check(ratelimit, "a@example.org", start, 60, 3) == RATELIMIT_ERROR);
	int64_t waited = ratelimit_now() - start;
	CHECK(waited >= 2 * SECOND && waited < 10 * SECOND);
	all.l_type = F_UNLCK;
	CHECK(fcntl(holder, F_OFD_SETLK, &all) == 0);
	CHECK(ratelimit_check(ratelimit, "a@example.org", ratelimit_now(), 60, 3) ==
	      RATELIMIT_ALLOWED);
	close(holder);
	ratelimit_close(ratelimit);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_gcra();
	test_store();
	test_full();
	test_a_stuck_lock_holder_times_out();
	return test_summary("ratelimit");
}
