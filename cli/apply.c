/* nfpilot apply FILE: an nft script as one transaction — checked first
 * (nft's dry run: nothing reaches the kernel if any line is wrong), then
 * applied by libnftables, which sends the whole script as one batch — on
 * probation (probation/probation.h): any table may be touched by a script, so
 * all are snapshotted and the guardian keeps those that changed. */
#define _GNU_SOURCE
#include "cli/cli.h"

#include "check/lockout.h"
#include "probation/probation.h"
#include "probation/snapfile.h"
#include "sandbox/sandbox.h"

#include "model/config.h"
#include "model/fmt.h"
#include "model/json.h"
#include "nft/nl.h"
#include "nft/ruletext.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libgen.h>
#include <unistd.h>

static const char apply_usage[] =
	"usage: nfpilot [-N NETNS] apply [--genid N] [--timeout S] [--detach]\n"
	"                             [--confirm-new-session] [--force] [--dry-run]\n"
	"                             [--json] FILE\n"
	"  apply an nft script (as nft -f takes it) as one transaction: every\n"
	"  command or none. It is checked first; --genid N refuses it unless the\n"
	"  ruleset is still at generation N (as nfpilot list --json reported it).\n"
	"  The change is on probation: unless confirmed within the timeout\n"
	"  (default " CONFIG_STR(CONFIG_TIMEOUT_DEFAULT) " s, config key timeout), the tables it "
	"touched are restored.\n"
	"  --timeout S              seconds of probation (" CONFIG_TIMEOUT_RANGE ")\n"
	"  --detach                 do not ask: confirm later with nfpilot confirm\n"
	"                           (from any login), or it reverts at the deadline\n"
	"  --confirm-new-session    only nfpilot confirm from a NEW login counts\n"
	"  --force                  apply even if the kernel refuses to restore a\n"
	"                           table it touches (then nothing can undo that)\n"
	"  --ignore-lockout         apply even if the lockout pre-check finds that it\n"
	"                           drops SSH sessions (exit 6 otherwise)\n"
	"  --dry-run                only the check: nothing reaches the kernel\n"
	"  --json                   the outcome as one JSON object (nfpilot(8))\n"
	"  Without --detach it asks on the terminal; no answer reverts, and so\n"
	"  does this process ending (a dropped SSH session) before the answer.\n";

/* nft's error output, each line prefixed for the terminal, the copy's
 * name given back as the file the admin named */
static void print_nft_errors(const char *errs, const char *copy, const char *file)
{
	const char *p = errs;
	size_t cl = strlen(copy);

	while (p && *p) {
		size_t n = strcspn(p, "\n");
		char line[1024];

		if (n >= cl && strncmp(p, copy, cl) == 0)
			snprintf(line, sizeof(line), "%s%.*s", file, (int)(n - cl), p + cl);
		else
			snprintf(line, sizeof(line), "%.*s", (int)n, p);
		fputs("nfpilot: ", stderr);
		fmt_put_safe(stderr, line); /* nft echoes the file's line */
		fputc('\n', stderr);
		cli_json_message(line);
		p += n + (p[n] == '\n');
	}
}

static const struct snap_table *find_table(const struct snapshot *s, const struct snap_table *t)
{
	for (size_t i = 0; i < s->ntables; i++)
		if (s->tables[i].family == t->family && strcmp(s->tables[i].name, t->name) == 0)
			return &s->tables[i];
	return NULL;
}

/* The tables that differ between before and after, as the guardian names
 * them ("inet web, ip nat (new), ip old (deleted)"; "" for none), compared
 * with its digest (probation/snapfile.h): "would change nothing" means what
 * "nothing changed" means when applied. malloc'd, NULL without memory. */
static char *changed_tables(const struct snapshot *before, const struct snapshot *after)
{
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);

	if (!mem)
		return NULL;
	for (size_t i = 0; i < after->ntables; i++) {
		const struct snap_table *a = &after->tables[i], *b = find_table(before, a);

		if (!b || snapfile_digest(a) != snapfile_digest(b))
			fprintf(mem, "%s%s %s%s", ftell(mem) ? ", " : "",
				ruleset_family_name(a->family), a->name, b ? "" : " (new)");
	}
	for (size_t i = 0; i < before->ntables; i++)
		if (!find_table(after, &before->tables[i]))
			fprintf(mem, "%s%s %s (deleted)", ftell(mem) ? ", " : "",
				ruleset_family_name(before->tables[i].family), before->tables[i].name);
	if (fclose(mem) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* --dry-run, the check passed: what the script would change, found in the
 * sandbox (sandbox/sandbox.h: a copy of the tables, interfaces and routes):
 * its tables before and after the script staged there. Not knowing that is
 * no failure, the script is valid: "changes" is null then. */
static void dry_run_report(const char *file, const char *dir, const char *text,
			   bool lockout_ok)
{
	char err[2048] = "", *changed = NULL, safe[600], *cut = NULL;
	struct snapshot before = { 0 };
	struct json *j = cli_json();
	struct sandbox sb;
	bool open = false;
	int ret = check_sandbox(&sb, &open, &(struct check_change){ 0 }, err, sizeof(err));

	cli_json_outcome("dry run");
	cli_json_change(text);
	if (!ret) {
		struct lockout lo = { 0 };

		/* the copy's tables before (kept by the sandbox: no dump) and after */
		if ((ret = snapfile_copy(&sb.copied, &before)))
			snprintf(err, sizeof(err), "out of memory");
		if (!ret)
			ret = check_sandbox(&sb, &open, &(struct check_change){ .script = text,
						.include_dir = dir }, err, sizeof(err));
		if (!ret && !(changed = changed_tables(&before, &sb.copied))) {
			snprintf(err, sizeof(err), "out of memory");
			ret = -ENOMEM;
		}
		/* the lockout pre-check an apply would make, on the same copy */
		if (!ret && !lockout_ok && lockout_find(&lo, &sb, err, sizeof(err)) == 0 &&
		    lockout_ask(&lo, &sb) == 0) {
			cut = lo.verdict;
			lo.verdict = NULL;
		}
		lockout_free(&lo);
		snapshot_free(&before);
		if (open)
			sandbox_close(&sb);
	}
	if (ret) {
		cli_fail(0, "cannot tell what %s would change, on a copy of the tables:", file);
		cli_put_lines(stderr, err);
		if (j) {
			json_null(j, "changes");
			json_null(j, "tables");
		}
		return;
	}
	if (j) {
		json_bool(j, "changes", changed[0] != 0);
		cli_json_tables("tables", changed);
		if (cut)
			json_str(j, "lockout", cut);
		else
			json_null(j, "lockout");
	}
	fmt_sanitize(safe, sizeof(safe), changed);
	if (changed[0])
		printf("dry run: %s would change %s (found on a copy; nothing changed)\n", file,
		       safe);
	else
		printf("dry run: %s would change nothing: the tables already hold it\n", file);
	if (cut) {
		fputs("dry run: the lockout pre-check would stop it: ", stdout);
		fmt_put_safe(stdout, cut);
		fputc('\n', stdout);
	}
	free(cut);
	free(changed);
}

int cli_apply(int argc, char **argv)
{
	struct probation_opts opts;
	struct probation prob;
	const char *file = NULL;
	bool have_genid = false, applied, dry_run = false;
	uint32_t want = 0, now;
	struct nft_ctx *ctx;
	char err[4096] = "", what[300], copy[4200], dir[4200], *text;
	struct nl nl;
	size_t len;
	int ret, locked = 0;

	cli_probation_init(&opts, "nfpilot apply");
	for (int i = 1; i < argc; i++) {
		int used = cli_probation_option(argc, argv, i, &opts);

		if (used < 0)
			return EXIT_USAGE;
		if (used) {
			i += used - 1;
		} else if (strcmp(argv[i], "--dry-run") == 0) {
			dry_run = true;
		} else if (strcmp(argv[i], "--genid") == 0 && i + 1 < argc) {
			want = (uint32_t)strtoul(argv[++i], NULL, 10);
			have_genid = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(apply_usage, stdout);
			return EXIT_OK;
		} else if (argv[i][0] == '-' || file) {
			fputs(apply_usage, stderr);
			return cli_fail(EXIT_USAGE, "apply: unexpected '%s'", argv[i]);
		} else {
			file = argv[i];
		}
	}
	if (!file)
		return cli_fail(EXIT_USAGE, "apply needs a FILE (nfpilot apply --help)");
	if (access(file, R_OK) < 0)
		return cli_fail(errno == ENOENT ? EXIT_NOTFOUND : EXIT_FAIL, "%s: %s", file,
				strerror(errno));
	ret = nl_open(&nl, err, sizeof(err));
	if (!ret)
		ret = nl_genid(&nl, &now);
	if (ret) {
		nl_close(&nl);
		return cli_fail(cli_exit_code(ret), "%s", err[0] ? err : nl_strerror(ret));
	}
	if (have_genid && now != want) {
		nl_close(&nl);
		return cli_fail(EXIT_FAIL, "not applied: the ruleset changed since generation %u "
				"(now %u)", want, now);
	}
	/* read once, into the file the guardian runs; its includes are
	 * looked up beside the script */
	text = cli_slurp(file, &len);
	if (!text) {
		nl_close(&nl);
		return cli_fail(EXIT_FAIL, "%s: %s", file, strerror(errno ? errno : EIO));
	}
	ret = probation_script(text, len, copy, sizeof(copy), err, sizeof(err));
	if (ret) {
		free(text);
		nl_close(&nl);
		return cli_fail(cli_exit_code(ret), "%s: not applied: %s", file, err);
	}
	snprintf(dir, sizeof(dir), "%s", file);
	snprintf(dir, sizeof(dir), "%s", strrchr(dir, '/') ? dirname(dir) : ".");
	/* the check: the kernel sees the batch but never its end */
	ctx = ruletext_ctx(0, true);
	if (ctx)
		nft_ctx_add_include_path(ctx, dir);
	ret = ctx && nft_run_cmd_from_filename(ctx, copy) == 0 ? 0 : -EINVAL;
	if (ret) {
		cli_fail(0, "%s: not applied, nothing changed:", file); /* a name made safe */
		if (ctx)
			print_nft_errors(nft_ctx_get_error_buffer(ctx), copy, file);
		else
			fprintf(stderr, "nfpilot: cannot start libnftables\n");
	} else if (dry_run) {
		dry_run_report(file, dir, text, opts.lockout_ok);
	} else if ((ret = cli_lockout(&(struct check_change){ .script = text,
							      .include_dir = dir }, &opts))) {
		locked = ret;
	} else {
		struct probation_change ch = { .kind = CHANGE_SCRIPT, .path = copy, .include = dir,
					       .text = text };

		snprintf(what, sizeof(what), "nfpilot apply %.256s", file);
		opts.what = what;
		ret = probation_apply(&nl, &ch, &opts, &prob, &applied, err, sizeof(err));
		if (ret == -EINVAL) {
			cli_fail(0, "%s: not applied, nothing changed:", file);
			print_nft_errors(err, copy, file);
		} else if (ret) {
			cli_fail(cli_exit_code(ret), "%s: not applied: %s%s", file, err,
				 cli_probation_hint(ret));
		}
	}
	unlink(copy);
	if (ctx)
		nft_ctx_free(ctx);
	if (!ret && !dry_run)
		cli_json_change(text);
	free(text);
	nl_close(&nl);
	if (locked)
		return locked;
	if (ret)
		return ret == -EINVAL ? EXIT_FAIL : cli_exit_code(ret);
	if (dry_run)
		return EXIT_OK;
	printf("applied %s as one transaction\n", file);
	return cli_probation_finish(&prob, &opts);
}
