/* whybench: what a live-view session pays for `why` (for
 * tests/bench/why.sh; built there as a release binary from the release
 * objects):
 *   whybench NETNS N PACKET
 * Makes the sandbox of NETNS once (as the live view keeps one), then asks
 * PACKET N times; one JSON object on stdout: the sandbox's making, and the
 * median and the longest of the answers, in seconds. */
#include "nft/nl.h"
#include "sandbox/sandbox.h"
#include "util/mono.h"

#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char err[1024];
	struct sandbox sb;
	struct packet p;
	double t0, open_s, *t;
	int n;

	if (argc != 4 || (n = atoi(argv[2])) < 1) {
		fprintf(stderr, "usage: whybench NETNS N PACKET\n");
		return 2;
	}
	if (nl_enter_netns(argv[1], err, sizeof(err)) ||
	    packet_parse(argv[3], &p, err, sizeof(err))) {
		fprintf(stderr, "whybench: %s\n", err);
		return 1;
	}
	t0 = mono_now();
	if (sandbox_open(&sb, err, sizeof(err))) {
		fprintf(stderr, "whybench: %s\n", err);
		return 1;
	}
	open_s = mono_now() - t0;
	t = calloc((size_t)n, sizeof(*t));
	for (int i = 0; t && i < n; i++) {
		struct sandbox_answer a;

		t0 = mono_now();
		if (sandbox_ask(&sb, &p, &a, err, sizeof(err))) {
			fprintf(stderr, "whybench: %s\n", err);
			return 1;
		}
		t[i] = mono_now() - t0;
		sandbox_answer_free(&a);
	}
	sandbox_close(&sb);
	if (!t)
		return 1;
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("{\"open\":%.6f,\"asks\":%d,\"median\":%.6f,\"max\":%.6f}\n", open_s, n,
	       t[n / 2], t[n - 1]);
	free(t);
	return 0;
}
