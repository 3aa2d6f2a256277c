/* nfpilot apply FILE: an nft script as one transaction — checked first
 * (nft's dry run: nothing reaches the kernel if any line is wrong), then
 * applied by libnftables, which sends the whole script as one batch — on
 * probation (apply/probation.h): any table may be touched by a script, so
 * all are snapshotted and the guardian keeps those that changed. */
#define _GNU_SOURCE
#include "cli.h"

#include "apply/probation.h"

#include "model/fmt.h"
#include "model/nl.h"
#include "model/ruletext.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char apply_usage[] =
	"usage: nfpilot [-N NETNS] apply [--genid N] [--timeout S] [--detach]\n"
	"                             [--confirm-new-session] [--force] FILE\n"
	"  apply an nft script (as nft -f takes it) as one transaction: every\n"
	"  command or none. It is checked first; --genid N refuses it unless the\n"
	"  ruleset is still at generation N (as nfpilot list --json reported it).\n"
	"  The change is on probation: unless confirmed within the timeout\n"
	"  (default 60 s, config key timeout), the tables it touched are restored.\n"
	"  --timeout S              seconds of probation (10..3600)\n"
	"  --detach                 do not ask: confirm later with nfpilot confirm\n"
	"                           (from any login), or it reverts at the deadline\n"
	"  --confirm-new-session    only nfpilot confirm from a NEW login counts\n"
	"  --force                  apply even if the kernel refuses to restore a\n"
	"                           table it touches (then nothing can undo that)\n"
	"  Without --detach it asks on the terminal; no answer reverts, and so\n"
	"  does this process ending (a dropped SSH session) before the answer.\n";

struct script {
	struct nft_ctx *ctx;
	const char *file;
};

/* The script, for real: the probation's change. */
static int run_file(struct nl *nl, void *arg, uint32_t genid, char *err, size_t errlen)
{
	struct script *sc = arg;

	(void)nl;
	(void)genid;
	if (nft_run_cmd_from_filename(sc->ctx, sc->file) == 0)
		return 0;
	snprintf(err, errlen, "the kernel refused it");
	return -EINVAL;
}

/* nft's error output, each line prefixed for the terminal */
static void print_nft_errors(const char *errs)
{
	const char *p = errs;

	while (p && *p) {
		size_t n = strcspn(p, "\n");

		char line[1024];

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		fputs("nfpilot: ", stderr);
		fmt_put_safe(stderr, line); /* nft echoes the file's line */
		fputc('\n', stderr);
		p += n + (p[n] == '\n');
	}
}

/* The script's text, for status and the history. */
static char *slurp(const char *file)
{
	FILE *fp = fopen(file, "re");
	char *buf = NULL, chunk[4096];
	size_t len = 0, got;
	FILE *mem;

	if (!fp)
		return NULL;
	mem = open_memstream(&buf, &len);
	while (mem && len < (1u << 20) && (got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		fwrite(chunk, 1, got, mem);
	if (mem)
		fclose(mem);
	fclose(fp);
	return buf;
}

int cli_apply(int argc, char **argv)
{
	struct probation_opts opts;
	struct probation prob;
	const char *file = NULL;
	bool have_genid = false, applied;
	uint32_t want = 0, now;
	struct nft_ctx *ctx;
	char err[512] = "", what[300], *text;
	struct script sc;
	struct nl nl;
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
	/* the check: the kernel sees the batch but never its end */
	ctx = ruletext_ctx(0, true);
	ret = ctx ? nft_run_cmd_from_filename(ctx, file) : -1;
	if (!ret) {
		/* a fresh context: the check's cache holds what the script did
		 * (an interval set's element already deleted, say) */
		nft_ctx_free(ctx);
		ctx = ruletext_ctx(0, false);
	}
	if (!ctx) {
		nl_close(&nl);
		return cli_fail(EXIT_FAIL, "cannot start libnftables");
	}
	if (!ret) {
		sc = (struct script){ ctx, file };
		snprintf(what, sizeof(what), "nfpilot apply %.256s", file);
		opts.what = what;
		text = slurp(file);
		struct probation_change ch = { .fn = run_file, .arg = &sc, .text = text };

		ret = probation_apply(&nl, &ch, &opts, &prob, &applied, err, sizeof(err));
		free(text);
		if (ret && !applied && ret != -EINVAL) {
			/* the probation could not start: nothing was sent */
			nft_ctx_free(ctx);
			nl_close(&nl);
			return cli_fail(cli_exit_code(ret), "%s: not applied: %s%s", file, err,
					cli_probation_hint(ret));
		}
	}
	if (ret) {
		cli_fail(0, "%s: not applied, nothing changed:", file); /* a name made safe */
		print_nft_errors(nft_ctx_get_error_buffer(ctx));
		nft_ctx_free(ctx);
		nl_close(&nl);
		return EXIT_FAIL;
	}
	nft_ctx_free(ctx);
	nl_close(&nl);
	printf("applied %s as one transaction\n", file);
	return cli_probation_finish(&prob, &opts);
}
