#define _GNU_SOURCE
#include "apply/save.h"

#include "apply/scratch.h"
#include "probation/probation.h"
#include "probation/snapfile.h"
#include "util/safefile.h"
#include "nft/reader.h"
#include "model/ruleset.h"
#include "nft/ruletext.h"
#include "util/grow.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- nft's text ---- */

/* The tables in this namespace as `nft -s list ruleset` prints them, listed
 * by nft/ruletext.h (each of iptables-nft's families in a process of its
 * own: libxtables prints one family's extensions a process). With skip,
 * also the header lines ("table ip filter {") of the iptables-nft tables
 * (NULL-terminated, malloc'd) and their names for the admin in names.
 * Returns malloc'd text, or NULL with err. */
static char *list_ruleset(struct nl *nl, char ***skip, char *names, size_t nameslen,
			  char *err, size_t errlen)
{
	struct reader_scope scope = { .no_rules = true, .no_counts = true };
	struct ruletext_job job = { .numeric = true, .saved = true };
	struct nfp_ruleset rs = { 0 };
	size_t n = 0, used = 0;
	char *text = NULL;
	int ret = reader_read(nl, &scope, &rs, err, errlen);

	if (names && nameslen)
		names[0] = 0;
	if (!ret && skip && !(*skip = calloc(rs.ntables + 1, sizeof(**skip))))
		ret = -ENOMEM;
	for (size_t i = 0; !ret && skip && i < rs.ntables; i++) {
		const struct nfp_table *t = &rs.tables[i];

		if (t->owner != NFP_OWNER_IPTABLES)
			continue;
		if (asprintf(&(*skip)[n++], "table %s %s {", ruleset_family_name(t->family),
			     t->name) < 0)
			(*skip)[--n] = NULL;
		if (names && used < nameslen)
			used += (size_t)snprintf(names + used, nameslen - used, "%s%s %s",
						 used ? ", " : "", ruleset_family_name(t->family),
						 t->name);
	}
	if (!ret && !(ret = ruletext_plan_tables(&job, &rs)) && !(ret = ruletext_start(&job)))
		ret = ruletext_wait(&job);
	if (!ret && (job.genid_before != rs.genid || job.genid_after != rs.genid))
		ret = -EAGAIN;
	if (ret == -EAGAIN)
		snprintf(err, errlen, "the ruleset changed while it was read: try again");
	else if (ret && job.errmsg[0])
		snprintf(err, errlen, "%s", job.errmsg);
	else if (ret && !err[0])
		snprintf(err, errlen, "cannot list the ruleset: %s", strerror(-ret));
	if (!ret) {
		text = job.text; /* "" for no tables */
		job.text = NULL;
	}
	ruletext_job_free(&job);
	ruleset_free(&rs);
	return text;
}

/* The text's top-level blocks ("table ... {" to "}"), sorted, without
 * those whose first line is in skip (NULL-terminated): a canonical form
 * to compare, and the text to save. Returns malloc'd text or NULL. */
static int cmp_blocks(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *blocks(const char *text, char *const *skip, bool sort)
{
	char **arr = NULL, *out = NULL;
	size_t n = 0, cap = 0, len = 0;
	FILE *mem;
	const char *p = text;

	while (p && *p) {
		const char *end = strstr(p, "\n}\n");
		size_t hl = strcspn(p, "\n");
		bool drop = false;

		end = end ? end + 3 : p + strlen(p);
		for (size_t i = 0; skip && skip[i]; i++)
			drop = drop || (strlen(skip[i]) == hl && strncmp(p, skip[i], hl) == 0);
		if (!drop && !grow(&arr, &cap, n + 1, sizeof(*arr), 16))
			arr[n++] = strndup(p, (size_t)(end - p));
		p = end;
	}
	if (sort && n)
		qsort(arr, n, sizeof(*arr), cmp_blocks);
	mem = open_memstream(&out, &len);
	for (size_t i = 0; i < n; i++) {
		if (mem && arr[i])
			fputs(arr[i], mem);
		free(arr[i]);
	}
	free(arr);
	if (mem)
		fclose(mem);
	return out;
}

static void free_list(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

/* The live ruleset as it would be saved; malloc'd, or NULL with err. */
static char *live_saved_text(struct nl *nl, bool sorted, char *skipped, size_t skippedlen,
			     char *err, size_t errlen)
{
	char **skip = NULL, *text, *out = NULL;

	if ((text = list_ruleset(nl, &skip, skipped, skippedlen, err, errlen))) {
		out = blocks(text, skip, sorted);
		free(text);
	}
	free_list(skip);
	return out;
}

/* ---- in a scratch namespace (apply/scratch.h) ---- */

enum { REC_TEXT = 1 };

/* The work's text, sent back whole; -1 when there is none (err says why). */
static int send_text(char *text, const char *err)
{
	int ret = text ? scratch_send(REC_TEXT, 0, text, (uint32_t)strlen(text))
		       : scratch_fail(-1, *err ? err : "the scratch namespace failed");

	free(text);
	return ret;
}

static int put_path(FILE *in, const void *arg)
{
	return fputs(arg, in) < 0 ? -EIO : 0;
}

static int put_snapshot(FILE *in, const void *arg)
{
	return snapfile_write(arg, in);
}

static int take_text(void *arg, const struct scratch_rec *h, const char *data)
{
	char **text = arg;

	if (h->kind != REC_TEXT || *text)
		return -EIO;
	*text = strdup(data);
	return *text ? 0 : -ENOMEM;
}

/* The text work j sends back, in *text. 0 or -errno with err filled. */
static int scratch_text(struct scratch_job *j, char **text, char *err, size_t errlen)
{
	int ret;

	*text = NULL;
	if (errlen)
		err[0] = 0;
	j->take = take_text;
	j->take_arg = text;
	ret = scratch_run(j, err, errlen);
	if (!ret && !*text)
		ret = -EIO;
	if (ret) {
		if (ret == -EIO && !err[0])
			snprintf(err, errlen, "the scratch namespace failed");
		free(*text);
		*text = NULL;
		return ret == -EINVAL ? -EIO : ret;
	}
	return 0;
}

int save_scratch_load(FILE *in)
{
	char *path = NULL, e[512] = "", *text = NULL, *out = NULL;
	size_t cap = 0;
	struct nft_ctx *ctx = ruletext_ctx(0, false);
	struct nl nl = { 0 };

	if (getdelim(&path, &cap, 0, in) <= 0 || !ctx) {
		free(path);
		if (ctx)
			nft_ctx_free(ctx);
		return scratch_fail(-1, ctx ? "the work's input is cut short"
				    : "cannot start libnftables");
	}
	if (nft_run_cmd_from_filename(ctx, path) != 0) {
		snprintf(e, sizeof(e), "%s does not load: %.300s", path,
			 nft_ctx_get_error_buffer(ctx));
	} else if (nl_open(&nl, e, sizeof(e)) == 0 &&
		   (text = list_ruleset(&nl, NULL, NULL, 0, e, sizeof(e)))) {
		out = blocks(text, NULL, true);
		free(text);
	}
	nl_close(&nl);
	nft_ctx_free(ctx);
	free(path);
	return send_text(out, e);
}

int save_scratch_restore(FILE *in)
{
	struct snapshot s;
	struct nl nl = { 0 };
	char e[512] = "", *text = NULL;

	if (snapfile_read(in, &s, e, sizeof(e)) == 0 && nl_open(&nl, e, sizeof(e)) == 0 &&
	    snapshot_restore(&nl, &s, 0, 0, NULL, e, sizeof(e)) == 0)
		text = list_ruleset(&nl, NULL, NULL, 0, e, sizeof(e));
	nl_close(&nl);
	snapshot_free(&s);
	return send_text(text, e);
}

/* ---- the verbs ---- */

int save_check(struct nl *nl, const char *file, bool *same, char *err, size_t errlen)
{
	char *live, *saved = NULL;
	int ret;

	*same = false;
	if (access(file, R_OK) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return ret;
	}
	live = live_saved_text(nl, true, NULL, 0, err, errlen);
	if (!live)
		return -EIO;
	ret = scratch_text(&(struct scratch_job){ .work = "load", .put = put_path,
						  .put_arg = file }, &saved, err, errlen);
	if (!ret)
		*same = strcmp(live, saved) == 0;
	if (!ret && !*same) {
		/* the first line that differs, for the admin (and a test) */
		const char *a = live, *b = saved;
		int line = 1;

		while (*a && *a == *b) {
			line += *a == '\n';
			a++, b++;
		}
		while (a > live && a[-1] != '\n')
			a--, b--;
		snprintf(err, errlen, "line %d: live \"%.*s\", file \"%.*s\"", line,
			 (int)strcspn(a, "\n") > 200 ? 200 : (int)strcspn(a, "\n"), a,
			 (int)strcspn(b, "\n") > 200 ? 200 : (int)strcspn(b, "\n"), b);
	}
	free(live);
	free(saved);
	return ret;
}

int save_snapshot_text(const struct snapshot *s, char **text, char *err, size_t errlen)
{
	return scratch_text(&(struct scratch_job){ .work = "restore", .put = put_snapshot,
						   .put_arg = s }, text, err, errlen);
}

/* Check a written file with nft's dry run against the live kernel. */
static int check_file(const char *path, void *arg, char *err, size_t errlen)
{
	struct nft_ctx *ctx = ruletext_ctx(0, true);
	int ret = 0;

	(void)arg;
	if (!ctx)
		return -ENOMEM;
	if (nft_run_cmd_from_filename(ctx, path) != 0) {
		snprintf(err, errlen, "nft would not load the saved text back (nothing "
			 "written): %.300s", nft_ctx_get_error_buffer(ctx));
		ret = -EINVAL;
	}
	nft_ctx_free(ctx);
	return ret;
}

int save_probation_check(char *err, size_t errlen)
{
	char status[4096], e[512] = "";
	bool running = false;
	int ret = probation_status(status, sizeof(status), &running, e, sizeof(e));

	if (ret) {
		snprintf(err, errlen, "cannot tell whether a change is on probation, so nothing "
			 "is saved: %s", e[0] ? e : strerror(-ret));
		return ret;
	}
	if (strncmp(status, "probation: none", 15) == 0)
		return 0;
	if (running)
		snprintf(err, errlen, "a change is on probation in this namespace: confirm it "
			 "first (nfpilot confirm) or roll it back, then save; the boot file must not "
			 "keep a change that may still be reverted (nfpilot status)");
	else
		snprintf(err, errlen, "a probation ended without its guardian and left its "
			 "restore point (nfpilot status): settle it with nfpilot rollback or "
			 "nfpilot confirm, then save");
	return -EBUSY;
}

int save_file_mode(const char *file, int asked)
{
	struct stat st;

	if (asked >= 0)
		return asked;
	/* the file's own bits, but never more than rw-r--r-- */
	if (stat(file, &st) == 0 && S_ISREG(st.st_mode))
		return (int)(st.st_mode & SAVE_MODE_DEFAULT);
	return SAVE_MODE_DEFAULT;
}

int save_write(struct nl *nl, const char *file, int mode, char *skipped, size_t skippedlen,
	       char *err, size_t errlen)
{
	char when[64], skip[512] = "", *text, *out = NULL;
	struct safefile_opts o = { .backup = true, .check = check_file };
	uint32_t gen0 = 0, gen1 = 0;
	time_t now = time(NULL);
	size_t len = 0;
	FILE *mem;
	int ret;

	err[0] = 0;
	if (mode >= 0 && (mode & ~SAFEFILE_MODE_MAX)) {
		snprintf(err, errlen, "mode %04o: refused (at most %04o: no set-id bits, nobody "
			 "but root writes the boot file)", (unsigned)mode, SAFEFILE_MODE_MAX);
		return -EINVAL;
	}
	o.mode = (mode_t)save_file_mode(file, mode);
	/* never while a change may still be reverted: the generation read
	 * around the listing catches one that lands meanwhile */
	if ((ret = nl_genid(nl, &gen0)) || (ret = save_probation_check(err, errlen))) {
		if (!err[0])
			snprintf(err, errlen, "%s", nl_strerror(ret));
		return ret;
	}
	text = live_saved_text(nl, false, skip, sizeof(skip), err, errlen);
	if (!text)
		return -EIO;
	if ((ret = save_probation_check(err, errlen)) || (ret = nl_genid(nl, &gen1))) {
		if (!err[0])
			snprintf(err, errlen, "%s", nl_strerror(ret));
		free(text);
		return ret;
	}
	if (gen0 != gen1) {
		snprintf(err, errlen, "the ruleset changed while it was read (nothing written): "
			 "try again");
		free(text);
		return -EAGAIN;
	}
	if (skipped)
		snprintf(skipped, skippedlen, "%s", skip);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", localtime(&now));
	mem = open_memstream(&out, &len);
	if (!mem) {
		free(text);
		return -ENOMEM;
	}
	fprintf(mem, "#!/usr/sbin/nft -f\n# Saved by nfpilot on %s.\n", when);
	if (skip[0])
		fprintf(mem, "# Not in this file, managed by iptables-nft (save them with "
			"iptables-save):\n#   %s\n", skip);
	fprintf(mem, "flush ruleset\n\n%s", text);
	free(text);
	if (fclose(mem) || !out) {
		free(out);
		return -ENOMEM;
	}
	/* a fresh file in FILE's folder, checked by nft, renamed over FILE;
	 * the previous one kept as FILE.bak (never a moment without FILE) */
	ret = safefile_write(file, out, len, &o, err, errlen);
	free(out);
	return ret;
}
