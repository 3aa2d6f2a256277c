#include "cli/cli.h"

#include "model/print.h"
#include "nft/reader.h"
#include "nft/ruletext.h"

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
	"  --counters         handles and counters only, without rule text (fast)\n";

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

/* Read the structure, then the rules' counters (this thread) and their text
 * (a worker) at the same time; all must come from one generation. */
static int read_listing(struct nl *nl, const struct list_args *a,
			struct nfp_ruleset *rs, char *err, size_t errlen)
{
	struct reader_scope scope = a->scope;

	scope.no_rules = true;
	for (int attempt = 0; attempt < 3; attempt++) {
		struct ruletext_job job = { .numeric = true };
		bool with_text = !a->popts.counters_only, started = false;
		uint32_t genid = 0;
		int ret = reader_read(nl, &scope, rs, err, errlen);

		if (ret)
			return ret;
		if (with_text) {
			ret = ruletext_plan(&job, rs);
			if (!ret)
				ret = ruletext_start(&job);
			if (ret)
				snprintf(err, errlen, "cannot list rule text: %s", strerror(-ret));
			started = !ret;
		}
		if (!ret)
			ret = reader_read_rules(nl, rs, err, errlen);
		if (started)
			ruletext_wait(&job);
		if (!ret && job.err) {
			snprintf(err, errlen, "%s", job.errmsg);
			ret = job.err;
		}
		if (!ret)
			ret = nl_genid(nl, &genid);
		if (!ret && genid == rs->genid &&
		    (!with_text || (job.genid_before == genid && job.genid_after == genid))) {
			long n = job.text ? ruletext_join(rs, job.text) : 0;

			ruletext_job_free(&job);
			if (n >= 0)
				return 0;
			ret = (int)n;
			snprintf(err, errlen, "out of memory");
		}
		ruletext_job_free(&job);
		ruleset_free(rs);
		if (ret && ret != -ENOENT)
			return ret;
		/* changed under us (a chain may have gone): read again */
	}
	snprintf(err, errlen, "%s", nl_strerror(-EINTR));
	return -EINTR;
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
	ret = read_listing(&nl, &a, &rs, err, sizeof(err));
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
