/* The physical limit of create-on-login: how long one bare SHA512-CRYPT takes here. */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 200;
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data data = {0};
	struct timespec start, end;

	if (rounds <= 0 || crypt_gensalt_rn("$6$", 0, NULL, 0, salt, sizeof salt) == NULL)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int i = 0; i < rounds; i++)
		if (crypt_rn("some password", salt, &data, sizeof data) == NULL)
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &end);
	double seconds = (double)(end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
	printf("bare crypt SHA512-CRYPT: %.3f ms per call (%.0f calls/s on one core)\n",
	       seconds * 1000 / rounds, rounds / seconds);
	return 0;
}
