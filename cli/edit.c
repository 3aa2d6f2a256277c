#define _GNU_SOURCE /* asprintf */
/* nfpilot edit: the live view's staged edits without the screen. Every
 * edit on the command line goes into one changeset, applied as ONE kernel
 * transaction (apply/apply.h): all of them or none. */
#include "cli/cli.h"

#include "apply/apply.h"
#include "nft/reader.h"
#include "nft/ruletext.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char edit_usage[] =
	"usage: nfpilot [-N NETNS] edit [--genid N] -t [FAMILY] TABLE [-c CHAIN] EDIT...\n"
	"  all EDITs are applied as one transaction: all of them or none\n"
	"  -c CHAIN                  the chain of the edits that follow\n"
	"  --insert TEXT             insert a rule at the top of the chain\n"
	"  --insert-before H TEXT    insert a rule before the rule with handle H\n"
	"  --insert-after H TEXT     insert a rule after the rule with handle H\n"
	"  --append TEXT             append a rule to the chain\n"
	"  --replace H TEXT          replace the rule with handle H\n"
	"  --delete H                delete the rule with handle H\n"
	"  --move H before|after|top|bottom [A]   move rule H (it gets a new handle)\n"
	"  --policy accept|drop      set the base chain's policy\n"
	"  --add-chain NAME [SPEC]   create a chain; SPEC: 'type filter hook input\n"
	"                            priority 0; policy accept;' for a base chain\n"
	"  --delete-chain NAME       delete an empty chain\n"
	"  --flush-chain NAME        delete every rule of a chain\n"
	"  --add-table               create the table given with -t\n"
	"  --genid N                 refuse unless the ruleset is still at generation N\n"
	"                            (as nfpilot list --json reported it)\n"
	"  --timeout S, --detach, --confirm-new-session, --force: the probation, as\n"
	"  for apply:\n"
	"                            it asks on the terminal (no answer reverts)\n"
	"  New rules get a counter unless they have one or --no-counter is given.\n"
	"  In a table iptables-nft manages, TEXT is iptables syntax as iptables -S prints\n"
	"  it ('-p tcp --dport 22 -j ACCEPT', compiled by iptables-nft); nft syntax there\n"
	"  must read back the same in iptables-save, or it is refused.\n";

static bool parse_handle(const char *s, uint64_t *h)
{
	char *end;

	errno = 0;
	*h = strtoull(s, &end, 10);
	return !errno && !*end && *h;
}

/* the rule text of handle h, for a move (read from the kernel) */
static int rule_text(struct nl *nl, const struct reader_scope *scope, uint64_t h,
		     char **text, char *err, size_t errlen)
{
	struct nfp_ruleset rs = { 0 };
	struct ruletext_job job = { .numeric = true };
	int ret = reader_read(nl, scope, &rs, err, errlen);

	if (!ret)
		ret = ruletext_plan(&job, &rs);
	if (!ret && !(ret = ruletext_start(&job)))
		ret = ruletext_wait(&job);
	if (!ret && ruletext_join(&rs, job.text) < 0)
		ret = -ENOMEM;
	if (!ret) {
		struct nfp_rule *r = rs.ntables && rs.tables[0].nchains
					     ? ruleset_find_rule(&rs.tables[0].chains[0], h) : NULL;

		if (!r || !r->text) {
			snprintf(err, errlen, "no rule with handle %" PRIu64 " in chain %s", h,
				 scope->chain);
			ret = -ENOENT;
		} else if (!(*text = strdup(r->text))) {
			snprintf(err, errlen, "out of memory");
			ret = -ENOMEM;
		}
	} else if (!err[0] || ret == -EIO) {
		snprintf(err, errlen, "%s", job.err ? job.errmsg : nl_strerror(ret));
	}
	ruletext_job_free(&job);
	ruleset_free(&rs);
	return ret;
}

int cli_edit(int argc, char **argv)
{
	struct reader_scope scope = { 0 };
	struct changeset cs = { 0 };
	struct probation_opts opts;
	struct probation prob;
	bool counter = true, have_genid = false, printed = false;
	char err[2048] = "", *moved = NULL;
	int ret = 0, failed;
	struct nl nl;

	cli_probation_init(&opts, "nfpilot edit");
	/* the help needs no kernel, and no root */
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(edit_usage, stdout);
			return EXIT_OK;
		}
	ret = nl_open(&nl, err, sizeof(err));
	if (ret)
		return cli_fail(cli_exit_code(ret), "%s", err);
	for (int i = 1; i < argc && !ret; i++) {
		const char *o = argv[i];
		int used = cli_scope_option(argc, argv, i, &scope);

		if (used == 0)
			used = cli_probation_option(argc, argv, i, &opts);
		struct edit e = { 0 };
		int need = 0;

		if (used < 0) {
			ret = -EINVAL;
			printed = true; /* the option said what is wrong */
			break;
		}
		if (used > 0) {
			i += used - 1;
			continue;
		}
		if (strcmp(o, "--no-counter") == 0) {
			counter = false;
			continue;
		}
		if (strcmp(o, "--genid") == 0 && i + 1 < argc) {
			cs.genid = (uint32_t)strtoul(argv[++i], NULL, 10);
			have_genid = true;
			continue;
		}
		if (!scope.table) {
			snprintf(err, sizeof(err), "%s: give -t [FAMILY] TABLE first", o);
			ret = -EINVAL;
			break;
		}
		if (!scope.family) {
			/* the family of the table, which must be unique */
			struct nfp_ruleset rs = { 0 };
			struct reader_scope s = { .table = scope.table, .no_rules = true };

			ret = reader_read(&nl, &s, &rs, err, sizeof(err));
			if (!ret && rs.ntables != 1) {
				snprintf(err, sizeof(err), "table '%s' exists in several families: name one",
					 scope.table);
				ret = -EINVAL;
			}
			if (!ret)
				scope.family = rs.tables[0].family;
			ruleset_free(&rs);
			if (ret && strcmp(o, "--add-table") != 0)
				break;
			if (ret) { /* --add-table of a new name needs its family */
				snprintf(err, sizeof(err), "--add-table needs -t FAMILY TABLE");
				ret = -EINVAL;
				break;
			}
		}
		e.family = scope.family;
		e.table = (char *)scope.table;
		e.chain = (char *)scope.chain;
		if (strcmp(o, "--insert") == 0) {
			e.kind = EDIT_INSERT, e.where = WHERE_TOP, need = 1;
		} else if (strcmp(o, "--append") == 0) {
			e.kind = EDIT_INSERT, e.where = WHERE_APPEND, need = 1;
		} else if (strcmp(o, "--insert-before") == 0 || strcmp(o, "--insert-after") == 0) {
			e.kind = EDIT_INSERT, need = 2;
			e.where = o[9] == 'b' ? WHERE_BEFORE : WHERE_AFTER;
		} else if (strcmp(o, "--replace") == 0) {
			e.kind = EDIT_REPLACE, need = 2;
		} else if (strcmp(o, "--delete") == 0) {
			e.kind = EDIT_DELETE, need = 1;
		} else if (strcmp(o, "--move") == 0) {
			e.kind = EDIT_MOVE, need = 2;
		} else if (strcmp(o, "--policy") == 0) {
			e.kind = EDIT_POLICY, need = 1;
		} else if (strcmp(o, "--add-chain") == 0) {
			e.kind = EDIT_CHAIN_ADD, need = 1;
		} else if (strcmp(o, "--delete-chain") == 0) {
			e.kind = EDIT_CHAIN_DELETE, need = 1;
		} else if (strcmp(o, "--flush-chain") == 0) {
			e.kind = EDIT_CHAIN_FLUSH, need = 1;
		} else if (strcmp(o, "--add-table") == 0) {
			e.kind = EDIT_TABLE_ADD, e.chain = NULL;
		} else {
			fputs(edit_usage, stderr);
			snprintf(err, sizeof(err), "edit: unknown option '%s'", o);
			ret = -EINVAL;
			break;
		}
		if (i + need >= argc) {
			snprintf(err, sizeof(err), "%s needs %d argument%s", o, need,
				 need > 1 ? "s" : "");
			ret = -EINVAL;
			break;
		}
		bool chain_edit = e.kind == EDIT_CHAIN_ADD || e.kind == EDIT_CHAIN_DELETE ||
				  e.kind == EDIT_CHAIN_FLUSH;
		if (chain_edit) {
			e.chain = argv[++i];
			/* an optional base-chain spec follows --add-chain */
			if (e.kind == EDIT_CHAIN_ADD && i + 1 < argc && argv[i + 1][0] != '-')
				e.text = argv[++i];
		} else if (e.kind != EDIT_TABLE_ADD && !e.chain) {
			snprintf(err, sizeof(err), "%s: give -c CHAIN first", o);
			ret = -EINVAL;
			break;
		}
		if (e.kind == EDIT_POLICY) {
			const char *p = argv[++i];

			e.policy = strcmp(p, "accept") == 0 ? NF_ACCEPT
				   : strcmp(p, "drop") == 0 ? NF_DROP : -1;
			if (e.policy < 0) {
				snprintf(err, sizeof(err), "policy must be accept or drop, not '%s'", p);
				ret = -EINVAL;
				break;
			}
		} else if (e.kind == EDIT_REPLACE || e.kind == EDIT_DELETE || e.kind == EDIT_MOVE ||
			   e.where == WHERE_BEFORE || e.where == WHERE_AFTER) {
			uint64_t *h = e.kind == EDIT_INSERT ? &e.anchor : &e.handle;

			if (!parse_handle(argv[++i], h)) {
				snprintf(err, sizeof(err), "%s: bad rule handle '%s'", o, argv[i]);
				ret = -EINVAL;
				break;
			}
		}
		if (e.kind == EDIT_MOVE) {
			const char *w = argv[++i];
			struct reader_scope rs = scope;

			e.where = strcmp(w, "before") == 0 ? WHERE_BEFORE
				  : strcmp(w, "after") == 0 ? WHERE_AFTER
				  : strcmp(w, "top") == 0 ? WHERE_TOP : WHERE_APPEND;
			if (strcmp(w, "bottom") != 0 && e.where == WHERE_APPEND) {
				snprintf(err, sizeof(err), "--move H before|after|top|bottom [A]");
				ret = -EINVAL;
				break;
			}
			if ((e.where == WHERE_BEFORE || e.where == WHERE_AFTER) &&
			    (i + 1 >= argc || !parse_handle(argv[++i], &e.anchor))) {
				snprintf(err, sizeof(err), "--move %s needs a rule handle", w);
				ret = -EINVAL;
				break;
			}
			ret = rule_text(&nl, &rs, e.handle, &moved, err, sizeof(err));
			if (ret)
				break;
			e.text = moved; /* moved as it is where possible */
		} else if (e.kind == EDIT_INSERT || e.kind == EDIT_REPLACE) {
			e.text = argv[++i];
			e.add_counter = counter;
		}
		/* the changeset keeps copies of the edit's strings */
		ret = changeset_add(&cs, &e);
		free(moved);
		moved = NULL;
		if (ret)
			snprintf(err, sizeof(err), "%s: %s", o, strerror(-ret));
	}
	if (!ret && !cs.n) {
		snprintf(err, sizeof(err), "no edit given (nfpilot edit --help)");
		ret = -EINVAL;
	}
	if (!ret && !have_genid && (ret = nl_genid(&nl, &cs.genid)))
		snprintf(err, sizeof(err), "reading the ruleset generation: %s", nl_strerror(ret));
	if (ret) {
		int code = ret == -EINVAL ? EXIT_USAGE : cli_exit_code(ret);

		changeset_free(&cs);
		nl_close(&nl);
		/* never an exit without a word of why */
		if (printed)
			return code;
		return cli_fail(code, "%s", err[0] ? err : nl_strerror(ret));
	}
	ret = apply_changeset_on_probation(&nl, &cs, &opts, &prob, &failed, err, sizeof(err));
	if (ret) {
		if (!err[0])
			snprintf(err, sizeof(err), "%s", nl_strerror(ret));
		if (failed >= 0) {
			char *edit = NULL;
			size_t elen = 0;
			FILE *mem = open_memstream(&edit, &elen);

			if (mem) {
				changeset_print_edit(mem, &cs, (size_t)failed);
				fclose(mem);
			}
			/* the edit names the kernel's table and chain: made safe */
			cli_fail(0, "edit %d of %zu failed, nothing was changed: %s%s", failed + 1,
				 cs.n, edit ? edit : "", edit ? "" : "\n");
			cli_fail(0, "%s", err);
			free(edit);
		} else {
			cli_fail(0, "nothing was changed: %s%s", err, cli_probation_hint(ret));
		}
		ret = ret == -ERESTART ? EXIT_FAIL : cli_exit_code(ret);
	} else {
		char *text = changeset_text(&cs);

		printf("applied %zu edit%s as one transaction:\n", cs.n, cs.n == 1 ? "" : "s");
		fputs(text ? text : "", stdout);
		cli_json_change(text);
		free(text);
		nl_close(&nl);
		ret = cli_probation_finish(&prob, &opts);
	}
	changeset_free(&cs);
	nl_close(&nl);
	return ret;
}
