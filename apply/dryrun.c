#define _GNU_SOURCE
#include "apply/dryrun.h"

#include "apply/scratch.h"
#include "model/ruleset.h"
#include "nft/ruletext.h"
#include "nft/snapshot.h"
#include "probation/snapfile.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dry {
	const struct snapshot *live;
	const char *path, *include;
};

static const struct snap_table *find(const struct snapshot *s, const struct snap_table *t)
{
	for (size_t i = 0; i < s->ntables; i++)
		if (s->tables[i].family == t->family && strcmp(s->tables[i].name, t->name) == 0)
			return &s->tables[i];
	return NULL;
}

static void name(FILE *fp, bool *first, const struct snap_table *t, const char *note)
{
	fprintf(fp, "%s%s %s%s", *first ? "" : ", ", ruleset_family_name(t->family), t->name,
		note);
	*first = false;
}

/* In the scratch namespace: the copy, the script, the comparison. */
static char *run(void *arg, char *err, size_t errlen)
{
	const struct dry *d = arg;
	struct snapshot before = { 0 }, after = { 0 };
	struct nft_ctx *ctx = NULL;
	char *out = NULL;
	size_t len = 0;
	bool first = true;
	struct nl nl;
	FILE *mem;
	int ret = nl_open(&nl, err, errlen);

	if (!ret && d->live->ntables)
		ret = snapshot_restore(&nl, d->live, 0, 0, NULL, err, errlen);
	if (!ret)
		ret = snapshot_take(&nl, NULL, 0, false, &before, err, errlen);
	if (!ret && !(ctx = ruletext_ctx(0, false))) {
		snprintf(err, errlen, "cannot start libnftables");
		ret = -ENOMEM;
	}
	if (!ret) {
		if (d->include)
			nft_ctx_add_include_path(ctx, d->include);
		if (nft_run_cmd_from_filename(ctx, d->path) != 0) {
			snprintf(err, errlen, "on a copy of the live tables: %.1500s",
				 nft_ctx_get_error_buffer(ctx));
			ret = -EINVAL;
		}
	}
	if (!ret)
		ret = snapshot_take(&nl, NULL, 0, false, &after, err, errlen);
	if (!ret && (mem = open_memstream(&out, &len))) {
		for (size_t i = 0; i < after.ntables; i++) {
			const struct snap_table *a = &after.tables[i], *b = find(&before, a);

			if (!b)
				name(mem, &first, a, " (new)");
			else if (snapfile_digest(a) != snapfile_digest(b))
				name(mem, &first, a, "");
		}
		for (size_t i = 0; i < before.ntables; i++)
			if (!find(&after, &before.tables[i]))
				name(mem, &first, &before.tables[i], " (deleted)");
		if (fclose(mem) != 0) {
			free(out);
			out = NULL;
		}
	}
	if (!ret && !out)
		snprintf(err, errlen, "out of memory");
	if (ctx)
		nft_ctx_free(ctx);
	snapshot_free(&before);
	snapshot_free(&after);
	nl_close(&nl);
	return out;
}

int dryrun_script(struct nl *nl, const char *path, const char *include, char **changed,
		  char *err, size_t errlen)
{
	struct snapshot live = { 0 };
	struct dry d = { &live, path, include };
	int ret = snapshot_take(nl, NULL, 0, false, &live, err, errlen);

	*changed = NULL;
	if (!ret)
		ret = scratch_run(run, &d, changed, err, errlen);
	snapshot_free(&live);
	return ret;
}
