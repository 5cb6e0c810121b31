/* ratelimit-cost: what the shared send rate costs a message: one check on an open table,
 * and open + check + close as each filtermail process does it once.
 * usage: ratelimit-cost STATE_DIR COUNT */
#include "ratelimit.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	const char *dir = argv[1];
	int count = atoi(argv[2]);
	char sender[64];

	struct ratelimit *ratelimit = ratelimit_open(dir);
	if (ratelimit == NULL)
		return 1;
	double start = now();
	for (int i = 0; i < count; i++) {
		snprintf(sender, sizeof sender, "user%05d@example.org", i % 1000);
		if (ratelimit_check(ratelimit, sender, ratelimit_now(), 60, 10) == RATELIMIT_ERROR)
			return 1;
	}
	double checks = now() - start;
	ratelimit_close(ratelimit);

	start = now();
	for (int i = 0; i < count; i++) {
		snprintf(sender, sizeof sender, "user%05d@example.org", i % 1000);
		ratelimit = ratelimit_open(dir);
		if (ratelimit == NULL ||
		    ratelimit_check(ratelimit, sender, ratelimit_now(), 60, 10) == RATELIMIT_ERROR)
			return 1;
		ratelimit_close(ratelimit);
	}
	double opened = now() - start;
	printf("  send rate check: %.1f us on an open table, %.1f us with open and close "
	       "(as one filtermail process pays it)\n",
	       checks / count * 1e6, opened / count * 1e6);
	return 0;
}
