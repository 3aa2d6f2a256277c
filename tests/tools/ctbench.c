/* ctbench: what the live view would do with a big conntrack table, timed
 * inside one process (for tests/bench/ct.sh; built there as a release
 * binary from the release objects):
 *   ctbench NETNS [FILTER...]
 * Loads the namespace's table the way a screen does — a non-blocking dump
 * consumed in slices from a poll() loop — and reports the longest slice
 * (how long a key could wait), the memory per entry (entries, id index,
 * sort index and the sort's scratch), the id index, a re-read that matches
 * entries by identity (counters and rates), sorting by several columns,
 * and filtering. One JSON object on stdout. */
#define _GNU_SOURCE
#include "conntrack/ct_dump.h"
#include "conntrack/ct.h"
#include "conntrack/ct_filter.h"
#include "conntrack/ct_rows.h"

#include "nft/nl.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *fp = fopen("/proc/self/status", "r");

	while (fp && fgets(line, sizeof(line), fp))
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	if (fp)
		fclose(fp);
	return kb;
}

/* a dump in slices, as a screen polls it beside the keyboard */
static int load(struct ct_table *t, const struct ct_dump_opts *o, double *total, double *max_slice,
		size_t *slices)
{
	struct ct_dump d;
	char err[256];
	double t0 = now();
	int ret = ct_dump_start(&d, t, o, false, err, sizeof(err));

	*max_slice = 0;
	*slices = 0;
	while (ret == 0) {
		struct pollfd p = { .fd = ct_dump_fd(&d), .events = POLLIN };
		double s0;

		if (poll(&p, 1, 1000) < 0)
			break;
		s0 = now();
		ret = ct_dump_step(&d, err, sizeof(err));
		if (now() - s0 > *max_slice)
			*max_slice = now() - s0;
		(*slices)++;
		ret = ret == 1 ? 0 : ret == 0 ? 1 : ret;
	}
	*total = now() - t0;
	if (ret < 0)
		fprintf(stderr, "ctbench: %s\n", err);
	return ret < 0 ? ret : 0;
}

int main(int argc, char **argv)
{
	static const enum ct_col sorts[] = {
		CT_COL_SRC, CT_COL_DST, CT_COL_DPORT, CT_COL_STATE, CT_COL_BYTES, CT_COL_TIMEOUT,
		CT_COL_ID,
	};
	struct ct_table t = { 0 };
	struct ct_dump_opts o = { 0 };
	struct ct_rows v = { 0 };
	struct ct_filter f;
	char ftext[512] = "", err[256];
	double total, max_slice, t0, sort_max = 0;
	size_t slices, n;
	long rss0, rss1;

	if (argc < 2) {
		fprintf(stderr, "usage: ctbench NETNS [FILTER...]\n");
		return 2;
	}
	if (nl_enter_netns(argv[1], err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		strncat(ftext, argv[i], sizeof(ftext) - strlen(ftext) - 2);
		strcat(ftext, " ");
	}
	if (ct_filter_parse(&f, ftext[0] ? ftext : "dport 22", err, sizeof(err), NULL)) {
		fprintf(stderr, "ctbench: %s\n", err);
		return 2;
	}
	rss0 = rss_kb();
	if (load(&t, &o, &total, &max_slice, &slices))
		return 1;
	n = t.n;
	printf("{\"entries\": %zu, \"entry_size\": %zu, \"load_s\": %.4f, \"slices\": %zu, "
	       "\"max_slice_ms\": %.3f", n, sizeof(struct ct_entry), total, slices,
	       max_slice * 1000);
	t0 = now();
	ct_table_index(&t);
	printf(", \"index_s\": %.4f", now() - t0);
	rss1 = rss_kb();
	/* a re-read: every entry found again by identity, rates computed */
	o.sync = true;
	o.now = now();
	{
		double sync_total, sync_slice;
		size_t sync_slices;

		if (load(&t, &o, &sync_total, &sync_slice, &sync_slices))
			return 1;
		printf(", \"resync_s\": %.4f, \"resync_max_slice_ms\": %.3f, \"after_resync\": %zu",
		       sync_total, sync_slice * 1000, t.n);
	}
	t0 = now();
	ct_rows_build(&v, &t, NULL, false);
	printf(", \"view_s\": %.4f", now() - t0);
	printf(", \"sort_s\": {");
	for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++) {
		double d;

		ct_rows_build(&v, &t, NULL, false);
		t0 = now();
		ct_rows_sort(&v, &t, sorts[i], false);
		d = now() - t0;
		if (d > sort_max)
			sort_max = d;
		printf("%s\"%s\": %.4f", i ? ", " : "", ct_col_name(sorts[i]), d);
	}
	printf("}, \"sort_max_s\": %.4f", sort_max);
	t0 = now();
	ct_rows_build(&v, &t, &f, false);
	printf(", \"filter\": \"%s\", \"filter_s\": %.4f, \"filter_matches\": %zu",
	       ftext[0] ? ftext : "dport 22", now() - t0, v.n);
	/* memory: entries + id index + a full sort index + the sort's scratch
	 * (16 bytes of keys and 4 of indexes per row, only while sorting) */
	if (n) {
		size_t table = ct_table_bytes(&t), idx = n * sizeof(uint32_t), scratch = n * 20;

		printf(", \"bytes\": {\"table\": %zu, \"per_entry_table\": %.1f, "
		       "\"per_entry_with_view\": %.1f, \"per_entry_peak_sorting\": %.1f, "
		       "\"rss_growth_per_entry\": %.1f}", table, (double)table / (double)n,
		       (double)(table + idx) / (double)n,
		       (double)(table + idx + scratch) / (double)n,
		       (double)(rss1 - rss0) * 1024.0 / (double)n);
	}
	printf("}\n");
	ct_rows_free(&v);
	ct_filter_free(&f);
	ct_table_free(&t);
	return 0;
}
