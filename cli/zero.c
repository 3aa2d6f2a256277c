/* nfpilot zero: the live view's "zero counters" without the screen. */
#include "cli/cli.h"

#include "nft/reader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char zero_usage[] =
	"usage: nfpilot [-N NETNS] zero -t [FAMILY] TABLE [-c CHAIN [-H HANDLE]]\n"
	"  zero the packet and byte counters of every rule of a table, of one\n"
	"  chain, or of one rule (by handle, as nfpilot list shows it)\n";

int cli_zero(int argc, char **argv)
{
	struct reader_scope scope = { .no_rules = true };
	struct nfp_ruleset rs = { 0 };
	uint64_t handle = 0;
	char err[512];
	struct nl nl;
	int ret;

	for (int i = 1; i < argc; i++) {
		int used = cli_scope_option(argc, argv, i, &scope);
		char *end;

		if (used < 0)
			return EXIT_USAGE;
		if (used > 0) {
			i += used - 1;
		} else if (strcmp(argv[i], "-H") == 0 || strcmp(argv[i], "--handle") == 0) {
			if (i + 1 >= argc)
				return cli_fail(EXIT_USAGE, "%s needs a rule handle", argv[i]);
			errno = 0;
			handle = strtoull(argv[++i], &end, 10);
			if (errno || *end || handle == 0)
				return cli_fail(EXIT_USAGE, "bad rule handle '%s'", argv[i]);
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(zero_usage, stdout);
			return EXIT_OK;
		} else {
			fputs(zero_usage, stderr);
			return cli_fail(EXIT_USAGE, "zero: unknown option '%s'", argv[i]);
		}
	}
	if (!scope.table)
		return cli_fail(EXIT_USAGE, "zero needs -t [FAMILY] TABLE");
	if (handle && !scope.chain)
		return cli_fail(EXIT_USAGE, "-H HANDLE needs -c CHAIN");

	ret = nl_open(&nl, err, sizeof(err));
	if (ret)
		return cli_fail(cli_exit_code(ret), "%s", err);
	/* find the table (and chain) first: a clear "no such" beats ENOENT */
	ret = reader_read(&nl, &scope, &rs, err, sizeof(err));
	if (!ret && rs.ntables > 1) {
		ret = -EINVAL;
		snprintf(err, sizeof(err), "table '%s' exists in several families: name one",
			 scope.table);
	}
	if (!ret) {
		ret = reader_reset_counters(&nl, &rs.tables[0], scope.chain, handle);
		if (ret == -ENOENT)
			snprintf(err, sizeof(err), "no rule with handle %" PRIu64 " in chain %s",
				 handle, scope.chain);
		else if (ret)
			snprintf(err, sizeof(err), "zeroing counters: %s", nl_strerror(ret));
	}
	if (!ret)
		printf("zeroed the counters of %s%s%s%s %s %s\n",
		       handle ? "one rule in " : "every rule in ", scope.chain ? "chain " : "",
		       scope.chain ? scope.chain : "", scope.chain ? " of table" : "table",
		       ruleset_family_name(rs.tables[0].family), rs.tables[0].name);
	ruleset_free(&rs);
	nl_close(&nl);
	if (ret)
		return cli_fail(ret == -EINVAL ? EXIT_USAGE : cli_exit_code(ret), "%s", err);
	return EXIT_OK;
}
