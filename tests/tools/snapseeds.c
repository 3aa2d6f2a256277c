/* snapseeds: the seed corpus of the snapshot reader's fuzzer (tests/fuzz/).
 *   snapseeds DIR            generated snapshots (tests/unit/snap_samples.h)
 *   snapseeds -n NETNS DIR   a snapshot of every table of NETNS instead
 *   snapseeds -c FILE...     check that every FILE reads back whole
 * Writes into DIR: the whole sample (with its end mark, and without it as
 * older versions wrote files), and, without the end mark so that a fuzzed
 * byte meets the checks of its message rather than the file's hash, one
 * small file per object: a table with one chain, set, object, flowtable or
 * rule each (every expression), the absent table, the delta. */
#define _GNU_SOURCE
#include "probation/snapfile.h"
#include "nft/snapshot.h"
#include "nft/nl.h"
#include "tests/unit/snap_samples.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *dir;
static int nfiles;

/* Write s as DIR/NAME; unmarked: as older versions did, no end mark
 * (the header's flags cleared, the mark's 32 bytes left off). */
static int put(const char *name, const struct snapshot *s, bool unmarked)
{
	char *buf = NULL, path[4096];
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	int ret;

	if (!fp)
		return -ENOMEM;
	ret = snapfile_write(s, fp);
	fclose(fp);
	if (!ret && unmarked) {
		memset(buf + 20, 0, 4);
		len -= 32;
	}
	snprintf(path, sizeof(path), "%s/%s%s", dir, name, unmarked ? "" : "-marked");
	fp = ret ? NULL : fopen(path, "we");
	if (!ret && (!fp || fwrite(buf, 1, len, fp) != len))
		ret = -errno;
	if (fp && fclose(fp) && !ret)
		ret = -EIO;
	free(buf);
	if (ret)
		fprintf(stderr, "snapseeds: %s: %s\n", path, strerror(-ret));
	nfiles += !ret;
	return ret;
}

/* A table t with only the objects given (borrowed from whole), as a file. */
static int put_part(const char *name, const struct snap_table *whole, struct snap_table part)
{
	struct snapshot s = { .genid = 1, .tables = &part, .ntables = 1 };

	part.family = whole->family;
	part.name = whole->name;
	part.table = whole->table;
	return put(name, &s, true);
}

/* The whole sample table and a delta of it that undoes cleanly on it
 * (for the fuzzer's snapshot_undo): steps naming its rules and chains. */
static int put_undo(struct snap_table *whole)
{
	struct snap_table t[2] = { *whole };
	struct snapshot s = { .genid = 3, .tables = t, .ntables = 2 };
	struct undo_step *st;
	int ret;

	memset(&t[1], 0, sizeof(t[1]));
	t[1].family = whole->family;
	t[1].name = whole->name;
	t[1].delta = true;
	st = sample_step(&t[1], UNDO_DELRULE, "input");
	st->handle = 12;
	st = sample_step(&t[1], UNDO_REPLACE, "input");
	st->handle = 13;
	st->rule = sample_rule(whole->name, "input", 13);
	st = sample_step(&t[1], UNDO_ADDRULE, "input");
	st->handle = 99;
	st->after = 10;
	st->rule = sample_rule(whole->name, "input", 99);
	st = sample_step(&t[1], UNDO_ADDRULE, "input");
	st->handle = 100;
	st->after_step = 2;
	st->rule = sample_rule(whole->name, "input", 100);
	st = sample_step(&t[1], UNDO_POLICY, "input");
	st->policy = NF_ACCEPT;
	sample_step(&t[1], UNDO_DELCHAIN, "ingress2");
	ret = put("undo", &s, true);
	t[1].name = NULL;
	for (size_t i = 0; i < t[1].nsteps; i++)
		snapshot_step_free(&t[1].steps[i]);
	free(t[1].steps);
	return ret;
}

static int put_samples(void)
{
	struct snapshot s;
	struct snap_table *w;
	char name[64];
	int ret;

	sample_snapshot(&s, 3, true);
	w = &s.tables[0];
	ret = put("sample", &s, false) || put("sample", &s, true) || put_undo(w);
	for (size_t i = 0; !ret && i < w->nchains; i++) {
		snprintf(name, sizeof(name), "chain-%zu", i);
		ret = put_part(name, w, (struct snap_table){ .chains = &w->chains[i], .nchains = 1 });
	}
	for (size_t i = 0; !ret && i < w->nsets; i++) {
		snprintf(name, sizeof(name), "set-%zu", i);
		ret = put_part(name, w, (struct snap_table){ .sets = &w->sets[i], .nsets = 1 });
	}
	for (size_t i = 0; !ret && i < w->nobjs; i++) {
		snprintf(name, sizeof(name), "object-%zu", i);
		ret = put_part(name, w, (struct snap_table){ .objs = &w->objs[i], .nobjs = 1 });
	}
	for (size_t i = 0; !ret && i < w->nflowtables; i++) {
		snprintf(name, sizeof(name), "flowtable-%zu", i);
		ret = put_part(name, w, (struct snap_table){ .flowtables = &w->flowtables[i],
							     .nflowtables = 1 });
	}
	for (size_t i = 0; !ret && i < w->nrules; i++) {
		snprintf(name, sizeof(name), "rule-%zu", i);
		ret = put_part(name, w, (struct snap_table){ .chains = w->chains, .nchains = 1,
							     .rules = &w->rules[i], .nrules = 1 });
	}
	for (size_t i = 1; !ret && i < s.ntables; i++) {
		struct snapshot one = { .genid = 2, .tables = &s.tables[i], .ntables = 1 };

		ret = put(s.tables[i].delta ? "delta" : "absent", &one, true);
	}
	snapshot_free(&s);
	return ret;
}

static int put_netns(const char *netns)
{
	struct snapshot s;
	char err[512], name[300];
	struct nl nl;
	int ret;

	if (nl_enter_netns(netns, err, sizeof(err)) || nl_open(&nl, err, sizeof(err))) {
		fprintf(stderr, "snapseeds: %s\n", err);
		return -EIO;
	}
	ret = snapshot_take(&nl, NULL, 0, false, &s, err, sizeof(err));
	nl_close(&nl);
	if (ret) {
		fprintf(stderr, "snapseeds: %s\n", err);
		return ret;
	}
	snprintf(name, sizeof(name), "netns-%s", netns);
	ret = put(name, &s, false) || put(name, &s, true);
	/* and each table on its own, smaller for the fuzzer */
	for (size_t i = 0; !ret && i < s.ntables; i++) {
		struct snapshot one = { .genid = s.genid, .tables = &s.tables[i], .ntables = 1 };

		snprintf(name, sizeof(name), "netns-table-%zu", i);
		ret = put(name, &one, true);
	}
	snapshot_free(&s);
	return ret;
}

/* Each file read whole: the seeds must be, the real ones above all (the
 * checks of nft/nlcheck.c refuse nothing nfpilot writes). */
static int check_files(char **files, int n)
{
	int bad = 0;

	for (int i = 0; i < n; i++) {
		struct snapshot s;
		char err[512];

		if (snapfile_load(files[i], &s, err, sizeof(err))) {
			fprintf(stderr, "snapseeds: %s\n", err);
			bad++;
			continue;
		}
		snapshot_free(&s);
	}
	printf("%d of %d files read whole\n", n - bad, n);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *netns = NULL;
	int ret;

	if (argc >= 2 && strcmp(argv[1], "-c") == 0)
		return check_files(argv + 2, argc - 2);
	if (argc == 4 && strcmp(argv[1], "-n") == 0) {
		netns = argv[2];
		dir = argv[3];
	} else if (argc == 2) {
		dir = argv[1];
	} else {
		fprintf(stderr, "usage: snapseeds [-n NETNS] DIR | -c FILE...\n");
		return 2;
	}
	ret = netns ? put_netns(netns) : put_samples();
	if (!ret)
		printf("%d seeds in %s\n", nfiles, dir);
	return ret ? 1 : 0;
}
