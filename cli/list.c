#include "cli/cli.h"

#include "model/print.h"
#include "nft/reader.h"
#include "nft/ruletext.h"
#include "nft/xtables.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char list_usage[] =
	"usage: nfpilot [-N NETNS] list [-t [FAMILY] TABLE [-c CHAIN]] [-x] [--json] [--counters]\n"
	"  -t [FAMILY] TABLE  only this table (FAMILY: ip ip6 inet arp bridge netdev)\n"
	"  -c CHAIN           only this chain of the table\n"
	"  -x, --exact        exact packet and byte counts instead of 1.2K, 3.4M\n"
	"  --json             machine-readable output (format: nfpilot(8))\n"
	"  --counters         handles and counters only, without rule text (fast)\n"
	"  --iptables         iptables-nft's tables as iptables-save prints them (-A lines)\n";

struct list_args {
	struct reader_scope scope;
	struct print_opts popts;
	bool json;
};

static int parse_list_args(int argc, char **argv, struct list_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		int used = cli_scope_option(argc, argv, i, &a->scope);

		if (used < 0)
			return EXIT_USAGE;
		if (used > 0) {
			i += used - 1;
		} else if (strcmp(o, "-x") == 0 || strcmp(o, "--exact") == 0) {
			a->popts.exact = true;
		} else if (strcmp(o, "--json") == 0) {
			a->json = true;
		} else if (strcmp(o, "--counters") == 0) {
			a->popts.counters_only = true;
		} else if (strcmp(o, "--iptables") == 0) {
			a->popts.iptables = true;
		} else if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			fputs(list_usage, stdout);
			return -1;
		} else {
			fputs(list_usage, stderr);
			return cli_fail(EXIT_USAGE, "list: unknown option '%s'", o);
		}
	}
	if (a->scope.chain && !a->scope.table)
		return cli_fail(EXIT_USAGE, "-c CHAIN needs -t [FAMILY] TABLE");
	return 0;
}

/* --iptables: the rules of each iptables-nft table get the lines
 * iptables-save prints for them, joined by position (nft/xtables.h), at
 * the generation rs was read at: -EINTR when it moved on. */
static int fill_iptables(struct nl *nl, struct nfp_ruleset *rs, char *err, size_t errlen)
{
	uint32_t genid = 0;
	int ret = 0;

	for (size_t i = 0; i < rs->ntables && !ret; i++) {
		struct nfp_table *t = &rs->tables[i];
		char *save = NULL;

		if (t->owner != NFP_OWNER_IPTABLES)
			continue;
		ret = xtables_save(t->family, t->name, &save, err, errlen);
		/* a chain whose count differs keeps nft's text */
		if (!ret && xtables_join(t, save) == -ENOMEM) {
			snprintf(err, errlen, "out of memory");
			ret = -ENOMEM;
		}
		free(save);
	}
	if (!ret && !(ret = nl_genid(nl, &genid)) && genid != rs->genid)
		ret = -EINTR;
	return ret;
}

int cli_list(int argc, char **argv)
{
	struct list_args a = { 0 };
	struct nfp_ruleset rs = { 0 };
	char err[512];
	struct nl nl;
	int ret = parse_list_args(argc, argv, &a);

	if (ret)
		return ret < 0 ? EXIT_OK : ret;
	ret = nl_open(&nl, err, sizeof(err));
	if (ret)
		return cli_fail(cli_exit_code(ret), "%s", err);
	for (int attempt = 0; attempt < 3; attempt++) {
		ret = cli_read_ruleset(&nl, &a.scope, !a.popts.counters_only, &rs, err, sizeof(err));
		if (ret || !a.popts.iptables || (ret = fill_iptables(&nl, &rs, err, sizeof(err))) != -EINTR)
			break;
		ruleset_free(&rs); /* changed meanwhile: read again */
		snprintf(err, sizeof(err), "%s", nl_strerror(ret));
	}
	nl_close(&nl);
	if (ret)
		return cli_fail(cli_exit_code(ret), "%s", err);
	if (a.json)
		print_json(stdout, &rs, &a.popts);
	else
		print_text(stdout, &rs, &a.popts);
	ruleset_free(&rs);
	if (fflush(stdout) != 0 || ferror(stdout))
		return cli_fail(EXIT_FAIL, "writing the listing: %s", strerror(errno));
	return EXIT_OK;
}
