/* nfpilot apply FILE: an nft script as one transaction — checked first
 * (nft's dry run: nothing reaches the kernel if any line is wrong), then
 * applied by libnftables, which sends the whole script as one batch. */
#include "cli.h"

#include "model/fmt.h"
#include "model/nl.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char apply_usage[] =
	"usage: nfpilot [-N NETNS] apply [--genid N] FILE\n"
	"  apply an nft script (as nft -f takes it) as one transaction: every\n"
	"  command or none. It is checked first; --genid N refuses it unless the\n"
	"  ruleset is still at generation N (as nfpilot list --json reported it).\n";

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

int cli_apply(int argc, char **argv)
{
	const char *file = NULL;
	bool have_genid = false;
	uint32_t want = 0, now;
	struct nft_ctx *ctx;
	char err[256];
	struct nl nl;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--genid") == 0 && i + 1 < argc) {
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
	nl_close(&nl);
	if (ret)
		return cli_fail(cli_exit_code(ret), "%s", err[0] ? err : nl_strerror(ret));
	if (have_genid && now != want)
		return cli_fail(EXIT_FAIL, "not applied: the ruleset changed since generation %u "
				"(now %u)", want, now);
	ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return cli_fail(EXIT_FAIL, "cannot start libnftables");
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	/* the check: the kernel sees the batch but never its end */
	nft_ctx_set_dry_run(ctx, true);
	ret = nft_run_cmd_from_filename(ctx, file);
	if (!ret) {
		nft_ctx_set_dry_run(ctx, false);
		ret = nft_run_cmd_from_filename(ctx, file);
	}
	if (ret) {
		fprintf(stderr, "nfpilot: %s: not applied, nothing changed:\n", file);
		print_nft_errors(nft_ctx_get_error_buffer(ctx));
		nft_ctx_free(ctx);
		return EXIT_FAIL;
	}
	printf("applied %s as one transaction\n", file);
	nft_ctx_free(ctx);
	return EXIT_OK;
}
