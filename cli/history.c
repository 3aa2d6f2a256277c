/* nfpilot history [show N [--before|--after]] and nfpilot restore N
 * [--before]: what happened to the ruleset, and going back to a recorded
 * state (itself on probation). */
#define _GNU_SOURCE
#include "cli/cli.h"

#include "check/lockout.h"
#include "probation/history.h"
#include "probation/probation.h"
#include "apply/save.h"
#include "probation/snapfile.h"
#include "model/fmt.h"
#include "model/json.h"
#include "model/ruleset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char history_usage[] =
	"usage: nfpilot [-N NETNS] history                 every change, oldest first\n"
	"       nfpilot [-N NETNS] history show N [--before|--after|--handles]\n"
	"  a change that ended its probation: when, who, from where, confirmed or\n"
	"  reverted and why, the tables, the change; --before/--after print those\n"
	"  tables as they were before/after it (nft text); --handles: the new\n"
	"  handle of each rule a revert put back (the kernel gives them new ones)\n";

static const char restore_usage[] =
	"usage: nfpilot [-N NETNS] restore N [--before] [--timeout S] [--detach]\n"
	"                               [--confirm-new-session] [--force] [--ignore-lockout]\n"
	"  put the tables of history entry N back as they were after that change\n"
	"  (--before: as they were before it), on probation like any apply, after\n"
	"  the lockout pre-check (exit 6 if they drop SSH sessions)\n";

static int parse_n(const char *s, int *n)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v <= 0 || v > 1000000000)
		return cli_fail(EXIT_USAGE, "'%s' is not a history entry number", s);
	*n = (int)v;
	return 0;
}

static void when_text(time_t t, char *buf, size_t len)
{
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", localtime(&t));
}

/* A revert re-adds rules: the kernel gives them new handles. */
static int show_handles(int n)
{
	char *map = history_read(n, HISTORY_HANDLES);

	if (!map)
		return cli_fail(EXIT_NOTFOUND, "history entry %d has no handles: it restored no rule",
				n);
	for (const char *l = map; *l;) {
		char fam[16], table[300], chain[300];
		unsigned long long o, h;

		if (sscanf(l, "%15[^\t]\t%299[^\t]\t%299[^\t]\t%llu\t%llu", fam, table, chain,
			   &o, &h) == 5) {
			printf("%s ", fam);
			fmt_put_safe(stdout, table);
			printf(" chain ");
			fmt_put_safe(stdout, chain);
			printf(": rule %llu is now %llu\n", o, h);
		}
		l += strcspn(l, "\n");
		l += *l == '\n';
	}
	free(map);
	return EXIT_OK;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; s && *s; s++)
		n += *s == '\n';
	return n;
}

/* One entry as a JSON object (history --json, show N --json). */
static void entry_json(const char *key, const struct history_entry *e, const char *change)
{
	struct json *j = cli_json();

	json_object(j, key);
	json_int(j, "n", e->n);
	json_int(j, "when", (long long)e->when);
	json_str(j, "user", e->user);
	json_str(j, "from", e->from);
	json_str(j, "outcome", e->outcome);
	json_str(j, "reason", e->reason);
	cli_json_tables("tables", e->tables);
	json_str(j, "what", e->what);
	json_str(j, "id", e->id[0] ? e->id : NULL);
	if (change)
		json_lines(j, "change", change);
	json_end(j);
}

static int show(int n, const char *which)
{
	struct history_entry e;
	char err[512], when[64], *change = NULL, *text = NULL;
	struct snapshot s = { 0 };
	int ret = history_lookup(n, &e, &change, err, sizeof(err));

	if (ret)
		return cli_fail(cli_exit_code(ret), "%s", err);
	if (which) {
		ret = history_load(n, which, &s, err, sizeof(err));
		if (!ret)
			ret = save_snapshot_text(&s, &text, err, sizeof(err));
		free(change);
		if (ret) {
			snapshot_free(&s);
			return cli_fail(cli_exit_code(ret), "%s", err);
		}
		cli_put_lines(stdout, text);
		if (cli_json())
			json_lines(cli_json(), "text", text);
		for (size_t i = 0; i < s.ntables; i++)
			if (s.tables[i].absent) {
				printf("# table %s ", ruleset_family_name(s.tables[i].family));
				fmt_put_safe(stdout, s.tables[i].name);
				printf(": did not exist\n");
			}
		snapshot_free(&s);
		free(text);
		return EXIT_OK;
	}
	e.n = n;
	if (cli_json())
		entry_json("entry", &e, change);
	when_text(e.when, when, sizeof(when));
	printf("change %d\n", n);
	printf("when:    %s\n", when);
	printf("user:    "), fmt_put_safe(stdout, e.user), putchar('\n');
	printf("from:    "), fmt_put_safe(stdout, e.from), putchar('\n');
	printf("outcome: "), fmt_put_safe(stdout, e.outcome), putchar('\n');
	printf("why:     "), fmt_put_safe(stdout, e.reason), putchar('\n');
	printf("tables:  "), fmt_put_safe(stdout, e.tables), putchar('\n');
	printf("made by: "), fmt_put_safe(stdout, e.what), putchar('\n');
	if (e.id[0])
		printf("id:      "), fmt_put_safe(stdout, e.id), putchar('\n');
	{
		char *map = history_read(n, HISTORY_HANDLES);

		if (map && *map)
			printf("handles: the revert gave %d rule%s new handles (nfpilot history "
			       "show %d --handles)\n", count_lines(map), count_lines(map) == 1 ? "" : "s",
			       n);
		free(map);
	}
	printf("change:\n");
	cli_put_lines(stdout, change);
	printf("(nfpilot history show %d --before / --after: the tables' text; "
	       "nfpilot restore %d [--before] puts them back)\n", n, n);
	free(change);
	return EXIT_OK;
}

int cli_history(int argc, char **argv)
{
	struct history_entry *all;
	size_t count;
	char err[512];
	int n = 0, ret;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(history_usage, stdout);
		return EXIT_OK;
	}
	if (argc > 1 && strcmp(argv[1], "show") == 0) {
		const char *which = NULL;

		if (argc < 3 || parse_n(argv[2], &n))
			return argc < 3 ? cli_fail(EXIT_USAGE, "history show needs N") : EXIT_USAGE;
		if (argc == 4 && strcmp(argv[3], "--before") == 0)
			which = "before.snap";
		else if (argc == 4 && strcmp(argv[3], "--after") == 0)
			which = "after.snap";
		else if (argc == 4 && strcmp(argv[3], "--handles") == 0)
			return show_handles(n);
		else if (argc > 3)
			return cli_fail(EXIT_USAGE, "history show: unexpected '%s'", argv[3]);
		return show(n, which);
	}
	if (argc > 1) {
		fputs(history_usage, stderr);
		return cli_fail(EXIT_USAGE, "history: unexpected '%s'", argv[1]);
	}
	ret = history_entries(&all, &count, err, sizeof(err));
	if (ret)
		return cli_fail(cli_exit_code(ret), "%s", err);
	if (cli_json()) {
		json_array(cli_json(), "entries");
		for (size_t i = 0; i < count; i++)
			entry_json(NULL, &all[i], NULL);
		json_end(cli_json());
	}
	if (!count)
		printf("no change recorded yet\n");
	else
		printf("%5s  %-19s  %-13s  %-16s  %-16s  %s\n", "N", "WHEN", "OUTCOME", "USER",
		       "FROM", "TABLES");
	for (size_t i = 0; i < count; i++) {
		char when[64], user[17], from[17], outcome[14], tables[200];

		when_text(all[i].when, when, sizeof(when));
		fmt_sanitize(user, sizeof(user), all[i].user);
		fmt_sanitize(from, sizeof(from), all[i].from);
		fmt_sanitize(outcome, sizeof(outcome), all[i].outcome);
		fmt_sanitize(tables, sizeof(tables), all[i].tables);
		printf("%5d  %-19s  %-13s  %-16s  %-16s  %s\n", all[i].n, when, outcome, user, from,
		       tables);
	}
	free(all);
	return EXIT_OK;
}

int cli_restore(int argc, char **argv)
{
	struct probation_opts opts;
	struct probation prob;
	bool before = false;
	char err[512];
	struct nl nl;
	int n = 0, ret;

	cli_probation_init(&opts, "nfpilot restore");
	for (int i = 1; i < argc; i++) {
		int used = cli_probation_option(argc, argv, i, &opts);

		if (used < 0)
			return EXIT_USAGE;
		if (used) {
			i += used - 1;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(restore_usage, stdout);
			return EXIT_OK;
		} else if (strcmp(argv[i], "--before") == 0) {
			before = true;
		} else if (argv[i][0] != '-' && !n) {
			if (parse_n(argv[i], &n))
				return EXIT_USAGE;
		} else {
			fputs(restore_usage, stderr);
			return cli_fail(EXIT_USAGE, "restore: unexpected '%s'", argv[i]);
		}
	}
	if (!n)
		return cli_fail(EXIT_USAGE, "restore needs a history entry number (nfpilot history)");
	/* the lockout pre-check of the tables it puts back */
	if (!opts.lockout_ok) {
		struct snapshot s;

		ret = history_load(n, before ? "before.snap" : "after.snap", &s, err, sizeof(err));
		if (!ret) {
			ret = cli_lockout(&(struct check_change){ .tables = &s }, &opts);
			snapshot_free(&s);
			if (ret)
				return ret;
		}
	}
	ret = nl_open(&nl, err, sizeof(err));
	if (ret)
		return cli_fail(cli_exit_code(ret), "%s", err);
	ret = probation_restore(&nl, n, before, &opts, &prob, err, sizeof(err));
	nl_close(&nl);
	if (ret)
		return cli_fail(cli_exit_code(ret), "not restored: %s%s", err,
				cli_probation_hint(ret));
	if (cli_json()) {
		/* the change: what probation_restore named it */
		char line[300];

		snprintf(line, sizeof(line), "# %s", opts.what);
		cli_json_change(line);
	}
	printf("restored the tables of history entry %d (%s the change)\n", n,
	       before ? "before" : "after");
	return cli_probation_finish(&prob, &opts);
}
