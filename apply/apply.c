#include "apply/apply.h"

#include "nft/batch.h"
#include "apply/compile.h"
#include "apply/inverse.h"
#include "nft/elemkeys.h"
#include "nft/reader.h"
#include "nft/setread.h"
#include "nft/xtables.h"
#include "model/fmt.h"
#include "model/ruleset.h"
#include "model/setelems.h"
#include "util/grow.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool has_rule_text(const struct edit *e)
{
	return e->kind == EDIT_INSERT || e->kind == EDIT_REPLACE;
}

static bool has_elements(const struct edit *e)
{
	return e->kind == EDIT_ELEM_ADD || e->kind == EDIT_ELEM_DELETE;
}

/* a table, chain or set the changeset makes: rules and elements after it
 * compile where it is */
static bool makes_structure(const struct edit *e)
{
	return e->kind == EDIT_CHAIN_ADD || e->kind == EDIT_TABLE_ADD || e->kind == EDIT_SET_ADD;
}

/* What one table's edits need compiled: its skeleton, the chains the
 * changeset creates there (as nft commands), and the rule texts. */
struct table_job {
	uint32_t family;
	const char *table;
	struct snapshot snap;
	char **pre;
	size_t npre, pre_cap;
	int *pre_edit;           /* edit index of each preparatory command */
	size_t pre_edit_cap;
	struct compile_item *items;
	size_t nitems, items_cap;
	int *item_edit;          /* edit index of each item */
	size_t item_edit_cap;
	struct compiled out;
};

/* The job of e's table (NULL: none). */
static struct table_job *job_of(struct table_job *jobs, size_t njobs, const struct edit *e)
{
	for (size_t k = 0; k < njobs; k++)
		if (jobs[k].family == e->family && strcmp(jobs[k].table, e->table) == 0)
			return &jobs[k];
	return NULL;
}

/* ... made when there is none yet */
static struct table_job *job_for(struct table_job **jobs, size_t *n, size_t *cap,
				 const struct edit *e)
{
	struct table_job *j = job_of(*jobs, *n, e);

	if (j)
		return j;
	j = grow_slot(jobs, n, cap, sizeof(**jobs), 4);
	if (j) {
		j->family = e->family;
		j->table = e->table;
	}
	return j;
}

/* The jobs of cs (*jobs is NULL, *njobs 0: the array is made here). */
static int plan_jobs(const struct changeset *cs, struct table_job **jobs, size_t *njobs)
{
	size_t cap = 0;

	for (size_t i = 0; i < cs->n; i++) {
		const struct edit *e = &cs->edits[i];
		struct table_job *j;

		bool structure = makes_structure(e);

		if (!has_rule_text(e) && !has_elements(e) && !structure)
			continue;
		j = job_for(jobs, njobs, &cap, e);
		if (!j)
			return -ENOMEM;
		/* what the changeset creates must exist where rules compile */
		if (structure) {
			struct changeset one = { .edits = (struct edit *)e, .n = 1 };
			char *cmd = NULL;
			size_t len = 0;
			FILE *fp = open_memstream(&cmd, &len);

			if (!fp || grow(&j->pre, &j->pre_cap, j->npre + 1, sizeof(*j->pre), 4) ||
			    grow(&j->pre_edit, &j->pre_edit_cap, j->npre + 1, sizeof(*j->pre_edit), 4)) {
				if (fp)
					fclose(fp);
				free(cmd);
				return -ENOMEM;
			}
			changeset_print_edit(fp, &one, 0);
			fclose(fp);
			cmd[strcspn(cmd, "\n")] = 0;
			j->pre_edit[j->npre] = (int)i;
			j->pre[j->npre++] = cmd;
			continue;
		}
		if (grow(&j->items, &j->items_cap, j->nitems + 1, sizeof(*j->items), 16) ||
		    grow(&j->item_edit, &j->item_edit_cap, j->nitems + 1, sizeof(*j->item_edit), 16))
			return -ENOMEM;
		j->items[j->nitems] = has_elements(e)
				      ? (struct compile_item){ NULL, e->text, e->set, false, SYNTAX_NFT }
				      : (struct compile_item){ e->chain, e->text, NULL, false, SYNTAX_NFT };
		j->item_edit[j->nitems++] = (int)i;
	}
	return 0;
}

static void jobs_free(struct table_job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < jobs[i].npre; k++)
			free(jobs[i].pre[k]);
		free(jobs[i].pre);
		free(jobs[i].pre_edit);
		free(jobs[i].items);
		free(jobs[i].item_edit);
		snapshot_free(&jobs[i].snap);
		compiled_free(&jobs[i].out);
	}
	free(jobs);
}

/* The compiled rule of edit i, and the job it came from. */
static struct nftnl_rule *compiled_rule(struct table_job *jobs, size_t njobs, int i,
					struct table_job **job)
{
	for (size_t k = 0; k < njobs; k++)
		for (size_t m = 0; m < jobs[k].nitems; m++)
			if (jobs[k].item_edit[m] == i) {
				*job = &jobs[k];
				return jobs[k].out.rules[m];
			}
	return NULL;
}

/* The compiled elements of edit i (NULL: none). */
static struct nftnl_set *compiled_elems(struct table_job *jobs, size_t njobs, int i)
{
	for (size_t k = 0; k < njobs; k++)
		for (size_t m = 0; m < jobs[k].nitems; m++)
			if (jobs[k].item_edit[m] == i)
				return jobs[k].out.elems[m];
	return NULL;
}

/* The chain or set edit e makes (EDIT_CHAIN_ADD, EDIT_SET_ADD), as
 * compiled: a struct nftnl_chain or nftnl_set, NULL if none. */
static void *compiled_made(struct table_job *jobs, size_t njobs, const struct edit *e)
{
	struct table_job *j = job_of(jobs, njobs, e);
	bool set = e->kind == EDIT_SET_ADD;
	size_t n = !j ? 0 : set ? j->out.nnewsets : j->out.nchains;

	for (size_t m = 0; m < n; m++) {
		const char *name = set ? nftnl_set_get_str(j->out.newsets[m], NFTNL_SET_NAME)
				       : nftnl_chain_get_str(j->out.chains[m], NFTNL_CHAIN_NAME);

		if (strcmp(name, set ? e->set : e->chain) == 0)
			return set ? (void *)j->out.newsets[m] : (void *)j->out.chains[m];
	}
	return NULL;
}

/* An anonymous set a compiled rule uses goes into the batch before it,
 * under the name it had in the scratch namespace (free in the live table:
 * compile.c held the names in use there). */
struct set_ctx {
	struct batch *b;
	struct table_job *job;
	uint32_t *next_id;
	int tag;
};

/* The elements of s, in as many messages (type, flags) as they need. */
static void put_elems(struct batch *b, uint32_t family, struct nftnl_set *s, uint16_t type,
		      uint16_t flags, int tag)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	struct nlmsghdr *nlh;

	if (!it)
		b->err = -ENOMEM;
	for (int more = it && nftnl_set_elems_iter_cur(it); more > 0;) {
		nlh = batch_msg(b, type, family, flags);
		more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
		batch_push(b, tag);
	}
	if (it)
		nftnl_set_elems_iter_destroy(it);
}

/* A set and its elements. */
static void put_set(struct batch *b, uint32_t family, struct nftnl_set *s, uint32_t id, int tag)
{
	struct nlmsghdr *nlh;

	nftnl_set_unset(s, NFTNL_SET_HANDLE);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nlh = batch_msg(b, NFT_MSG_NEWSET, family, NLM_F_CREATE | NLM_F_EXCL);
	nftnl_set_nlmsg_build_payload(nlh, s);
	batch_push(b, tag);
	put_elems(b, family, s, NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL, tag);
}

/* Element edits: the compiled elements added (an element there already
 * stays, as nft add element leaves it), or deleted by their keys; a
 * flush is a deletion naming no element. */
static int put_elem_edit(struct batch *b, const struct edit *e, struct nftnl_set *elems, int tag)
{
	struct elemkeys k = { 0 };
	struct nftnl_set *keys;
	struct nlmsghdr *nlh;

	if (e->kind == EDIT_SET_FLUSH) {
		nlh = batch_msg(b, NFT_MSG_DELSETELEM, e->family, 0);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, e->table);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, e->set);
		batch_push(b, tag);
		return b->err;
	}
	if (!elems)
		return -EIO;
	nftnl_set_set_str(elems, NFTNL_SET_TABLE, e->table);
	nftnl_set_set_str(elems, NFTNL_SET_NAME, e->set);
	if (e->kind == EDIT_ELEM_ADD) {
		/* as read back from the scratch namespace: in the form the
		 * kernel takes (elemkeys.h), without nft's marker below the
		 * first range (a set with elements has it, or needs it not:
		 * an interval set refuses it twice) */
		struct nftnl_set *clean = nftnl_set_alloc();

		if (!clean || elemkeys_add_set(&k, elems, true) < 0 ||
		    elemkeys_copy_only(elems, &k, clean) < 0) {
			elemkeys_free(&k);
			if (clean)
				nftnl_set_free(clean);
			return -ENOMEM;
		}
		put_elems(b, e->family, clean, NFT_MSG_NEWSETELEM, NLM_F_CREATE, tag);
		nftnl_set_free(clean);
		elemkeys_free(&k);
		return b->err;
	}
	/* by key only, and not nft's marker below the first range: other
	 * ranges of the set may need it */
	if (elemkeys_add_set(&k, elems, true) < 0 ||
	    !(keys = elemkeys_set(&k, e->family, e->table, e->set))) {
		elemkeys_free(&k);
		return -ENOMEM;
	}
	put_elems(b, e->family, keys, NFT_MSG_DELSETELEM, 0, tag);
	nftnl_set_free(keys);
	elemkeys_free(&k);
	return b->err;
}

static int anon_set_cb(struct nftnl_expr *e, void *data)
{
	struct set_ctx *sc = data;
	const char *name = snapshot_expr_set(e);

	for (size_t k = 0; name && k < sc->job->out.nsets; k++)
		if (strcmp(nftnl_set_get_str(sc->job->out.sets[k], NFTNL_SET_NAME), name) == 0) {
			put_set(sc->b, sc->job->family, sc->job->out.sets[k], ++*sc->next_id,
				sc->tag);
			break;
		}
	return 0;
}

/* ---- moving a rule as it is ----
 * A moved rule keeps its exact netlink form — an iptables-nft rule stays
 * one that iptables reads, and counters keep counting — and takes its
 * anonymous sets along: they go with the deleted rule, and are made again
 * under their own names (a meter's shows in the listing). */

/* by table/chain (and handle) only: DELRULE, DELCHAIN, flush */
static void put_target(struct batch *b, uint16_t type, const struct edit *e, uint64_t handle,
		       int tag)
{
	struct nlmsghdr *nlh = batch_msg(b, type, e->family, 0);

	if (type == NFT_MSG_DELCHAIN) {
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, e->table);
		mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, e->chain);
	} else {
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, e->table);
		mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, e->chain);
		if (handle)
			mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(handle));
	}
	batch_push(b, tag);
}

/* Expressions that end a rule: a verdict (immediate to the verdict
 * register) or a statement that decides the packet's fate. */
static bool is_terminal(struct nftnl_expr *e)
{
	static const char *const ends[] = { "reject", "nat", "masq", "redir", "queue",
					    "fwd", "tproxy", "synproxy", NULL };
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (strcmp(name, "immediate") == 0)
		return nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG) == NFT_REG_VERDICT;
	for (const char *const *p = ends; *p; p++)
		if (strcmp(name, *p) == 0)
			return true;
	return false;
}

/* A counter where the admin would have written it: before the verdict
 * (counting the packets the rule matched), unless it has one. */
static int add_counter(struct nftnl_rule *r)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e, *last = NULL, *ctr;

	if (!it)
		return -ENOMEM;
	while ((e = nftnl_expr_iter_next(it))) {
		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0) {
			nftnl_expr_iter_destroy(it);
			return 0;
		}
		last = e;
	}
	nftnl_expr_iter_destroy(it);
	ctr = nftnl_expr_alloc("counter");
	if (!ctr)
		return -ENOMEM;
	if (last && is_terminal(last)) {
		nftnl_rule_del_expr(last);
		nftnl_rule_add_expr(r, ctr);
		nftnl_rule_add_expr(r, last);
	} else {
		nftnl_rule_add_expr(r, ctr);
	}
	return 0;
}

/* A rule an earlier edit of the batch moved has a new handle that nobody
 * knows yet: an anchor on it names the re-added rule by its ID instead. */
static uint32_t moved_id(const struct changeset *cs, int before, const struct edit *e)
{
	for (int k = before - 1; k >= 0; k--) {
		const struct edit *m = &cs->edits[k];

		if (m->kind == EDIT_MOVE && m->handle == e->anchor && m->family == e->family &&
		    strcmp(m->table, e->table) == 0 && strcmp(m->chain, e->chain) == 0)
			return (uint32_t)k + 1;
	}
	return 0;
}

static int put_rule(const struct changeset *cs, struct batch *b, const struct edit *e,
		    struct nftnl_rule *r, struct table_job *job, uint32_t *next_id, int tag)
{
	struct set_ctx sc = { b, job, next_id, tag };
	uint16_t flags = NLM_F_CREATE;
	struct nlmsghdr *nlh;

	if (!r)
		return -EIO;
	if (e->add_counter && add_counter(r) < 0)
		return -ENOMEM;
	if (job) { /* the anonymous sets of a compiled rule; iptables-nft's
		    * protocol for its xt matches, as a moved rule has it */
		nftnl_expr_foreach(r, anon_set_cb, &sc);
		snapshot_fix_compat(r);
	}
	nftnl_rule_unset(r, NFTNL_RULE_HANDLE);
	nftnl_rule_unset(r, NFTNL_RULE_POSITION);
	if (e->kind == EDIT_REPLACE) {
		flags = NLM_F_REPLACE;
		nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, e->handle);
	} else {
		if (e->where == WHERE_APPEND || e->where == WHERE_AFTER)
			flags |= NLM_F_APPEND;
		if (e->where == WHERE_BEFORE || e->where == WHERE_AFTER) {
			/* a rule staged before this one: its RULE_ID (its tag + 1) */
			uint32_t id = e->anchor_edit ? (uint32_t)e->anchor_edit
						     : moved_id(cs, tag, e);

			if (id)
				nftnl_rule_set_u32(r, NFTNL_RULE_POSITION_ID, id);
			else
				nftnl_rule_set_u64(r, NFTNL_RULE_POSITION, e->anchor);
		}
	}
	nftnl_rule_set_u32(r, NFTNL_RULE_ID, (uint32_t)tag + 1);
	/* a new rule comes back with its handle: the inverse deletes it */
	if (!(flags & NLM_F_REPLACE))
		flags |= NLM_F_ECHO;
	nlh = batch_msg(b, NFT_MSG_NEWRULE, e->family, flags);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	batch_push(b, tag);
	return b->err;
}

static int put_edit(struct nl *nl, const struct changeset *cs, struct batch *b,
		    const struct edit *e, int i, struct table_job *jobs, size_t njobs,
		    uint32_t *next_id)
{
	struct table_job *job = NULL;
	struct nftnl_rule *r = has_rule_text(e) ? compiled_rule(jobs, njobs, i, &job) : NULL;
	struct nlmsghdr *nlh;

	switch (e->kind) {
	case EDIT_INSERT:
	case EDIT_REPLACE:
		return put_rule(cs, b, e, r, job, next_id, i);
	case EDIT_MOVE: {
		struct nftnl_set **sets = NULL;
		struct nftnl_rule *same;
		struct edit keep = *e;
		size_t nsets = 0, sets_cap = 0;
		int ret = snapshot_get_rule(nl, e->family, e->table, e->chain, e->handle, &same);

		if (!ret)
			ret = snapshot_get_rule_sets(nl, e->family, e->table, same, &sets, &nsets,
						     &sets_cap);
		if (!ret) {
			snapshot_fix_compat(same);
			put_target(b, NFT_MSG_DELRULE, e, e->handle, i);
			for (size_t k = 0; k < nsets; k++)
				put_set(b, e->family, sets[k], ++*next_id, i);
			keep.add_counter = false; /* as it was */
			ret = put_rule(cs, b, &keep, same, NULL, next_id, i);
		}
		for (size_t k = 0; k < nsets; k++)
			nftnl_set_free(sets[k]);
		free(sets);
		if (same)
			nftnl_rule_free(same);
		return ret;
	}
	case EDIT_DELETE:
		put_target(b, NFT_MSG_DELRULE, e, e->handle, i);
		break;
	case EDIT_CHAIN_FLUSH:
		put_target(b, NFT_MSG_DELRULE, e, 0, i);
		break;
	case EDIT_CHAIN_DELETE:
		put_target(b, NFT_MSG_DELCHAIN, e, 0, i);
		break;
	case EDIT_POLICY:
		nlh = batch_msg(b, NFT_MSG_NEWCHAIN, e->family, 0);
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, e->table);
		mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, e->chain);
		mnl_attr_put_u32(nlh, NFTA_CHAIN_POLICY, htonl((uint32_t)e->policy));
		batch_push(b, i);
		break;
	case EDIT_CHAIN_ADD: {
		struct nftnl_chain *c = compiled_made(jobs, njobs, e);

		if (!c)
			return -EIO;
		nftnl_chain_unset(c, NFTNL_CHAIN_HANDLE);
		nlh = batch_msg(b, NFT_MSG_NEWCHAIN, e->family, NLM_F_CREATE | NLM_F_EXCL);
		nftnl_chain_nlmsg_build_payload(nlh, c);
		batch_push(b, i);
		break;
	}
	case EDIT_TABLE_ADD:
		nlh = batch_msg(b, NFT_MSG_NEWTABLE, e->family, NLM_F_CREATE | NLM_F_EXCL);
		mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, e->table);
		batch_push(b, i);
		break;
	case EDIT_SET_ADD: {
		struct nftnl_set *s = compiled_made(jobs, njobs, e);

		if (!s)
			return -EIO;
		put_set(b, e->family, s, ++*next_id, i);
		break;
	}
	case EDIT_ELEM_ADD:
	case EDIT_ELEM_DELETE:
	case EDIT_SET_FLUSH:
		return put_elem_edit(b, e, compiled_elems(jobs, njobs, i), i);
	}
	return b->err;
}

/* nft points at the fault in "add rule FAMILY TABLE CHAIN TEXT": keep its
 * message, and re-aim the carets at TEXT as the admin typed it. */
static void aim_error(char *err, size_t errlen, const char *nft_err, const char *text)
{
	const char *line2 = strchr(nft_err, '\n');
	const char *line3 = line2 ? strchr(line2 + 1, '\n') : NULL;
	const char *at = line2 ? strstr(line2 + 1, text) : NULL;

	if (!line3 || !at || at > line3) {
		snprintf(err, errlen, "%s", nft_err);
		return;
	}
	size_t skip = (size_t)(at - (line2 + 1));
	const char *carets = line3 + 1;
	size_t ncar = strcspn(carets, "\n");

	snprintf(err, errlen, "%.*s\n%s\n%.*s", (int)(line2 - nft_err), nft_err, text,
		 ncar > skip ? (int)(ncar - skip) : 0, ncar > skip ? carets + skip : "");
}

/* Element text goes between the braces of one `add element` command:
 * nothing in it may end them or start another command. */
static bool elements_text_ok(const char *text)
{
	bool quoted = false;

	for (const char *p = text; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == '\n' || *p == '\r' || (!quoted && strchr("{};", *p)))
			return false;
	}
	return !quoted;
}

/* The syntax of each rule of j: a chain iptables-nft manages (every chain
 * of its tables, its own chains in a mixed table) takes iptables' (text
 * that begins with an option), or nft's that iptables reads back the same.
 * A table that is not there yet (the changeset makes it) is nft's, but
 * for iptables' words (text that begins with an option). */
static int mark_syntax(struct nl *nl, struct table_job *j)
{
	struct reader_scope scope = { .family = j->family, .table = j->table, .no_rules = true };
	struct nfp_ruleset rs = { 0 };
	char err[256];
	int ret = reader_read(nl, &scope, &rs, err, sizeof(err));
	const struct nfp_table *t = !ret && rs.ntables == 1 ? &rs.tables[0] : NULL;

	if (ret && ret != -ENOENT)
		return ret;
	for (size_t m = 0; m < j->nitems; m++) {
		bool xt = !j->items[m].set && xtables_rule_text(j->items[m].text);

		if (t && !j->items[m].set &&
		    ruleset_chain_iptables(t, ruleset_find_chain(t, j->items[m].chain)))
			j->items[m].syntax = xt ? SYNTAX_IPTABLES : SYNTAX_NFT_XT;
		else if (!t && xt)
			/* iptables' words for a table the changeset makes: made
			 * as iptables-nft makes it (its built-in chain,
			 * compile_builtin_chain), the rule compiled by it */
			j->items[m].syntax = SYNTAX_IPTABLES;
	}
	ruleset_free(&rs);
	return 0;
}

/* Compile job j: its table's skeleton taken, its rules in their syntax.
 * 0, or -errno with err and *failed: the item refused (compiled.failed). */
static int compile_job(struct nl *nl, struct table_job *j, int *failed, char *err,
		       size_t errlen)
{
	struct snap_id id = { j->family, j->table };
	int ret = mark_syntax(nl, j);

	*failed = -1;
	if (ret) {
		snprintf(err, errlen, "reading table %s: %s", j->table, nl_strerror(ret));
		return ret;
	}
	ret = snapshot_take(nl, &id, 1, true, &j->snap, err, errlen);
	if (ret)
		return ret;
	ret = compile_rules(&j->snap.tables[0], (const char *const *)j->pre, j->npre,
			    j->items, j->nitems, &j->out);
	*failed = ret ? j->out.failed : -1;
	if (ret && *failed >= 0 && j->items[*failed].syntax == SYNTAX_NFT)
		aim_error(err, errlen, j->out.err, j->items[*failed].text);
	else if (ret)
		snprintf(err, errlen, "%s", j->out.err);
	return ret;
}

/* Compile the rule text of cs, table by table (nothing sent yet). */
static int prepare(struct nl *nl, const struct changeset *cs, struct table_job **jobs,
		   size_t *njobs, int *failed_edit, char *err, size_t errlen)
{
	int ret;

	*failed_edit = -1;
	for (size_t i = 0; i < cs->n; i++)
		if (has_elements(&cs->edits[i]) && !elements_text_ok(cs->edits[i].text)) {
			*failed_edit = (int)i;
			snprintf(err, errlen, "elements go without braces, semicolons or line "
				 "breaks (but in a quoted comment): '%.200s'", cs->edits[i].text);
			return -EINVAL;
		}
	ret = plan_jobs(cs, jobs, njobs);
	for (size_t k = 0; k < *njobs && !ret; k++) {
		struct table_job *j = &(*jobs)[k];

		int f;

		ret = compile_job(nl, j, &f, err, errlen);
		if (ret)
			*failed_edit = f >= 0 ? j->item_edit[f] : f <= -2 ? j->pre_edit[-2 - f] : -1;
	}
	return ret;
}

/* The one batch of cs from its compiled jobs, guarded by cs->genid:
 * built, not sent. */
static int build(struct nl *nl, const struct changeset *cs, struct table_job *jobs,
		 size_t njobs, struct batch *b, int *failed_edit, char *err, size_t errlen)
{
	uint32_t next_id = 0;
	int ret;

	ret = batch_open(b, cs->genid);
	for (size_t i = 0; i < cs->n && !ret; i++) {
		ret = put_edit(nl, cs, b, &cs->edits[i], (int)i, jobs, njobs, &next_id);
		if (ret) {
			*failed_edit = (int)i;
			snprintf(err, errlen, "building the change failed");
		}
	}
	return ret;
}

int apply_changeset_on_probation(struct nl *nl, const struct changeset *cs,
				 const struct probation_opts *o, struct probation *p,
				 int *failed_edit, char *err, size_t errlen)
{
	struct table_job *jobs = NULL;
	struct snapshot point = { 0 };
	struct batch b = { 0 };
	char *change = NULL;
	size_t njobs = 0;
	bool applied;
	int ret;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	ret = prepare(nl, cs, &jobs, &njobs, failed_edit, err, errlen);
	/* the restore point: the inverse of the edits, read at cs->genid */
	if (!ret) {
		struct nftnl_set **elems = calloc(cs->n + 1, sizeof(*elems));

		for (size_t i = 0; elems && i < cs->n; i++)
			elems[i] = compiled_elems(jobs, njobs, (int)i);
		ret = elems ? inverse_of(nl, cs, elems, &point, err, errlen) : -ENOMEM;
		free(elems);
	}
	if (!ret)
		ret = build(nl, cs, jobs, njobs, &b, failed_edit, err, errlen);
	if (!ret)
		change = changeset_text(cs);
	if (!ret) {
		struct probation_change ch = { .point = &point, .batch = &b,
					       .failed_tag = failed_edit, .text = change };

		ret = probation_apply(nl, &ch, o, p, &applied, err, errlen);
		/* what the kernel's word means for elements */
		if (ret == -EEXIST && *failed_edit >= 0 &&
		    cs->edits[*failed_edit].kind == EDIT_ELEM_ADD)
			snprintf(err, errlen, "set %s: an element given is there already with "
				 "other data, or overlaps one that is (a range set holds an "
				 "address once)", cs->edits[*failed_edit].set);
		else if (ret == -ENOENT && *failed_edit >= 0 &&
			 cs->edits[*failed_edit].kind == EDIT_ELEM_DELETE)
			snprintf(err, errlen, "set %s: an element given is not in it (a range "
				 "goes only as it is in the set)", cs->edits[*failed_edit].set);
	}
	batch_free(&b);
	snapshot_free(&point);
	free(change);
	jobs_free(jobs, njobs);
	return ret;
}
int apply_check_edit(struct nl *nl, const struct changeset *cs, struct edit *e, char *err,
		     size_t errlen)
{
	struct changeset one = { 0 };
	struct edit check = *e;
	struct table_job *jobs = NULL;
	size_t njobs = 0;
	int ret = 0;

	/* a rule is checked on its own, at the end of its chain */
	if (has_rule_text(e)) {
		check.kind = EDIT_INSERT;
		check.where = WHERE_APPEND;
		check.anchor_edit = 0;
	}
	/* the tables, chains and sets cs creates, then the edit */
	for (size_t i = 0; i < cs->n && !ret; i++)
		if (makes_structure(&cs->edits[i]))
			ret = changeset_add(&one, &cs->edits[i]);
	if (!ret)
		ret = changeset_add(&one, &check);
	if (!ret)
		ret = plan_jobs(&one, &jobs, &njobs);
	for (size_t k = 0; k < njobs && !ret; k++) {
		int f;

		ret = compile_job(nl, &jobs[k], &f, err, errlen);
	}
	/* a chain: what nft made of its spec, for the tree */
	if (!ret && e->kind == EDIT_CHAIN_ADD) {
		struct nftnl_chain *c = compiled_made(jobs, njobs, e);

		e->base = c && nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM);
		e->hooknum = e->base ? nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) : 0;
		e->prio = e->base ? (int32_t)nftnl_chain_get_u32(c, NFTNL_CHAIN_PRIO) : 0;
		snprintf(e->type, sizeof(e->type), "%s",
			 e->base ? nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE) ?: "" : "");
		e->policy = e->base && nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY)
				    ? (int)nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY)
				    : NFP_POLICY_NONE;
	}
	jobs_free(jobs, njobs);
	changeset_free(&one);
	return ret;
}

int apply_set_start(struct nl *nl, const struct setelems_set *set, struct compile_set *k,
		     char *err, size_t errlen)
{
	struct snap_id id = { set->family, set->table };
	struct snapshot snap = { 0 };
	int ret = snapshot_take(nl, &id, 1, true, &snap, err, errlen);

	if (!ret && (snap.ntables != 1 || snap.tables[0].absent)) {
		snprintf(err, errlen, "no table %s", set->table);
		ret = -ENOENT;
	}
	if (!ret)
		ret = compile_set_start(k, &snap.tables[0], set->name, err, errlen);
	snapshot_free(&snap);
	return ret;
}

int apply_set_elems(struct compile_set *k, const char *text, bool key_only,
		    struct setelems *into, char *err, size_t errlen)
{
	struct nftnl_set *elems = NULL;
	int ret = compile_set_elems(k, text, key_only, &elems, err, errlen);

	if (!ret && setread_elems(elems, into)) {
		snprintf(err, errlen, "'%s' gives no element of the set", text);
		ret = -EINVAL;
	}
	if (elems)
		nftnl_set_free(elems);
	return ret;
}

int apply_element_key(struct compile_set *k, const struct setelems_set *set, const char *text,
		      uint8_t **key, char *err, size_t errlen)
{
	struct setelems got = { .set = *set };
	char nft[512] = "";
	int ret;

	*key = NULL;
	if (strchr(text, ',') || !elements_text_ok(text)) {
		snprintf(err, errlen, "one element, without braces or commas: '%s'", text);
		return -EINVAL;
	}
	ret = apply_set_elems(k, text, true, &got, nft, sizeof(nft));
	if (ret == -EINVAL)
		aim_error(err, errlen, nft, text);
	else if (ret)
		snprintf(err, errlen, "%s", nft[0] ? nft : "compiling it failed");
	if (!ret && (got.n != 1 || (got.rows[0].flags & SE_CATCHALL))) {
		snprintf(err, errlen, got.n > 1 ? "'%s' is more than one element: give one address"
						: "'%s' gives no key of the set", text);
		ret = -EINVAL;
	}
	/* the element's key (a range's: its start) */
	if (!ret && !(*key = malloc(set->key_len)))
		ret = -ENOMEM;
	if (!ret)
		memcpy(*key, got.keys + got.rows[0].key, set->key_len);
	setelems_free(&got);
	return ret;
}

int apply_elements_file(const char *path, char **text, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "re"), *out;
	char *line = NULL;
	size_t len = 0, cap = 0, n = 0;
	int ret = 0;

	*text = NULL;
	if (!fp) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	out = open_memstream(text, &len);
	while (out && getline(&line, &cap, fp) >= 0) {
		char *t = fmt_trim(line);

		if (*t && *t != '#')
			fprintf(out, "%s%s", n++ ? ", " : "", t);
	}
	free(line);
	fclose(fp);
	if (!out || fclose(out) || !*text) {
		snprintf(err, errlen, "out of memory");
		ret = -ENOMEM;
	} else if (!n) {
		snprintf(err, errlen, "%s: no element in it", path);
		ret = -EINVAL;
	}
	if (ret) {
		free(*text);
		*text = NULL;
	}
	return ret;
}
