#define _GNU_SOURCE /* asprintf */
/* nfpilot edit: the live view's staged edits without the screen. Every
 * edit on the command line goes into one changeset, applied as ONE kernel
 * transaction (apply/apply.h): all of them or none. */
#include "cli/cli.h"

#include "apply/apply.h"
#include "apply/compile.h"
#include "apply/translate.h"
#include "check/lockout.h"
#include "model/fmt.h"
#include "nft/reader.h"
#include "nft/ruletext.h"
#include "nft/xtables.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char edit_usage[] =
	"usage: nfpilot [-N NETNS] edit [--genid N] -t [FAMILY] TABLE [-c CHAIN] EDIT...\n"
	"  all EDITs are applied as one transaction: all of them or none\n"
	"  N is a rule's position in the chain (1 is the first, as nfpilot list and\n"
	"  iptables --line-numbers count them, before any edit of the command);\n"
	"  H is a rule's handle\n"
	"  -c CHAIN                  the chain of the edits that follow\n"
	"  --insert [N] TEXT         insert a rule at the top, or as rule N\n"
	"  --append TEXT             append a rule to the chain\n"
	"  --replace N TEXT          replace rule N\n"
	"  --delete N                delete rule N\n"
	"  --move N before|after|top|bottom [M]   move rule N (it gets a new handle)\n"
	"  --insert-before-handle H TEXT, --insert-after-handle H TEXT,\n"
	"  --replace-handle H TEXT, --delete-handle H,\n"
	"  --move-handle H before|after|top|bottom [A]   the same, by handle\n"
	"  TEXT in iptables words (-p tcp --dport 22 -j ACCEPT) is translated by\n"
	"  iptables-translate in a native table, shown, and staged when confirmed:\n"
	"  --translate               stage translations without asking\n"
	"  --positions               N is a position even where it is another rule's\n"
	"                            handle (refused without it: edit took handles\n"
	"                            in nfpilot 0.1)\n"
	"  --policy accept|drop      set the base chain's policy\n"
	"  --add-chain NAME [SPEC]   create a chain; SPEC: 'type filter hook input\n"
	"                            priority 0; policy accept;' for a base chain\n"
	"  --delete-chain NAME       delete an empty chain\n"
	"  --flush-chain NAME        delete every rule of a chain\n"
	"  --add-table               create the table given with -t\n"
	"  --add-set NAME SPEC       create a set; SPEC: 'type ipv4_addr; flags interval;'\n"
	"  --genid N                 refuse unless the ruleset is still at generation N\n"
	"                            (as nfpilot list --json reported it)\n"
	"  --timeout S, --detach, --confirm-new-session, --force, --ignore-lockout: as\n"
	"  for apply; without --detach it asks on the terminal (no answer reverts)\n"
	"  New rules get a counter unless they have one or --no-counter is given.\n"
	"  In a table iptables-nft manages, TEXT is iptables syntax as iptables -S prints\n"
	"  it ('-p tcp --dport 22 -j ACCEPT', compiled by iptables-nft); nft syntax there\n"
	"  must read back the same in iptables-save, or it is refused. One of iptables'\n"
	"  built-in chains (or its table) not there yet is made as iptables -A makes it.\n";

static bool parse_handle(const char *s, uint64_t *h)
{
	char *end;

	errno = 0;
	*h = strtoull(s, &end, 10);
	return !errno && !*end && *h;
}

/* Positions are read from the chain as it is before the command, all at
 * one generation, and the edits are applied guarded by it: whatever
 * changes the chain in between makes the kernel refuse them. */
struct positions {
	bool any;            /* a position was read: gen is its generation */
	bool sure;           /* --positions: no check against handles */
	uint32_t gen;
};

/* The handle of rule pos (1-based) of scope's chain, for option o. An
 * insert may name pos = rules + 1 (the end: *h = 0). A pos that is also
 * the handle of another rule of the chain is refused unless p->sure: an
 * old script (edit took handles in 0.1) must not delete the wrong
 * rule. 0 or -errno with err filled. */
static int position_handle(struct nl *nl, const struct reader_scope *scope, const char *o,
			   uint64_t pos, bool insert, struct positions *p, uint64_t *h,
			   char *err, size_t errlen)
{
	struct nfp_ruleset rs = { 0 };
	const struct nfp_chain *c;
	int ret = reader_read(nl, scope, &rs, err, errlen);

	if (ret)
		return ret;
	c = &rs.tables[0].chains[0];
	if (p->any && rs.genid != p->gen) {
		snprintf(err, errlen, "%s %" PRIu64 ": the ruleset changed while the positions "
			 "were read; run the command again", o, pos);
		ret = -EAGAIN;
	} else if (insert && pos > c->nrules + 1) {
		snprintf(err, errlen, "%s %" PRIu64 ": chain %s has %zu rule%s; a rule can be "
			 "inserted at 1 to %zu", o, pos, c->name, c->nrules,
			 c->nrules == 1 ? "" : "s", c->nrules + 1);
		ret = -ENOENT;
	} else if (!insert && pos > c->nrules) {
		if (c->nrules)
			snprintf(err, errlen, "%s %" PRIu64 ": chain %s has %zu rule%s; there is "
				 "no rule %" PRIu64, o, pos, c->name, c->nrules,
				 c->nrules == 1 ? "" : "s", pos);
		else
			snprintf(err, errlen, "%s %" PRIu64 ": chain %s has no rules", o, pos,
				 c->name);
		ret = -ENOENT;
	}
	for (size_t i = 0; !ret && !insert && !p->sure && i < c->nrules; i++)
		if (c->rules[i].handle == pos && i + 1 != pos) {
			snprintf(err, errlen, "%s %" PRIu64 ": rule %" PRIu64 " has handle %" PRIu64
				 ", and %" PRIu64 " is the handle of rule %zu; %s took a handle "
				 "in nfpilot 0.1: write %s-handle %" PRIu64 " for that one, "
				 "or add --positions to mean rule %" PRIu64, o, pos, pos,
				 c->rules[pos - 1].handle, pos, i + 1, o, o, pos, pos);
			ret = -EINVAL;
		}
	if (!ret) {
		*h = pos <= c->nrules ? c->rules[pos - 1].handle : 0;
		p->any = true;
		p->gen = rs.genid;
	}
	ruleset_free(&rs);
	return ret;
}

/* iptables' words for a built-in chain of iptables' that is not there
 * (`-t ip filter -c FORWARD` where iptables-nft made no FORWARD yet, or
 * no table filter at all): staged made as iptables-nft makes it at its
 * first rule (apply/compile.h compile_builtin_chain), the table too when
 * it is missing, as `iptables -A FORWARD` would. 1 staged (or staged so
 * before: a rule before this one made it), 0 not such a chain (nothing
 * staged), -errno with err filled. */
static int builtin_chain(struct changeset *cs, const struct reader_scope *scope, bool table,
			 const char *o, char *err, size_t errlen)
{
	struct edit t = { .kind = EDIT_TABLE_ADD, .family = scope->family,
			  .table = (char *)scope->table };
	struct edit c = t;
	const struct edit *before;
	char spec[160], why[512];
	int ret;

	c.kind = EDIT_CHAIN_ADD;
	c.chain = (char *)scope->chain;
	c.text = spec;
	if (!xtables_family(scope->family))
		return 0;
	ret = compile_builtin_chain(scope->family, scope->table, scope->chain, spec,
				    sizeof(spec), why, sizeof(why));
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		snprintf(err, errlen, "%s: asking iptables-nft for its chain %s: %s", o,
			 scope->chain, why);
		return ret;
	}
	if ((before = changeset_makes(cs, EDIT_CHAIN_ADD, c.family, c.table, c.chain)))
		/* made by --add-chain: iptables' only if it is iptables' chain */
		return before->text && strcmp(before->text, spec) == 0;
	if ((!table && !changeset_makes(cs, EDIT_TABLE_ADD, t.family, t.table, NULL) &&
	     (ret = changeset_add(cs, &t))) ||
	    (ret = changeset_add(cs, &c))) {
		snprintf(err, errlen, "%s: %s", o, strerror(-ret));
		return ret;
	}
	printf("%s: iptables-nft makes %s%s %s %s at its first rule: staged with it (%s)\n", o,
	       table ? "" : "table and chain ", ruleset_family_name(scope->family), scope->table,
	       scope->chain, spec);
	return 1;
}

/* iptables words typed for a rule of a native table (apply/translate.h):
 * the nft text iptables-translate makes of them, shown, and staged only
 * when confirmed (--translate, or yes on a terminal). *text is then the
 * translation (malloc'd in *nft). iptables-nft's chains (all of its
 * tables', its own in a mixed table) are not translated: iptables-nft
 * compiles them (apply/apply.h), as iptables-translate's nft text would
 * not read back in iptables there. 0 or -errno with err filled. */
static int translate_words(struct nl *nl, struct changeset *cs, const struct reader_scope *scope,
			   const char *o, bool confirmed, char **text, char **nft, char *err,
			   size_t errlen)
{
	struct reader_scope s = *scope;
	struct nfp_ruleset rs = { 0 };
	const struct nfp_chain *c;
	int ret;

	if (!xtables_rule_text(*text))
		return 0;
	/* the table, if it is there: a table or chain the command makes is
	 * native (apply.c's mark_syntax), its type filter */
	s.chain = NULL;
	s.no_rules = true;
	ret = reader_read(nl, &s, &rs, err, errlen);
	if (ret && ret != -ENOENT)
		return ret;
	c = ret ? NULL : ruleset_find_chain(&rs.tables[0], scope->chain);
	/* a built-in chain of iptables' not made yet: as iptables would */
	if (!c && (ret || rs.tables[0].owner == NFP_OWNER_IPTABLES)) {
		int made = builtin_chain(cs, scope, ret == 0, o, err, errlen);

		if (made) {
			ruleset_free(&rs);
			return made < 0 ? made : 0;
		}
	}
	if (!c && !changeset_makes(cs, ret ? EDIT_TABLE_ADD : EDIT_CHAIN_ADD, scope->family,
				   scope->table, scope->chain)) {
		/* nowhere to go: named_exists says so, nothing translated */
		ruleset_free(&rs);
		return 0;
	}
	if (ret || !ruleset_chain_iptables(&rs.tables[0], c))
		ret = translate_iptables(scope->family, c ? c->type : NULL, *text, nft, err,
					 errlen);
	ruleset_free(&rs);
	if (ret || !*nft)
		return ret;
	printf("%s: iptables words, in nft as iptables-translate writes them:\n  ", o);
	fmt_put_safe(stdout, *nft);
	putchar('\n');
	fflush(stdout);
	if (!confirmed && isatty(STDIN_FILENO)) {
		char answer[16] = "";
		size_t n = 0;

		fputs("Stage the nft rule? [y/N] ", stderr);
		while (n + 1 < sizeof(answer) && read(STDIN_FILENO, answer + n, 1) == 1 &&
		       answer[n] != '\n')
			n++;
		answer[n] = 0;
		confirmed = strcmp(answer, "y") == 0 || strcmp(answer, "yes") == 0;
		if (!confirmed) {
			snprintf(err, errlen, "%s: the translation was not confirmed; nothing was changed", o);
			return -ECANCELED;
		}
	} else if (!confirmed) {
		snprintf(err, errlen, "%s: iptables words are staged only as confirmed: add "
			 "--translate to stage that nft rule", o);
		return -EINVAL;
	}
	*text = *nft;
	return 0;
}

/* What e names must be there, in the kernel or made by an edit before
 * it: else it is refused here, in words, before anything is compiled. 0,
 * or -ENOENT with err filled, or -errno. */
static int named_exists(struct nl *nl, const struct changeset *cs, const struct edit *e,
			const char *o, char *err, size_t errlen)
{
	struct reader_scope s = { .family = e->family, .table = e->table, .no_rules = true };
	struct nfp_ruleset rs = { 0 };
	const char *fam = ruleset_family_name(e->family) ?: "?";
	bool chain = e->chain && e->kind != EDIT_CHAIN_ADD;
	int ret;

	if (e->kind == EDIT_TABLE_ADD ||
	    changeset_makes(cs, EDIT_TABLE_ADD, e->family, e->table, NULL))
		return 0;
	if (chain && changeset_makes(cs, EDIT_CHAIN_ADD, e->family, e->table, e->chain))
		return 0;
	ret = reader_read(nl, &s, &rs, err, errlen);
	if (ret == -ENOENT)
		snprintf(err, errlen, "%s: no table %s %s (--add-table makes it%s)", o, fam, e->table,
			 xtables_family(e->family) ? "; iptables' words into one of iptables' "
			 "built-in chains, such as -c INPUT of table filter, make both as "
			 "iptables does" : "");
	else if (!ret && chain && !ruleset_find_chain(&rs.tables[0], e->chain)) {
		bool adds = e->kind == EDIT_INSERT || e->kind == EDIT_POLICY;

		snprintf(err, errlen, "%s: no chain '%s' in table %s %s%s%s%s", o, e->chain, fam,
			 e->table, adds ? " (--add-chain " : "", adds ? e->chain : "",
			 adds ? " makes it)" : "");
		ret = -ENOENT;
	}
	ruleset_free(&rs);
	return ret;
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
	bool counter = true, have_genid = false, printed = false, translate = false;
	char err[2048] = "", *moved = NULL;
	struct positions pos = { 0 };
	int ret = 0, failed;
	struct nl nl;

	cli_probation_init(&opts, "nfpilot edit");
	/* the help needs no kernel, and no root */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(edit_usage, stdout);
			return EXIT_OK;
		}
		pos.sure |= strcmp(argv[i], "--positions") == 0;
		translate |= strcmp(argv[i], "--translate") == 0;
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
		if (strcmp(o, "--positions") == 0 || strcmp(o, "--translate") == 0)
			continue; /* read before the loop: it applies to every edit */
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
		/* by: the number after the option is a position or a handle */
		enum { BY_NONE, BY_POS, BY_HANDLE } by = BY_NONE;
		size_t olen = strlen(o);
		bool handle_opt = olen > 7 && strcmp(o + olen - 7, "-handle") == 0;
		char base[32];

		snprintf(base, sizeof(base), "%.*s", (int)(handle_opt ? olen - 7 : olen), o);
		if (strcmp(o, "--insert-before") == 0 || strcmp(o, "--insert-after") == 0) {
			snprintf(err, sizeof(err), "%s took a handle in nfpilot 0.1: write "
				 "%s-handle H TEXT, or --insert N TEXT to insert as rule N", o, o);
			ret = -EINVAL;
			break;
		} else if (strcmp(o, "--insert") == 0) {
			e.kind = EDIT_INSERT, e.where = WHERE_TOP, need = 1;
			if (i + 2 < argc && parse_handle(argv[i + 1], &e.anchor))
				by = BY_POS, need = 2; /* --insert N TEXT */
		} else if (strcmp(o, "--append") == 0) {
			e.kind = EDIT_INSERT, e.where = WHERE_APPEND, need = 1;
		} else if (strcmp(o, "--insert-before-handle") == 0 ||
			   strcmp(o, "--insert-after-handle") == 0) {
			e.kind = EDIT_INSERT, need = 2, by = BY_HANDLE;
			e.where = o[9] == 'b' ? WHERE_BEFORE : WHERE_AFTER;
		} else if (strcmp(base, "--replace") == 0) {
			e.kind = EDIT_REPLACE, need = 2, by = handle_opt ? BY_HANDLE : BY_POS;
		} else if (strcmp(base, "--delete") == 0) {
			e.kind = EDIT_DELETE, need = 1, by = handle_opt ? BY_HANDLE : BY_POS;
		} else if (strcmp(base, "--move") == 0) {
			e.kind = EDIT_MOVE, need = 2, by = handle_opt ? BY_HANDLE : BY_POS;
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
		} else if (strcmp(o, "--add-set") == 0) {
			e.kind = EDIT_SET_ADD, e.chain = NULL, need = 2;
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
		} else if (e.kind == EDIT_SET_ADD) {
			e.set = argv[++i];
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
		} else if (by != BY_NONE) {
			uint64_t *h = e.kind == EDIT_INSERT ? &e.anchor : &e.handle;

			if (!parse_handle(argv[++i], h)) {
				snprintf(err, sizeof(err), "%s: bad rule %s '%s'", o,
					 by == BY_POS ? "number" : "handle", argv[i]);
				ret = -EINVAL;
				break;
			}
			if (by == BY_POS) {
				ret = position_handle(&nl, &scope, o, *h, e.kind == EDIT_INSERT, &pos,
						      h, err, sizeof(err));
				if (ret)
					break;
			}
			/* --insert N: before the rule now at N, or at the end */
			if (by == BY_POS && e.kind == EDIT_INSERT)
				e.where = e.anchor ? WHERE_BEFORE : WHERE_APPEND;
		}
		if (e.kind == EDIT_MOVE) {
			const char *w = argv[++i];
			struct reader_scope rs = scope;

			e.where = strcmp(w, "before") == 0 ? WHERE_BEFORE
				  : strcmp(w, "after") == 0 ? WHERE_AFTER
				  : strcmp(w, "top") == 0 ? WHERE_TOP : WHERE_APPEND;
			if (strcmp(w, "bottom") != 0 && e.where == WHERE_APPEND) {
				snprintf(err, sizeof(err), "%s N before|after|top|bottom [M]", o);
				ret = -EINVAL;
				break;
			}
			if ((e.where == WHERE_BEFORE || e.where == WHERE_AFTER) &&
			    (i + 1 >= argc || !parse_handle(argv[++i], &e.anchor))) {
				snprintf(err, sizeof(err), "%s %s needs a rule %s", o, w,
					 by == BY_POS ? "number" : "handle");
				ret = -EINVAL;
				break;
			}
			if (e.anchor && by == BY_POS &&
			    (ret = position_handle(&nl, &scope, o, e.anchor, false, &pos, &e.anchor,
						   err, sizeof(err))))
				break;
			ret = rule_text(&nl, &rs, e.handle, &moved, err, sizeof(err));
			if (ret)
				break;
			e.text = moved; /* moved as it is where possible */
		} else if (e.kind == EDIT_INSERT || e.kind == EDIT_REPLACE) {
			e.text = argv[++i];
			e.add_counter = counter;
			ret = translate_words(&nl, &cs, &scope, o, translate, &e.text, &moved,
					      err, sizeof(err));
			if (ret)
				break;
		}
		if ((ret = named_exists(&nl, &cs, &e, o, err, sizeof(err))))
			break;
		/* the changeset keeps copies of the edit's strings */
		ret = changeset_add(&cs, &e);
		free(moved);
		moved = NULL;
		if (ret)
			snprintf(err, sizeof(err), "%s: %s", o, strerror(-ret));
	}
	free(moved); /* an edit refused after its text was made */
	if (!ret && !cs.n) {
		snprintf(err, sizeof(err), "no edit given (nfpilot edit --help)");
		ret = -EINVAL;
	}
	if (!ret && !have_genid && pos.any)
		cs.genid = pos.gen; /* the positions' generation, or the kernel refuses */
	else if (!ret && !have_genid && (ret = nl_genid(&nl, &cs.genid)))
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
	if ((ret = cli_lockout(&(struct check_change){ .cs = &cs }, &opts))) {
		changeset_free(&cs);
		nl_close(&nl);
		return ret;
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
