/* ctwatch: follows a namespace's conntrack table the way the live view
 * will — subscribe to events, load the table in slices, then apply events
 * from a poll() loop — and checks the result against a fresh dump.
 *   ctwatch NETNS SECONDS
 * The table is also re-read every second (a sync, as the view does for
 * counters and rates): connections made before anyone listened carry no
 * event cache (nf_conntrack_events=2), so their end is never announced.
 * Prints one JSON object: events applied by kind, entries marked new and
 * gone, the live entries of the followed table against the fresh dump's
 * (missing / extra by identity), re-reads. Exit 0 when both agree. */
#define _GNU_SOURCE
#include "conntrack/ct_dump.h"
#include "conntrack/ct_events.h"
#include "conntrack/ct.h"

#include "nft/nl.h"

#include <errno.h>
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

int main(int argc, char **argv)
{
	struct ct_table t = { 0 }, fresh = { 0 };
	struct ct_dump_opts o = { 0 };
	struct ct_events ev;
	struct ct_dump d;
	char err[256];
	size_t missing = 0, extra = 0, live = 0, marked_new = 0, resyncs = 0;
	double end, next_sync;
	int ret;

	if (argc < 3) {
		fprintf(stderr, "usage: ctwatch NETNS SECONDS\n");
		return 2;
	}
	if (nl_enter_netns(argv[1], err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return 2;
	}
	/* subscribe first, so nothing between the dump and the events is missed */
	if (ct_events_open(&ev, err, sizeof(err))) {
		fprintf(stderr, "ctwatch: %s\n", err);
		return 1;
	}
	ret = ct_dump_start(&d, &t, &o, false, err, sizeof(err));
	while (ret == 0) {
		struct pollfd p = { .fd = ct_dump_fd(&d), .events = POLLIN };

		poll(&p, 1, 1000);
		ret = ct_dump_step(&d, err, sizeof(err));
		ret = ret == 1 ? 0 : ret == 0 ? 1 : ret;
	}
	if (ret < 0) {
		fprintf(stderr, "ctwatch: %s\n", err);
		return 1;
	}
	end = now() + atof(argv[2]);
	next_sync = now() + 1;
	while (now() < end) {
		struct pollfd p = { .fd = ct_events_fd(&ev), .events = POLLIN };

		poll(&p, 1, 100);
		ret = ct_events_apply(&ev, &t, 0);
		if (ret == -ENOBUFS || now() >= next_sync) {
			/* lost events, or time for counters: re-read everything */
			next_sync = now() + 1;
			o.sync = true;
			o.now = now();
			resyncs++;
			if (ct_dump_all(&t, &o, NULL, err, sizeof(err))) {
				fprintf(stderr, "ctwatch: %s\n", err);
				return 1;
			}
		} else if (ret < 0) {
			fprintf(stderr, "ctwatch: events: %s\n", strerror(-ret));
			return 1;
		}
	}
	/* a fresh dump to compare with; the events that raced it applied */
	o.sync = false;
	if (ct_dump_all(&fresh, &o, NULL, err, sizeof(err))) {
		fprintf(stderr, "ctwatch: %s\n", err);
		return 1;
	}
	ct_events_apply(&ev, &t, 0);
	ct_table_index(&fresh);
	for (size_t i = 0; i < t.n; i++) {
		if (t.e[i].flags & CT_F_GONE)
			continue;
		live++;
		marked_new += (t.e[i].flags & CT_F_NEW) != 0;
		if (!ct_table_find(&fresh, &t.e[i]))
			extra++;
	}
	for (size_t i = 0; i < fresh.n; i++)
		if (!ct_table_find(&t, &fresh.e[i]))
			missing++;
	printf("{\"news\": %zu, \"updates\": %zu, \"destroys\": %zu, \"marked_new\": %zu, "
	       "\"gone\": %zu, \"live\": %zu, \"dump\": %zu, \"missing\": %zu, \"extra\": %zu, "
	       "\"resyncs\": %zu}\n", ev.news, ev.updates, ev.destroys, marked_new, t.ngone, live,
	       fresh.n, missing, extra, resyncs);
	ct_events_close(&ev);
	ct_table_free(&t);
	ct_table_free(&fresh);
	return missing || extra ? 1 : 0;
}
