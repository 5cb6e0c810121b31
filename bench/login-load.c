/* Runs doveauth as Dovecot does (request on fd 3, reply program /bin/true), N logins over C
 * concurrent workers, and prints logins per second and latency percentiles. With --lookup
 * instead of a password it makes userdb lookups (AUTHORIZED=1, no password), as LMTP does.
 * usage: login-load DOVEAUTH COUNT CONCURRENCY PREFIX (4 characters: PREFIX00000@example.org)
 *        PASSWORD|--lookup */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int lookup_mode;

static int login(const char *doveauth, const char *addr, const char *password)
{
	int fds[2];
	char request[512];
	int len = snprintf(request, sizeof request, "%s%c%s%c%c", addr, 0, password, 0, 0);
	if (len <= 0 || (size_t)len >= sizeof request || pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[0], 3);
		close(fds[1]);
		if (lookup_mode)
			setenv("AUTHORIZED", "1", 1);
		execl(doveauth, doveauth, "/bin/true", (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	ssize_t written = write(fds[1], request, (size_t)len);
	close(fds[1]);
	int status;
	if (pid < 0 || written != len || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc != 6)
		return 2;
	int count = atoi(argv[2]), workers = atoi(argv[3]);
	if (count <= 0 || workers <= 0)
		return 2;
	lookup_mode = strcmp(argv[5], "--lookup") == 0;
	if (lookup_mode)
		argv[5] = "";
	int fds[2];
	if (pipe(fds) != 0)
		return 1;
	double start = now();
	for (int w = 0; w < workers; w++) {
		if (fork() != 0)
			continue;
		close(fds[0]);
		for (int i = w; i < count; i += workers) {
			char addr[128];
			snprintf(addr, sizeof addr, "%s%05d@example.org", argv[4], i);
			double t = now();
			int rc = login(argv[1], addr, argv[5]);
			double sample[2] = {now() - t, rc};
			if (write(fds[1], sample, sizeof sample) != sizeof sample)
				_exit(1);
		}
		_exit(0);
	}
	close(fds[1]);
	double *latency = calloc((size_t)count, sizeof *latency), sample[2];
	int n = 0, failed = 0;
	while (n < count && read(fds[0], sample, sizeof sample) == sizeof sample) {
		latency[n++] = sample[0];
		failed += sample[1] != 0;
	}
	while (wait(NULL) > 0)
		;
	double seconds = now() - start;
	qsort(latency, (size_t)n, sizeof *latency, compare);
	/* CPU time of doveauth and its reply program, which a busy machine distorts less. */
	struct rusage usage;
	getrusage(RUSAGE_CHILDREN, &usage);
	double cpu = (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
		     (double)usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
	const char *what = lookup_mode ? "lookups" : "logins";
	printf("%6d %-7s %2d at once: %7.0f %s/s  p50 %6.2f ms  p99 %6.2f ms  cpu %5.2f ms each"
	       "  failed %d\n",
	       n, what, workers, n / seconds, what, latency[n / 2] * 1000,
	       latency[n * 99 / 100] * 1000, cpu * 1000 / n, failed);
	free(latency);
	return 0;
}
