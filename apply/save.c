#define _GNU_SOURCE
#include "save.h"

#include "model/reader.h"
#include "model/ruleset.h"
#include "model/ruletext.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <nftables/libnftables.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- nft's text ---- */

/* `list ruleset` in this namespace, stateless: malloc'd, or NULL. */
static char *list_ruleset(char *err, size_t errlen)
{
	struct nft_ctx *ctx = ruletext_ctx(NFT_CTX_OUTPUT_STATELESS, false);
	char *text = NULL;

	if (!ctx) {
		snprintf(err, errlen, "cannot start libnftables");
		return NULL;
	}
	if (nft_run_cmd_from_buffer(ctx, "list ruleset") == 0)
		text = strdup(nft_ctx_get_output_buffer(ctx));
	else
		snprintf(err, errlen, "nft: %.400s", nft_ctx_get_error_buffer(ctx));
	nft_ctx_free(ctx);
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
	size_t n = 0, len = 0;
	FILE *mem;
	const char *p = text;

	while (p && *p) {
		const char *end = strstr(p, "\n}\n");
		size_t hl = strcspn(p, "\n");
		bool drop = false;
		char **na;

		end = end ? end + 3 : p + strlen(p);
		for (size_t i = 0; skip && skip[i]; i++)
			drop = drop || (strlen(skip[i]) == hl && strncmp(p, skip[i], hl) == 0);
		if (!drop && (na = realloc(arr, (n + 1) * sizeof(*arr)))) {
			arr = na;
			arr[n++] = strndup(p, (size_t)(end - p));
		}
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

/* The header lines ("table ip filter {") of the iptables-nft tables, and
 * their names for the admin. */
static int iptables_tables(struct nl *nl, char ***skip, char *names, size_t nameslen,
			   char *err, size_t errlen)
{
	struct reader_scope scope = { .no_rules = true };
	struct nfp_ruleset rs = { 0 };
	size_t n = 0, used = 0;
	int ret = reader_read(nl, &scope, &rs, err, errlen);

	*skip = calloc(rs.ntables + 1, sizeof(**skip));
	if (names && nameslen)
		names[0] = 0;
	if (!ret && !*skip)
		ret = -ENOMEM;
	for (size_t i = 0; !ret && i < rs.ntables; i++) {
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
	ruleset_free(&rs);
	return ret;
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

	if (iptables_tables(nl, &skip, skipped, skippedlen, err, errlen) == 0 &&
	    (text = list_ruleset(err, errlen))) {
		out = blocks(text, skip, sorted);
		free(text);
	}
	free_list(skip);
	return out;
}

/* ---- a scratch namespace ---- */

typedef char *(*scratch_fn)(void *arg, char *err, size_t errlen);

/* Run fn in a forked child inside a new, empty network namespace; its
 * text comes back in *text. 0 or -errno with err filled. */
static int scratch(scratch_fn fn, void *arg, char **text, char *err, size_t errlen)
{
	int fds[2], status;
	char *buf = NULL, chunk[8192];
	size_t len = 0;
	FILE *mem;
	ssize_t got;
	pid_t pid;

	*text = NULL;
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -errno;
	}
	if (pid == 0) {
		char e[512] = "", *out;
		FILE *w = fdopen(fds[1], "w");

		close(fds[0]);
		if (unshare(CLONE_NEWNET) < 0) {
			fprintf(w, "Ecannot make a scratch network namespace: %s%s", strerror(errno),
				geteuid() ? " (needs root)" : "");
			_exit(1);
		}
		out = fn(arg, e, sizeof(e));
		fprintf(w, "%c%s", out ? 'O' : 'E', out ? out : e);
		fclose(w);
		_exit(0);
	}
	close(fds[1]);
	mem = open_memstream(&buf, &len);
	while ((got = read(fds[0], chunk, sizeof(chunk))) > 0)
		if (mem)
			fwrite(chunk, 1, (size_t)got, mem);
	close(fds[0]);
	if (mem)
		fclose(mem);
	waitpid(pid, &status, 0);
	if (!buf || buf[0] != 'O') {
		snprintf(err, errlen, "%s", buf && buf[0] ? buf + 1 : "the scratch namespace failed");
		free(buf);
		return -EIO;
	}
	*text = strdup(buf + 1);
	free(buf);
	return *text ? 0 : -ENOMEM;
}

static char *load_file_and_list(void *arg, char *err, size_t errlen)
{
	struct nft_ctx *ctx = ruletext_ctx(0, false);
	char *text = NULL, *out = NULL;

	if (!ctx)
		return NULL;
	if (nft_run_cmd_from_filename(ctx, arg) != 0) {
		snprintf(err, errlen, "%s does not load: %.300s", (char *)arg,
			 nft_ctx_get_error_buffer(ctx));
	} else if ((text = list_ruleset(err, errlen))) {
		out = blocks(text, NULL, true);
		free(text);
	}
	nft_ctx_free(ctx);
	return out;
}

static char *restore_and_list(void *arg, char *err, size_t errlen)
{
	struct nl nl;
	char *text = NULL;

	if (nl_open(&nl, err, errlen) == 0 &&
	    snapshot_restore(&nl, arg, 0, 0, NULL, err, errlen) == 0)
		text = list_ruleset(err, errlen);
	nl_close(&nl);
	return text;
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
	ret = scratch(load_file_and_list, (void *)file, &saved, err, errlen);
	if (!ret)
		*same = strcmp(live, saved) == 0;
	free(live);
	free(saved);
	return ret;
}

int save_snapshot_text(const struct snapshot *s, char **text, char *err, size_t errlen)
{
	return scratch(restore_and_list, (void *)s, text, err, errlen);
}

/* Check a written file with nft's dry run against the live kernel. */
static int check_file(const char *path, char *err, size_t errlen)
{
	struct nft_ctx *ctx = ruletext_ctx(0, true);
	int ret = 0;

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

int save_write(struct nl *nl, const char *file, char *skipped, size_t skippedlen,
	       char *err, size_t errlen)
{
	char tmp[4200], bak[4200], baktmp[4300], when[64], skip[512] = "";
	char *text = live_saved_text(nl, false, skip, sizeof(skip), err, errlen);
	struct stat st;
	mode_t mode = 0644;
	time_t now = time(NULL);
	FILE *fp;
	int fd, ret = 0;

	if (!text)
		return -EIO;
	if (skipped)
		snprintf(skipped, skippedlen, "%s", skip);
	if (stat(file, &st) == 0)
		mode = st.st_mode & 07777;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", localtime(&now));
	snprintf(tmp, sizeof(tmp), "%s.nfpilot-new", file);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	fp = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!fp) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(text);
		return ret;
	}
	fprintf(fp, "#!/usr/sbin/nft -f\n# Saved by nfpilot on %s.\n", when);
	if (skip[0])
		fprintf(fp, "# Not in this file, managed by iptables-nft (save them with "
			"iptables-save):\n#   %s\n", skip);
	fprintf(fp, "flush ruleset\n\n%s", text);
	free(text);
	if (fflush(fp) || fchmod(fd, mode) || fsync(fd))
		ret = -errno;
	if (fclose(fp) && !ret)
		ret = -EIO;
	if (ret)
		snprintf(err, errlen, "%s: %s", tmp, strerror(-ret));
	if (!ret)
		ret = check_file(tmp, err, errlen);
	/* the previous file, kept as FILE.bak (never a moment without FILE) */
	snprintf(bak, sizeof(bak), "%s.bak", file);
	snprintf(baktmp, sizeof(baktmp), "%s.bak.nfpilot-new", file);
	if (!ret && access(file, F_OK) == 0) {
		unlink(baktmp);
		if (link(file, baktmp) < 0 || rename(baktmp, bak) < 0) {
			ret = -errno;
			snprintf(err, errlen, "keeping %s: %s (nothing written)", bak, strerror(errno));
		}
	}
	if (!ret && rename(tmp, file) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
	}
	if (ret)
		unlink(tmp);
	else {
		/* the rename itself on disk */
		char dir[4200];
		int dfd;

		snprintf(dir, sizeof(dir), "%s", file);
		dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	return ret;
}
