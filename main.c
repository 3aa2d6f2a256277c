/* nfpilot: global options, the network namespace switch, and dispatch to a
 * CLI verb (cli/cli.h). */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "apply/scratch.h"
#include "probation/guardian.h"
#include "nft/ruletext.h"
#include "nft/nl.h"
#include "model/config.h"
#include "ui/tui.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static const char usage[] =
	"usage: nfpilot [-N NETNS] [--theme NAME]        the live view\n"
	"       nfpilot [-N NETNS] VERB [OPTIONS]\n"
	"       nfpilot --help | --version\n"
	"\n"
	"Interactive firewall manager for Linux netfilter (nftables, iptables-nft).\n"
	"Without a verb, nfpilot opens the live view (press ? in it for the keys).\n"
	"\n"
	"Global options:\n"
	"  -N, --netns NAME   work inside network namespace NAME (/run/netns/NAME)\n"
	"  --timeout S        probation of changes applied in the live view ("
	CONFIG_TIMEOUT_RANGE " s;\n"
	"                     default " CONFIG_STR(CONFIG_TIMEOUT_DEFAULT) ", config key timeout)\n"
	"  --confirm-new-session  strict: the live view cannot confirm; only\n"
	"                     nfpilot confirm from a NEW login can\n"
	"  --theme NAME       colour theme of the live view: default, light, mono,\n"
	"                     or a file path (NO_COLOR in the environment: mono)\n"
	"  -h, --help         this help\n"
	"  -V, --version      print the version\n"
	"\n"
	"Verbs:\n"
	"  list               tables, chains, rules and counters (nfpilot list --help)\n"
	"  zero               zero rule counters of a table, chain or rule\n"
	"  ct                 tracked connections: list, count, kill (nfpilot ct --help)\n"
	"  edit               insert, replace, delete, move rules, chain policy,\n"
	"                     chains and tables: all edits as one transaction\n"
	"  apply FILE         an nft script as one transaction, checked first\n"
	"  confirm            keep the change on probation (from any login)\n"
	"  rollback           revert the change on probation now\n"
	"  extend             restart the probation's countdown\n"
	"  status             the probation: time left, tables, who, the change\n"
	"  history            changes that ended their probation; show N\n"
	"  restore N          put back the tables of history entry N (on probation)\n"
	"  save [FILE]        the live ruleset to " "/etc/nftables.conf" " (loaded at boot)\n"
	"  set                a set's or map's elements: list, test, add, del, flush\n"
	"  trace [FILTER]     real packets and their path through the rules to the verdict\n"
	"  why PACKET         what the rules would do with a packet never sent (a sandbox)\n"
	"Every verb takes --json: its outcome as one JSON object on standard output.\n"
	"\n"
	"Exit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 permission denied,\n"
	"5 nf_tables not available. See nfpilot(8).\n";

/* json: 1 the verb takes --json for its outcome (cli/json.c: main removes
 * the option), 2 the verb parses --json itself for a document of its own
 * (list, ct, trace, why), the outcome written only when it fails; with
 * listing set, only that sub-verb writes a document (set list), the
 * others an outcome */
static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	int json;
	const char *listing;
} verbs[] = {
	{ "list", cli_list, 2, NULL },
	{ "zero", cli_zero, 1, NULL },
	{ "ct", cli_ct, 2, NULL },
	{ "edit", cli_edit, 1, NULL },
	{ "apply", cli_apply, 1, NULL },
	{ "confirm", cli_confirm, 1, NULL },
	{ "rollback", cli_rollback, 1, NULL },
	{ "extend", cli_extend, 1, NULL },
	{ "status", cli_status, 1, NULL },
	{ "history", cli_history, 1, NULL },
	{ "restore", cli_restore, 1, NULL },
	{ "save", cli_save, 1, NULL },
	{ "set", cli_set, 1, "list" },
	{ "trace", cli_trace, 2, NULL },
	{ "why", cli_why, 2, NULL },
	{ "guardian", guardian_main, 0, NULL }, /* internal: started by a probation */
	{ "ruletext", ruletext_child_main, 0, NULL }, /* internal: one family's rule text */
	{ "scratch", scratch_main, 0, NULL }, /* internal: work in a scratch namespace */
};

/* Is --json among the verb's arguments? Removed from them (*argc one
 * less) unless keep. */
static bool json_option(int *argc, char **argv, bool keep)
{
	for (int i = 1; i < *argc; i++)
		if (strcmp(argv[i], "--json") == 0) {
			if (!keep) {
				/* argv[*argc], the NULL, moves along */
				memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i) * sizeof(*argv));
				--*argc;
			}
			return true;
		}
	return false;
}

static int enter_netns(const char *name)
{
	char err[512];
	int ret = nl_enter_netns(name, err, sizeof(err));

	if (!ret)
		return EXIT_OK;
	return cli_fail(ret == -EINVAL ? EXIT_USAGE : cli_exit_code(ret), "%s", err);
}

int main(int argc, char **argv)
{
	struct tui_opts tui = { 0 };
	int i = 1;

	/* the terminal's character set (model/fmt.h): what text from the kernel
	 * may be shown as it is. LC_CTYPE only: numbers and messages stay C's */
	setlocale(LC_CTYPE, "");
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];

		if (strcmp(o, "-h") == 0 || strcmp(o, "--help") == 0) {
			fputs(usage, stdout);
			return EXIT_OK;
		} else if (strcmp(o, "-V") == 0 || strcmp(o, "--version") == 0) {
			printf("nfpilot %s\n", NFP_VERSION);
			return EXIT_OK;
		} else if (strcmp(o, "-N") == 0 || strcmp(o, "--netns") == 0) {
			int ret;

			if (i + 1 >= argc)
				return cli_fail(EXIT_USAGE, "%s needs a namespace name", o);
			ret = enter_netns(argv[++i]);
			if (ret)
				return ret;
			tui.netns = argv[i];
		} else if (strcmp(o, "--confirm-new-session") == 0) {
			tui.strict = true;
		} else if (strcmp(o, "--timeout") == 0) {
			char err[200];

			if (i + 1 >= argc)
				return cli_fail(EXIT_USAGE, "%s needs seconds", o);
			if (config_timeout_parse(argv[++i], &tui.timeout_s, err, sizeof(err)))
				return cli_fail(EXIT_USAGE, "--timeout: %s", err);
		} else if (strcmp(o, "--theme") == 0) {
			if (i + 1 >= argc)
				return cli_fail(EXIT_USAGE, "%s needs a theme name", o);
			tui.theme = argv[++i];
		} else {
			fputs(usage, stderr);
			return cli_fail(EXIT_USAGE, "unknown option '%s'", o);
		}
	}
	if (i >= argc) {
		char err[512];
		int ret = tui_run(&tui, err, sizeof(err));

		if (ret)
			return cli_fail(ret == -ENOTTY ? EXIT_USAGE : cli_exit_code(ret), "%s", err);
		return EXIT_OK;
	}
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++)
		if (strcmp(argv[i], verbs[v].name) == 0) {
			int n = argc - i, rc, json = verbs[v].json;

			if (verbs[v].listing && n > 1 && strcmp(argv[i + 1], verbs[v].listing) == 0)
				json = 2;
			if (json && json_option(&n, argv + i, json > 1)) {
				cli_json_start(verbs[v].name, json > 1);
				return cli_json_finish(verbs[v].fn(n, argv + i));
			}
			rc = verbs[v].fn(n, argv + i);

			/* an answer that did not reach its reader (a full disk) is
			 * no success; errno is the write's own */
			errno = 0;
			if (rc != EXIT_OK)
				return rc; /* the verb said what went wrong */
			if (fflush(stdout) != 0)
				return cli_fail(EXIT_FAIL, "writing the output: %s", strerror(errno));
			if (ferror(stdout))
				return cli_fail(EXIT_FAIL, "writing the output failed");
			return rc;
		}
	fputs(usage, stderr);
	return cli_fail(EXIT_USAGE, "unknown verb '%s'", argv[i]);
}
