#include "apply/inverse.h"
#include "util/grow.h"

#include "nft/elemkeys.h"

#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool same_table(const struct edit *e, uint32_t family, const char *name)
{
	return e->family == family && strcmp(e->table, name) == 0;
}

static bool same_chain(const struct edit *e, const char *chain)
{
	return e->chain && strcmp(e->chain, chain) == 0;
}

/* Did the changeset make this chain (rules in it need no steps)? */
static bool made_chain(const struct changeset *cs, uint32_t family, const char *table,
		       const char *chain)
{
	return changeset_makes(cs, EDIT_TABLE_ADD, family, table, NULL) ||
	       changeset_makes(cs, EDIT_CHAIN_ADD, family, table, chain);
}

/* Where steps would not do, for a table: the whole of it. */
static bool needs_whole(const struct changeset *cs, uint32_t family, const char *table)
{
	for (size_t i = 0; i < cs->n; i++) {
		const struct edit *e = &cs->edits[i];

		if (!same_table(e, family, table))
			continue;
		/* a set made: no step deletes one */
		if (e->kind == EDIT_CHAIN_DELETE || e->kind == EDIT_TABLE_ADD ||
		    e->kind == EDIT_SET_ADD)
			return true;
		/* a chain binding takes no rule put back by name */
		if (e->chain && strncmp(e->chain, "__chain", 7) == 0)
			return true;
		/* rules added, then flushed: their handles never exist */
		if (e->kind == EDIT_CHAIN_FLUSH)
			for (size_t k = 0; k < i; k++)
				if (same_table(&cs->edits[k], family, table) &&
				    same_chain(&cs->edits[k], e->chain) &&
				    (cs->edits[k].kind == EDIT_INSERT || cs->edits[k].kind == EDIT_MOVE))
					return true;
	}
	return false;
}

/* ---- what a rule takes along ---- */

struct refs {
	struct nl *nl;
	uint32_t family;
	const char *table;
	struct undo_step *st;
	bool binding;        /* it jumps to a chain binding: steps would not do */
	int err;
};

static int chain_flags_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (!c || nftnl_chain_nlmsg_parse(nlh, c) < 0) {
		if (c)
			nftnl_chain_free(c);
		return MNL_CB_ERROR;
	}
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_FLAGS))
		*(uint32_t *)data = nftnl_chain_get_u32(c, NFTNL_CHAIN_FLAGS);
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY))
		((uint32_t *)data)[1] = nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) + 1;
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

/* A chain's flags and policy (+1, 0 when it has none). */
static int chain_info(struct nl *nl, uint32_t family, const char *table, const char *chain,
		      uint32_t info[2])
{
	struct nlmsghdr *req = nl_request(nl, NFT_MSG_GETCHAIN, family, NLM_F_ACK);

	info[0] = info[1] = 0;
	mnl_attr_put_strz(req, NFTA_CHAIN_TABLE, table);
	mnl_attr_put_strz(req, NFTA_CHAIN_NAME, chain);
	return nl_talk(nl, req, chain_flags_cb, info);
}

/* Does the rule jump to a chain binding (steps would not do)? */
static int refs_cb(struct nftnl_expr *e, void *data)
{
	struct refs *r = data;

	if (!r->err && strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "immediate") == 0 &&
	    nftnl_expr_is_set(e, NFTNL_EXPR_IMM_CHAIN)) {
		uint32_t info[2];

		r->err = chain_info(r->nl, r->family, r->table,
				    nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN), info);
		r->binding = r->binding || (info[0] & NFT_CHAIN_BINDING);
	}
	return 0;
}

/* ---- one table ---- */

struct build {
	struct nl *nl;
	const struct changeset *cs;
	struct nftnl_set *const *elems; /* compiled elements of each edit */
	struct snap_table *t;        /* the delta being built */
	struct snap_table rules;     /* the chains dumped, as they are */
	bool whole;                  /* steps would not do after all */
};

/* Step st takes rule r (it is the step's now) and what it uses. */
static int take_rule(struct build *b, struct undo_step *st, struct nftnl_rule *r)
{
	struct refs refs = { b->nl, b->t->family, b->t->name, st, false, 0 };

	st->rule = r;
	st->handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
	nftnl_expr_foreach(r, refs_cb, &refs);
	b->whole = b->whole || refs.binding;
	return refs.err ? refs.err
			: snapshot_get_rule_sets(b->nl, b->t->family, b->t->name, r, &st->sets,
						 &st->nsets, &st->sets_cap);
}

static bool dumped(const struct build *b, const char *chain, size_t *from, size_t *to)
{
	*from = *to = 0;
	for (size_t i = 0; i < b->rules.nrules; i++) {
		if (strcmp(nftnl_rule_get_str(b->rules.rules[i], NFTNL_RULE_CHAIN), chain) != 0)
			continue;
		if (*to == 0)
			*from = i;
		*to = i + 1;
	}
	return *to > 0;
}

/* Is the rule `handle` of chain removed by the changeset (deleted, moved,
 * flushed)? */
static bool removed(const struct changeset *cs, const struct snap_table *t, const char *chain,
		    uint64_t handle)
{
	for (size_t i = 0; i < cs->n; i++) {
		const struct edit *e = &cs->edits[i];

		if (!same_table(e, t->family, t->name) || !same_chain(e, chain))
			continue;
		if (e->kind == EDIT_CHAIN_FLUSH ||
		    ((e->kind == EDIT_DELETE || e->kind == EDIT_MOVE) && e->handle == handle))
			return true;
	}
	return false;
}

/* The chains whose rules go in order (deleted, moved or flushed ones are
 * put back in their places): dumped, as they are now. */
static int dump_chains(struct build *b)
{
	for (size_t i = 0; i < b->cs->n; i++) {
		const struct edit *e = &b->cs->edits[i];
		size_t from, to;
		int ret;

		if (!same_table(e, b->t->family, b->t->name) ||
		    (e->kind != EDIT_DELETE && e->kind != EDIT_MOVE && e->kind != EDIT_CHAIN_FLUSH) ||
		    dumped(b, e->chain, &from, &to))
			continue;
		ret = snapshot_get_chain_rules(b->nl, &b->rules, e->chain);
		if (ret)
			return ret;
	}
	return 0;
}

/* REPLACE steps: each rule replaced, as it was (once, and not if it also
 * goes: then it is put back whole). */
static int replace_steps(struct build *b)
{
	const struct changeset *cs = b->cs;

	for (size_t i = 0; i < cs->n && !b->whole; i++) {
		const struct edit *e = &cs->edits[i];
		struct nftnl_rule *r = NULL;
		struct undo_step *st;
		bool seen = false;
		int ret;

		if (!same_table(e, b->t->family, b->t->name) || e->kind != EDIT_REPLACE ||
		    removed(cs, b->t, e->chain, e->handle))
			continue;
		for (size_t k = 0; k < i; k++)
			seen = seen || (cs->edits[k].kind == EDIT_REPLACE &&
					same_table(&cs->edits[k], b->t->family, b->t->name) &&
					same_chain(&cs->edits[k], e->chain) &&
					cs->edits[k].handle == e->handle);
		if (seen)
			continue;
		ret = snapshot_get_rule(b->nl, b->t->family, b->t->name, e->chain, e->handle, &r);
		if (ret)
			return ret;
		st = snapshot_add_step(b->t, UNDO_REPLACE, e->chain);
		if (!st) {
			nftnl_rule_free(r);
			return -ENOMEM;
		}
		ret = take_rule(b, st, r);
		if (ret)
			return ret;
	}
	return 0;
}

/* ADDRULE steps: the rules that go, put back in chain order, each after
 * the rule before it (or after its own step, when that one goes too). */
static int addrule_steps(struct build *b)
{
	const char *prev_chain = NULL;
	uint64_t prev = 0;
	bool prev_removed = false;

	for (size_t i = 0; i < b->rules.nrules && !b->whole; i++) {
		struct nftnl_rule *r = b->rules.rules[i];
		const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
		uint64_t h = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
		bool same = prev_chain && strcmp(prev_chain, chain) == 0;
		bool gone = removed(b->cs, b->t, chain, h);
		struct undo_step *st;
		int ret;

		prev_chain = chain;
		if (!gone) {
			prev = h;
			prev_removed = false;
			continue;
		}
		st = snapshot_add_step(b->t, UNDO_ADDRULE, chain);
		if (!st)
			return -ENOMEM;
		if (same && !prev_removed)
			st->after = prev;
		else if (same)
			st->after_step = (long)b->t->nsteps - 2; /* the step just before */
		prev = h;
		prev_removed = true;
		/* the step takes the rule over (its chain name stays ours: the
		 * step has its own copy) */
		ret = take_rule(b, st, r);
		prev_chain = st->chain;
		b->rules.rules[i] = NULL;
		if (ret)
			return ret;
	}
	return 0;
}

/* POLICY and DELCHAIN steps, in the order of the edits. */
static int chain_steps(struct build *b)
{
	const struct changeset *cs = b->cs;

	for (size_t i = 0; i < cs->n; i++) {
		const struct edit *e = &cs->edits[i];
		struct undo_step *st;
		bool seen = false;
		uint32_t info[2];
		int ret;

		if (!same_table(e, b->t->family, b->t->name))
			continue;
		if (e->kind == EDIT_CHAIN_ADD) {
			if (!snapshot_add_step(b->t, UNDO_DELCHAIN, e->chain))
				return -ENOMEM;
			continue;
		}
		if (e->kind != EDIT_POLICY || made_chain(cs, e->family, e->table, e->chain))
			continue;
		for (size_t k = 0; k < i; k++)
			seen = seen || (cs->edits[k].kind == EDIT_POLICY &&
					same_table(&cs->edits[k], e->family, e->table) &&
					same_chain(&cs->edits[k], e->chain));
		if (seen)
			continue;
		ret = chain_info(b->nl, e->family, e->table, e->chain, info);
		if (ret)
			return ret;
		if (!info[1])
			continue; /* no policy: the kernel refuses the edit */
		/* the last policy edit of the chain is the one in force */
		int last = e->policy;

		for (size_t k = i + 1; k < cs->n; k++)
			if (cs->edits[k].kind == EDIT_POLICY &&
			    same_table(&cs->edits[k], e->family, e->table) &&
			    same_chain(&cs->edits[k], e->chain))
				last = cs->edits[k].policy;
		if ((int)info[1] - 1 == last)
			continue; /* as it is: nothing to undo */
		st = snapshot_add_step(b->t, UNDO_POLICY, e->chain);
		if (!st)
			return -ENOMEM;
		st->policy = (int)info[1] - 1;
	}
	return 0;
}

static bool elem_edit(const struct edit *e)
{
	return e->kind == EDIT_ELEM_ADD || e->kind == EDIT_ELEM_DELETE ||
	       e->kind == EDIT_SET_FLUSH;
}

/* A step of kind on set that takes the elements *elems over. */
static int elems_step(struct build *b, enum undo_kind kind, const char *set,
		      struct nftnl_set **elems)
{
	struct undo_step *st = snapshot_add_step(b->t, kind, set);

	if (!st || !(st->sets = calloc(1, sizeof(*st->sets))))
		return -ENOMEM;
	st->sets[0] = *elems;
	st->nsets = st->sets_cap = 1;
	*elems = NULL;
	return 0;
}

/* DELELEMS and ADDELEMS steps for the set of edit `first`, the first
 * element edit of that set: what its edits add goes, what they touch
 * comes back as it was. */
static int set_steps(struct build *b, size_t first)
{
	const struct changeset *cs = b->cs;
	const char *set = cs->edits[first].set;
	struct elemkeys added = { 0 }, touched = { 0 };
	struct nftnl_set *before = NULL, *gone = NULL;
	int ret = 0;

	for (size_t i = first; i < cs->n && !ret; i++) {
		const struct edit *e = &cs->edits[i];

		if (!same_table(e, b->t->family, b->t->name) || !elem_edit(e) ||
		    strcmp(e->set, set) != 0)
			continue;
		if (e->kind == EDIT_SET_FLUSH) {
			touched.all = true;
			continue;
		}
		if (!b->elems[i])
			return -EIO;
		ret = elemkeys_add_set(&touched, b->elems[i], true);
		if (!ret && e->kind == EDIT_ELEM_ADD)
			ret = elemkeys_add_set(&added, b->elems[i], true);
	}
	if (!ret && added.n && !(gone = elemkeys_set(&added, b->t->family, b->t->name, set)))
		ret = -ENOMEM;
	if (!ret)
		ret = elemkeys_read(b->nl, b->t->family, b->t->name, set, &touched, &before);
	if (!ret && before) {
		/* in the order the kernel takes them back, each expiry the
		 * moment it comes (snapshot.h: UNDO_ADDELEMS) */
		struct nftnl_set *ordered = nftnl_set_alloc();

		ret = ordered ? elemkeys_copy_aged(before, (int64_t)elemkeys_now_ms(), ordered)
			      : -ENOMEM;
		nftnl_set_free(before);
		before = ordered;
	}
	if (!ret && gone)
		ret = elems_step(b, UNDO_DELELEMS, set, &gone);
	if (!ret && before)
		ret = elems_step(b, UNDO_ADDELEMS, set, &before);
	if (gone)
		nftnl_set_free(gone);
	if (before)
		nftnl_set_free(before);
	elemkeys_free(&added);
	elemkeys_free(&touched);
	return ret;
}

/* The element steps, a set at a time, in the order the edits name them. */
static int elem_steps(struct build *b)
{
	const struct changeset *cs = b->cs;

	for (size_t i = 0; i < cs->n; i++) {
		const struct edit *e = &cs->edits[i];
		bool seen = false;
		int ret;

		if (!same_table(e, b->t->family, b->t->name) || !elem_edit(e))
			continue;
		for (size_t k = 0; k < i && !seen; k++)
			seen = same_table(&cs->edits[k], e->family, e->table) &&
			       elem_edit(&cs->edits[k]) && strcmp(cs->edits[k].set, e->set) == 0;
		if (!seen && (ret = set_steps(b, i)) != 0)
			return ret;
	}
	return 0;
}

static void rules_free(struct snap_table *t)
{
	for (size_t i = 0; i < t->nrules; i++)
		if (t->rules[i])
			nftnl_rule_free(t->rules[i]);
	free(t->rules);
	t->rules = NULL;
	t->nrules = t->rules_cap = 0;
}

/* The steps undoing cs's edits of table t (t->family, t->name set).
 * *whole: steps would not do. */
static int delta_of(struct nl *nl, const struct changeset *cs, struct nftnl_set *const *elems,
		    struct snap_table *t, bool *whole)
{
	struct build b = { nl, cs, elems, t, { .family = t->family, .name = t->name }, false };
	int ret;

	t->delta = true;
	ret = dump_chains(&b);
	if (!ret)
		ret = replace_steps(&b);
	if (!ret)
		ret = addrule_steps(&b);
	if (!ret)
		ret = chain_steps(&b);
	if (!ret)
		ret = elem_steps(&b);
	rules_free(&b.rules);
	*whole = b.whole;
	return ret;
}

static void table_steps_free(struct snap_table *t)
{
	for (size_t i = 0; i < t->nsteps; i++)
		snapshot_step_free(&t->steps[i]);
	free(t->steps);
	t->steps = NULL;
	t->nsteps = t->steps_cap = 0;
	t->delta = false;
}

int inverse_of(struct nl *nl, const struct changeset *cs, struct nftnl_set *const *elems,
	       struct snapshot *out, char *err, size_t errlen)
{
	struct snap_id *ids = calloc(cs->n + 1, sizeof(*ids));
	struct snapshot whole = { 0 };
	size_t nids = 0;
	uint32_t gen = 0;
	int ret = ids ? nl_genid(nl, &gen) : -ENOMEM;

	memset(out, 0, sizeof(*out));
	if (!ret && gen != cs->genid)
		ret = -ERESTART;
	/* the tables, each once */
	for (size_t i = 0; i < cs->n && !ret; i++) {
		const struct edit *e = &cs->edits[i];
		bool dup = false;

		for (size_t k = 0; k < out->ntables && !dup; k++)
			dup = out->tables[k].family == e->family &&
			      strcmp(out->tables[k].name, e->table) == 0;
		if (dup)
			continue;
		struct snap_table *t = grow_slot(&out->tables, &out->ntables, &out->tables_cap,
						 sizeof(*out->tables), 4);

		if (t)
			t->family = e->family;
		if (!t || !(t->name = strdup(e->table)))
			ret = -ENOMEM;
	}
	for (size_t k = 0; k < out->ntables && !ret; k++) {
		struct snap_table *t = &out->tables[k];
		bool w = needs_whole(cs, t->family, t->name);

		if (!w)
			ret = delta_of(nl, cs, elems, t, &w);
		if (!ret && w) {
			table_steps_free(t);
			ids[nids++] = (struct snap_id){ t->family, t->name };
		}
	}
	/* the tables steps would not do, whole, in the same generation */
	if (!ret && nids)
		ret = snapshot_take(nl, ids, nids, false, &whole, err, errlen);
	for (size_t i = 0; !ret && i < whole.ntables; i++)
		for (size_t k = 0; k < out->ntables; k++) {
			struct snap_table *t = &out->tables[k];

			if (t->delta || t->family != whole.tables[i].family ||
			    strcmp(t->name, whole.tables[i].name) != 0)
				continue;
			free(t->name);
			*t = whole.tables[i];
			memset(&whole.tables[i], 0, sizeof(whole.tables[i]));
		}
	snapshot_free(&whole);
	if (!ret && (ret = nl_genid(nl, &gen)) == 0 && gen != cs->genid)
		ret = -ERESTART;
	free(ids);
	if (ret) {
		snapshot_free(out);
		if (ret == -ERESTART)
			snprintf(err, errlen, "the ruleset changed since the edits were staged");
		else
			snprintf(err, errlen, "reading what the edits change: %s", nl_strerror(ret));
		return ret;
	}
	out->genid = cs->genid;
	return 0;
}
