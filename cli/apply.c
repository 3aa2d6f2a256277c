/* nfpilot apply FILE: an nft script as one transaction — checked first
 * (nft's dry run: nothing reaches the kernel if any line is wrong), then
 * applied by libnftables, which sends the whole script as one batch — on
 * probation (probation/probation.h): any table may be touched by a script, so
 * all are snapshotted and the guardian keeps those that changed. */
#define _GNU_SOURCE
#include "cli/cli.h"

#include "probation/probation.h"

#include "model/config.h"
#include "model/fmt.h"
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
	"                             [--confirm-new-session] [--force] FILE\n"
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
		p += n + (p[n] == '\n');
	}
}

int cli_apply(int argc, char **argv)
{
	struct probation_opts opts;
	struct probation prob;
	const char *file = NULL;
	bool have_genid = false, applied;
	uint32_t want = 0, now;
	struct nft_ctx *ctx;
	char err[4096] = "", what[300], copy[4200], dir[4200], *text;
	struct nl nl;
	size_t len;
	int ret;

	cli_probation_init(&opts, "nfpilot apply");
	for (int i = 1; i < argc; i++) {
		int used = cli_probation_option(argc, argv, i, &opts);

		if (used < 0)
			return EXIT_USAGE;
		if (used) {
			i += used - 1;
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
	free(text);
	nl_close(&nl);
	if (ret)
		return ret == -EINVAL ? EXIT_FAIL : cli_exit_code(ret);
	printf("applied %s as one transaction\n", file);
	return cli_probation_finish(&prob, &opts);
}
