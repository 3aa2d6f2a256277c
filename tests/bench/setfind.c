/* tests/bench/sets.sh: how long model/setelems takes to find the range
 * holding an address in a set of N ranges (built as the kernel dumps
 * them, highest first), with the index sorted once; and how long the
 * index of N addresses in the order of a hash set's dump takes, whole
 * and in the slices the set screen builds it in. Built -O2 by the bench;
 * prints two lines. */
#include "model/setelems.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000, m = 1001;
	struct setelems s = { 0 };
	double *t = calloc(m, sizeof(*t)), t0;
	long hits = 0;

	s.set.flags = 1; /* NFT_SET_INTERVAL */
	s.set.key_type = 7;
	s.set.key_len = 4;
	s.set.nfields = 1;
	for (size_t i = n; i-- > 0;) {
		uint32_t lo = htonl((uint32_t)(0x0a000000 + i * 16)), hi = htonl(ntohl(lo) + 7);
		struct setelems_elem e = { .key = (uint8_t *)&lo, .key_end = (uint8_t *)&hi };

		if (setelems_add(&s, &e))
			return 1;
	}
	setelems_trim(&s); /* as nft/setread.c leaves it */
	t0 = now();
	{
		uint32_t q = htonl(0x0a000000);

		hits += setelems_find(&s, (uint8_t *)&q) >= 0; /* sorts the index */
	}
	printf("%zu ranges: first find (index built) %.1f ms", n, (now() - t0) * 1e3);
	srand(1);
	for (size_t k = 0; k < m; k++) {
		uint32_t q = htonl((uint32_t)(0x0a000000 + (size_t)rand() % (n * 16)));

		t0 = now();
		hits += setelems_find(&s, (uint8_t *)&q) >= 0;
		t[k] = now() - t0;
	}
	qsort(t, m, sizeof(*t), cmp);
	printf(", then a find %.2f us median, %.2f us max of %zu; %.1f bytes an element"
	       " (%ld hits)\n", t[m / 2] * 1e6, t[m - 1] * 1e6, m,
	       (double)setelems_bytes(&s) / (double)n, hits);
	setelems_free(&s);

	/* addresses in no order (a hash set's dump), then the index */
	s = (struct setelems){ .set = { .key_type = 7, .key_len = 4, .nfields = 1 } };
	srand(2);
	for (size_t i = 0; i < n; i++) {
		uint32_t a = htonl((uint32_t)(0x0a000000 + (((size_t)rand() << 8) ^ i) % (1u << 24)));
		struct setelems_elem e = { .key = (uint8_t *)&a };

		if (setelems_add(&s, &e))
			return 1;
	}
	setelems_trim(&s);
	{
		double worst = 0, t1;
		size_t steps = 0;
		int ret;

		t0 = now();
		do {
			t1 = now();
			ret = setelems_index_step(&s, 65536); /* ui/sets.c's slice */
			worst = now() - t1 > worst ? now() - t1 : worst;
			steps++;
		} while (ret > 0);
		printf("%zu addresses in a hash set's order: index built in %.1f ms, %zu slices "
		       "of at most %.2f ms\n", n, (now() - t0) * 1e3, steps, worst * 1e3);
	}
	setelems_free(&s);
	free(t);
	return 0;
}
