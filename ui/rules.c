/* rules: the ruleset screen (key 1) — the tree of tables and chains, the
 * rules of the chain selected with their counters and rates, search,
 * filter, sort by rate, following a jump and coming back, zeroing
 * counters; its editing keys are ui/edit.c's. The rows are the chain as
 * the staged edits leave it (apply/staged.h). */
#define _GNU_SOURCE
#include "ui/view.h"

#include "model/fmt.h"
#include "model/print.h"
#include "nft/xtables.h"
#include "probation/history.h"
#include "util/grow.h"
#include "util/mono.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int rules_height(const struct view *v);

/* ---- what is selected ---- */

/* The table of a tree row: a chain staged in a table of the kernel
 * belongs to that table. */
static const struct nfp_table *row_table(const struct view *v, const struct tree_row *row)
{
	const struct nfp_table *t;

	if (!row->staged)
		return &v->live.rs.tables[row->t];
	t = &v->rules.made.tables[row->t];
	return ruleset_find_table(&v->live.rs, t->family, t->name) ?: t;
}

static const struct nfp_chain *row_chain(const struct view *v, const struct tree_row *row)
{
	const struct nfp_ruleset *rs = row->staged ? &v->rules.made : &v->live.rs;

	return row->c < 0 ? NULL : &rs->tables[row->t].chains[row->c];
}

static const struct tree_row *sel_row(const struct view *v)
{
	const struct rules_view *rv = &v->rules;

	return rv->tree.sel < rv->tree.n ? &rv->rows[rv->tree.sel] : NULL;
}

const struct nfp_table *view_table(const struct view *v)
{
	const struct tree_row *row = sel_row(v);

	return row ? row_table(v, row) : NULL;
}

const struct nfp_chain *view_chain(const struct view *v)
{
	const struct tree_row *row = sel_row(v);

	return row ? row_chain(v, row) : NULL;
}

/* The set of a tree row, or NULL. */
static const struct nfp_set *row_set(const struct view *v, const struct tree_row *row)
{
	return row->set >= 0 ? &v->live.rs.tables[row->t].sets[row->set] : NULL;
}

void view_fill_xt(struct view *v)
{
	struct rules_view *rv = &v->rules;
	const struct tree_row *row = sel_row(v);
	struct nfp_table *t;
	struct nfp_chain *c;
	char *save = NULL, err[256];
	bool need = false;
	uint32_t genid = 0;

	if (!row || row->staged || row->c < 0)
		return;
	t = &v->live.rs.tables[row->t];
	c = &t->chains[row->c];
	for (size_t k = 0; k < c->nrules; k++)
		need |= !c->rules[k].xt_text;
	if (t->owner != NFP_OWNER_IPTABLES || !c->rules_loaded || !need ||
	    nl_genid(&v->live.nl, &genid) || (genid == rv->xt_genid && c == rv->xt_chain))
		return;
	rv->xt_genid = genid;
	rv->xt_chain = c;
	if (xtables_save(t->family, t->name, &save, err, sizeof(err))) {
		view_status(v, ROLE_ERROR, "%s", err);
		return;
	}
	if (xtables_join(t, save) == -ENOMEM)
		view_status(v, ROLE_ERROR, "out of memory");
	else if (c->nrules && !c->rules[0].xt_text)
		view_status(v, ROLE_WARNING, "iptables-save gives chain %s another number of rules "
			    "than nft (changed meanwhile?): its rules are shown as nft's", c->name);
	free(save);
}

/* The selected chain if the kernel has it (not only staged). */
static bool live_chain(const struct view *v, struct live_ref *ref)
{
	const struct tree_row *row = sel_row(v);

	if (!row || row->c < 0 || row->staged)
		return false;
	*ref = (struct live_ref){ row->t, (size_t)row->c };
	return true;
}

const struct nfp_rule *view_rules(const struct view *v, size_t *n, bool *loading)
{
	struct live_ref ref;

	if (!live_chain(v, &ref)) {
		*n = 0;
		*loading = false;
		return NULL;
	}
	return live_rules(&v->live, ref, n, loading);
}

const struct staged_row *view_selected_row(const struct view *v)
{
	const struct rules_view *rv = &v->rules;

	if (rv->rlist.sel >= rv->rlist.n || rv->order[rv->rlist.sel] >= rv->staged.n)
		return NULL;
	return &rv->staged.row[rv->order[rv->rlist.sel]];
}

/* the selected rule of the kernel (NULL on a row a staged edit adds) */
static const struct nfp_rule *selected_rule(const struct view *v)
{
	const struct staged_row *row = view_selected_row(v);

	return row ? row->r : NULL;
}

void view_place(const struct view *v, struct place *p)
{
	const struct rules_view *rv = &v->rules;
	const struct nfp_rule *r = selected_rule(v);

	memset(p, 0, sizeof(*p));
	if (rv->tree.sel >= rv->tree.n)
		return;
	const struct nfp_table *t = view_table(v);
	const struct nfp_chain *c = view_chain(v);

	const struct nfp_set *s = row_set(v, &rv->rows[rv->tree.sel]);

	p->family = t->family;
	snprintf(p->table, sizeof(p->table), "%s", t->name);
	if (c)
		snprintf(p->chain, sizeof(p->chain), "%s", c->name);
	if (s)
		snprintf(p->set, sizeof(p->set), "%s", s->name);
	p->handle = r ? r->handle : 0;
}

/* ---- derived lists ---- */

/* What the staged edits create, as the tree shows it: the tables, and the
 * chains they add (to those or to tables of the kernel), with the hook
 * and policy nft made of their spec when they were staged. */
static void rebuild_made(struct view *v)
{
	struct nfp_ruleset *made = &v->rules.made;
	const struct changeset *cs = &v->cs;

	ruleset_free(made);
	for (size_t i = 0; i < cs->n; i++) {
		const struct edit *e = &cs->edits[i];
		const struct nfp_table *live = ruleset_find_table(&v->live.rs, e->family, e->table);
		struct nfp_table *t;
		struct nfp_chain *c;

		if ((e->kind != EDIT_TABLE_ADD && e->kind != EDIT_CHAIN_ADD) ||
		    (e->kind == EDIT_TABLE_ADD && live) ||
		    (e->kind == EDIT_CHAIN_ADD && live && ruleset_find_chain(live, e->chain)))
			continue;
		t = ruleset_find_table(made, e->family, e->table);
		if (!t && (t = ruleset_add_table(made))) {
			t->family = e->family;
			t->name = strdup(e->table);
		}
		if (!t || !t->name || e->kind == EDIT_TABLE_ADD || ruleset_find_chain(t, e->chain))
			continue;
		c = ruleset_add_chain(t);
		if (!c || !(c->name = strdup(e->chain)))
			continue;
		c->base = e->base;
		c->type = e->base ? strdup(e->type) : NULL;
		c->hooknum = e->hooknum;
		c->prio = e->prio;
		c->policy = e->base ? e->policy : NFP_POLICY_NONE;
		c->rules_loaded = true;
	}
}

/* one row more for each; false on ENOMEM */
static bool add_row(struct rules_view *rv, size_t t, long c, bool staged)
{
	if (grow(&rv->rows, &rv->rows_cap, rv->tree.n + 1, sizeof(*rv->rows), 64))
		return false;
	rv->rows[rv->tree.n++] = (struct tree_row){ t, c, staged, -1 };
	return true;
}

/* The staged chains of table family/name, as rows. */
static void add_made_chains(struct view *v, uint32_t family, const char *name)
{
	struct rules_view *rv = &v->rules;
	const struct nfp_table *t = ruleset_find_table(&rv->made, family, name);

	for (size_t c = 0; t && c < t->nchains; c++)
		add_row(rv, (size_t)(t - rv->made.tables), (long)c, true);
}

static void rebuild_tree(struct view *v)
{
	struct rules_view *rv = &v->rules;
	const struct nfp_ruleset *rs = &v->live.rs;

	rebuild_made(v);
	rv->tree.n = 0;
	for (size_t t = 0; t < rs->ntables; t++) {
		add_row(rv, t, -1, false);
		for (size_t c = 0; c < rs->tables[t].nchains; c++)
			if (!rs->tables[t].chains[c].binding) /* shown in its rule's text */
				add_row(rv, t, (long)c, false);
		add_made_chains(v, rs->tables[t].family, rs->tables[t].name);
		for (size_t k = 0; k < rs->tables[t].nsets; k++)
			if (add_row(rv, t, -1, false))
				rv->rows[rv->tree.n - 1].set = (long)k;
	}
	for (size_t t = 0; t < rv->made.ntables; t++) {
		const struct nfp_table *mt = &rv->made.tables[t];

		if (ruleset_find_table(rs, mt->family, mt->name))
			continue;
		add_row(rv, t, -1, true);
		add_made_chains(v, mt->family, mt->name);
	}
	list_count(&rv->tree, rv->tree.n);
}

static bool rule_matches(const struct nfp_rule *r, const char *pat)
{
	return (r->text && strcasestr(r->text, pat)) ||
	       (r->comment && strcasestr(r->comment, pat));
}

static bool row_matches(const struct staged_row *row, const char *pat)
{
	return (row->text && strcasestr(row->text, pat)) ||
	       (row->r && row->r->comment && strcasestr(row->r->comment, pat));
}

static const struct staged_row *sort_rows;

/* busiest first; rows a staged edit adds (no counters yet) last */
static int cmp_rate(const void *a, const void *b)
{
	const struct nfp_rule *x = sort_rows[*(const size_t *)a].r;
	const struct nfp_rule *y = sort_rows[*(const size_t *)b].r;

	if (!x || !y)
		return !x - !y;
	if (x->rate.pps != y->rate.pps)
		return x->rate.pps < y->rate.pps ? 1 : -1;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	return x->position < y->position ? -1 : x->position > y->position;
}

static void rebuild_order(struct view *v);
static void rebuild_order_keep(struct view *v, uint64_t handle);
static long find_place(const struct view *v, const struct place *p);

/* After the staged edits changed: the tree (a table or chain staged or
 * undone), the same row selected, and the rules pane. */
void view_rebuild(struct view *v)
{
	struct place p;
	long r;

	view_place(v, &p);
	rebuild_tree(v);
	r = find_place(v, &p);
	if (r >= 0)
		v->rules.tree.sel = (size_t)r;
	else if (v->rules.nback) /* a staged chain undone: back where we came from */
		view_goto_place(v, &v->rules.back[--v->rules.nback]);
	rebuild_order(v);
}

void view_go(struct view *v, const struct place *p)
{
	struct rules_view *rv = &v->rules;
	struct place here;

	view_place(v, &here);
	if (!view_goto_place(v, p))
		return;
	if (rv->nback == sizeof(rv->back) / sizeof(rv->back[0]))
		memmove(rv->back, rv->back + 1, sizeof(rv->back) - sizeof(rv->back[0]));
	else
		rv->nback++;
	rv->back[rv->nback - 1] = here;
}

/* The rules pane's order: filtered, maybe sorted by rate; the selected
 * rule stays selected by handle. */
static void rebuild_order(struct view *v)
{
	const struct nfp_rule *sel = selected_rule(v);

	rebuild_order_keep(v, sel ? sel->handle : 0);
}

/* The same, keeping the rule with that handle selected: for after the
 * rules moved in memory, when the old rows must not be looked at. */
static void rebuild_order_keep(struct view *v, uint64_t handle)
{
	struct rules_view *rv = &v->rules;
	size_t n;
	bool loading;
	const struct nfp_chain *c = view_chain(v);
	const struct nfp_rule *rules = view_rules(v, &n, &loading);

	rv->staged.n = 0;
	rv->rlist.n = 0;
	if (c) {
		const struct nfp_table *t = view_table(v);

		if (staged_rows_build(&rv->staged, &v->cs, t->family, t->name, c->name, rules, n))
			return;
	}
	n = rv->staged.n;
	if (grow(&rv->order, &rv->order_cap, n, sizeof(*rv->order), 64))
		return;
	for (size_t i = 0; i < n; i++)
		if (!rv->filter[0] || row_matches(&rv->staged.row[i], rv->filter))
			rv->order[rv->rlist.n++] = i;
	if (rv->sorted && rv->rlist.n) {
		sort_rows = rv->staged.row;
		qsort(rv->order, rv->rlist.n, sizeof(*rv->order), cmp_rate);
	}
	if (handle)
		for (size_t k = 0; k < rv->rlist.n; k++)
			if (rv->staged.row[rv->order[k]].r && rv->staged.row[rv->order[k]].r->handle == handle) {
				rv->rlist.sel = k;
				break;
			}
	list_count(&rv->rlist, rv->rlist.n);
}

static void focus_selected(struct view *v)
{
	struct live_ref ref;

	if (live_chain(v, &ref))
		live_focus(&v->live, ref);
}

/* The tree row of place p, or -1. */
static long find_place(const struct view *v, const struct place *p)
{
	const struct rules_view *rv = &v->rules;

	for (size_t r = 0; r < rv->tree.n; r++) {
		const struct nfp_table *t = row_table(v, &rv->rows[r]);
		const struct nfp_chain *c = row_chain(v, &rv->rows[r]);
		const struct nfp_set *s = row_set(v, &rv->rows[r]);

		if (t->family == p->family && strcmp(t->name, p->table) == 0 &&
		    strcmp(c ? c->name : "", p->chain) == 0 && strcmp(s ? s->name : "", p->set) == 0)
			return (long)r;
	}
	return -1;
}

/* Select the tree row of place p (after a reload, or going back). */
bool view_goto_place(struct view *v, const struct place *p)
{
	struct rules_view *rv = &v->rules;
	long r = find_place(v, p);

	if (r < 0)
		return false;
	rv->tree.sel = (size_t)r;
	focus_selected(v);
	rv->rlist.sel = 0;
	rv->rlist.n = 0;
	rebuild_order(v);
	for (size_t k = 0; p->handle && k < rv->rlist.n; k++) {
		const struct nfp_rule *pr = rv->staged.row[rv->order[k]].r;

		if (pr && pr->handle == p->handle)
			rv->rlist.sel = k;
	}
	return true;
}

static void select_row(struct view *v, size_t r)
{
	struct rules_view *rv = &v->rules;

	if (r >= rv->tree.n)
		return;
	if (r != rv->tree.sel) {
		rv->tree.sel = r;
		rv->rlist.sel = rv->rlist.top = 0;
		rv->hscroll = 0;
		rv->rlist.n = 0;
		focus_selected(v);
	}
	rebuild_order(v);
}

/* ---- counters ---- */

static int tick(struct view *v)
{
	struct rules_view *rv = &v->rules;
	uint64_t handles[512];
	size_t n = 0;
	int h = rules_height(v);
	int ret;

	for (size_t k = rv->rlist.top; k < rv->rlist.n && k < rv->rlist.top + (size_t)h && n < 512; k++)
		if (rv->staged.row[rv->order[k]].r)
			handles[n++] = rv->staged.row[rv->order[k]].r->handle;
	ret = live_tick(&v->live, handles, n, rv->sorted, mono_now());
	if (ret < 0)
		view_status(v, ROLE_ERROR, "%s", v->live.err);
	return ret < 0 ? 0 : ret | LIVE_CHANGED;
}

/* ---- actions ---- */


/* Move the list of the pane with focus (ACT_UP .. ACT_LAST, or the wheel
 * of ev): false if act is none of them. A new tree row opens its chain. */
static bool move_pane(struct view *v, enum action act, const MEVENT *ev)
{
	struct rules_view *rv = &v->rules;
	struct list *l = rv->pane == PANE_TREE ? &rv->tree : &rv->rlist;
	size_t old = rv->tree.sel, r;
	bool moved = ev ? list_wheel(l, ev) : list_action(l, act);

	if (moved && rv->pane == PANE_TREE) {
		r = rv->tree.sel;
		rv->tree.sel = old;
		select_row(v, r);
	}
	return moved;
}

/* "jump NAME" / "goto NAME" in a rule's text: the target chain's name */
static bool jump_target(const char *text, char *out, size_t size)
{
	const char *p = text;

	while (p && *p) {
		const char *j = strstr(p, "jump ");
		const char *g = strstr(p, "goto ");
		const char *k = j && (!g || j < g) ? j : g;
		size_t n = 0;

		if (!k)
			return false;
		if (k != text && k[-1] != ' ') {
			p = k + 5;
			continue;
		}
		k += 5;
		if (*k == '"') {
			k++;
			while (k[n] && k[n] != '"')
				n++;
		} else {
			while (k[n] && !strchr(" ;,}", k[n]))
				n++;
		}
		if (n && n < size) {
			memcpy(out, k, n);
			out[n] = 0;
			return true;
		}
		p = k;
	}
	return false;
}

static void act_enter(struct view *v)
{
	struct rules_view *rv = &v->rules;
	const struct nfp_rule *r;
	char target[NAME_MAX_LEN];

	if (rv->pane == PANE_TREE) {
		const struct nfp_set *s = rv->tree.sel < rv->tree.n
					  ? row_set(v, &rv->rows[rv->tree.sel]) : NULL;

		if (s)
			sets_open(v, view_table(v)->family, view_table(v)->name, s->name);
		else if (rv->tree.sel < rv->tree.n && rv->rows[rv->tree.sel].c < 0)
			move_pane(v, ACT_DOWN, NULL);
		else
			rv->pane = PANE_RULES;
		return;
	}
	r = selected_rule(v);
	if (!r || !r->text || !jump_target(r->text, target, sizeof(target)) || !view_chain(v)) {
		if (view_selected_row(v)) /* a rule that jumps nowhere: it whole */
			view_show(v, &detail_screen);
		return;
	}
	struct place there;
	const struct nfp_table *t = view_table(v);

	there = (struct place){ .family = t->family };
	snprintf(there.table, sizeof(there.table), "%s", t->name);
	snprintf(there.chain, sizeof(there.chain), "%s", target);
	rv->filter[0] = 0;
	if (find_place(v, &there) < 0) {
		view_status(v, ROLE_ERROR, "no chain '%s' in table %s", target, t->name);
		return;
	}
	view_go(v, &there);
}

/* @: the set the selected rule uses (in the tree: the set selected) */
static void open_set(struct view *v)
{
	struct rules_view *rv = &v->rules;
	const struct staged_row *row = view_selected_row(v);
	const struct nfp_table *t = view_table(v);
	char name[NAME_MAX_LEN];

	if (rv->pane == PANE_TREE && rv->tree.sel < rv->tree.n &&
	    row_set(v, &rv->rows[rv->tree.sel])) {
		act_enter(v);
		return;
	}
	if (!t || rv->pane != PANE_RULES || !row || !row->text) {
		view_status(v, ROLE_DIM, "select a rule that uses a set (@name) first");
		return;
	}
	if (!sets_used_by_rule(row->text, name, sizeof(name))) {
		view_status(v, ROLE_WARNING, "this rule uses no named set (@name)");
		return;
	}
	sets_open(v, t->family, t->name, name);
}

static void act_back(struct view *v)
{
	struct rules_view *rv = &v->rules;

	if (rv->nback == 0) {
		rv->pane = PANE_TREE;
		return;
	}
	rv->filter[0] = 0;
	view_goto_place(v, &rv->back[--rv->nback]);
	rv->pane = PANE_RULES;
}

/* The rules of a tree row as search sees them: a loaded chain's, or what
 * has arrived of the one loading. */
static long row_rules(const struct view *v, const struct tree_row *tr,
		      const struct nfp_rule **rules)
{
	size_t n = 0;
	bool loading;

	*rules = NULL;
	if (tr->c >= 0 && !tr->staged)
		*rules = live_rules(&v->live, (struct live_ref){ tr->t, (size_t)tr->c }, &n,
				    &loading);
	return *rules ? (long)n : 0;
}

/* Search: tree rows (table and chain names) and the rules of loaded chains,
 * in tree order, from the selection on, wrapping around. */
static bool search_step(struct view *v, int dir)
{
	struct rules_view *rv = &v->rules;
	const char *pat = rv->search;
	size_t nrows = rv->tree.n;
	long row = (long)rv->tree.sel;
	long rule = rv->pane == PANE_RULES && selected_rule(v) ?
			    (long)(selected_rule(v)->position - 1) : -1;

	if (!pat[0] || !nrows)
		return false;
	for (size_t steps = 0; steps < 4 * nrows + 1;) {
		const struct tree_row *tr = &rv->rows[row];
		const struct nfp_table *t = row_table(v, tr);
		const struct nfp_chain *c = row_chain(v, tr);
		const struct nfp_rule *rules = NULL;
		long nr = row_rules(v, tr, &rules);

		/* advance one position: the row itself (-1), then its rules */
		rule += dir;
		if (rule >= nr || rule < -1) {
			row = (row + dir + (long)nrows) % (long)nrows;
			steps++;
			tr = &rv->rows[row];
			t = row_table(v, tr);
			c = row_chain(v, tr);
			nr = row_rules(v, tr, &rules);
			rule = dir > 0 ? -1 : nr - 1;
		}
		const struct nfp_set *st = row_set(v, tr);
		bool hit = rule < 0 ? strcasestr(st ? st->name : c ? c->name : t->name, pat) != NULL
				    : rule_matches(&rules[rule], pat);
		if (!hit)
			continue;
		select_row(v, (size_t)row);
		if (rule < 0) {
			rv->pane = PANE_TREE;
		} else {
			if (rv->filter[0] && !rule_matches(&rules[rule], rv->filter))
				rv->filter[0] = 0;
			rebuild_order(v);
			for (size_t k = 0; k < rv->rlist.n; k++)
				if (rv->staged.row[rv->order[k]].r == &rules[rule])
					rv->rlist.sel = k;
			rv->pane = PANE_RULES;
		}
		return true;
	}
	return false;
}

static void act_search(struct view *v, int dir)
{
	struct rules_view *rv = &v->rules;

	if (!rv->search[0]) {
		view_status(v, ROLE_DIM, "no search yet: press / first");
		return;
	}
	if (!search_step(v, dir))
		view_status(v, ROLE_WARNING, "'%s' not found", rv->search);
}

static void ask_zero(struct view *v, enum action act)
{
	struct rules_view *rv = &v->rules;
	const struct nfp_chain *c = view_chain(v);
	const struct nfp_rule *r = selected_rule(v);
	const struct nfp_table *t;

	if (rv->tree.sel >= rv->tree.n)
		return;
	if (rv->rows[rv->tree.sel].staged) {
		view_status(v, ROLE_DIM, "only staged: no counters yet");
		return;
	}
	t = view_table(v);
	if (act == ACT_ZERO_TABLE || !c)
		view_ask(v, act, "Zero the counters of every rule in table %s %s?",
			 ruleset_family_name(t->family), t->name);
	else if (rv->pane == PANE_TREE || !r)
		view_ask(v, act, "Zero the counters of every rule in chain %s?", c->name);
	else if (!r->has_counter)
		view_status(v, ROLE_WARNING, "rule %u has no counter", r->position);
	else
		view_ask(v, act, "Zero the counters of rule %u (handle %llu) in chain %s?",
			 r->position, (unsigned long long)r->handle, c->name);
}

static void do_zero(struct view *v)
{
	struct rules_view *rv = &v->rules;
	const struct nfp_chain *c = view_chain(v);
	const struct nfp_rule *r = selected_rule(v);
	size_t t = rv->rows[rv->tree.sel].t;
	char err[256];
	int ret;

	if (v->confirm_for == ACT_ZERO_TABLE || !c)
		ret = live_zero(&v->live, t, NULL, 0, err, sizeof(err));
	else if (rv->pane == PANE_TREE || !r)
		ret = live_zero(&v->live, t, c->name, 0, err, sizeof(err));
	else
		ret = live_zero(&v->live, t, c->name, r->handle, err, sizeof(err));
	if (ret) {
		view_status(v, ROLE_ERROR, "%s", err);
		return;
	}
	v->tick_now = true; /* show the zeros at once */
	view_status(v, ROLE_NORMAL, "counters zeroed");
}

static const double refresh_steps[] = { 0.2, 0.5, 1, 2, 5, 10, 30, 60 };

static void change_refresh(struct view *v, int dir)
{
	size_t n = sizeof(refresh_steps) / sizeof(refresh_steps[0]), i = 0;

	while (i + 1 < n && refresh_steps[i] < v->cfg.refresh - 1e-9)
		i++;
	if (dir < 0 && refresh_steps[i] > v->cfg.refresh + 1e-9 && i > 0)
		i--; /* between two steps: the lower one is "faster" */
	else if (dir < 0 && i > 0)
		i--;
	else if (dir > 0 && i + 1 < n && refresh_steps[i] <= v->cfg.refresh + 1e-9)
		i++;
	view_set_refresh(v, refresh_steps[i]);
	view_status(v, ROLE_NORMAL, "refresh every %.1f s", v->cfg.refresh);
}

static void on_mouse(struct view *v)
{
	struct rules_view *rv = &v->rules;
	MEVENT ev;
	bool in_tree;

	if (getmouse(&ev) != OK)
		return;
	in_tree = rv->tree_shown && ev.x < rv->tree_w;
	if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
		rv->pane = in_tree ? PANE_TREE : PANE_RULES;
		move_pane(v, ACT_NONE, &ev);
		return;
	}
	if (!(ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_RELEASED)))
		return;
	if (in_tree && ev.y >= rv->body_top && ev.y < rv->body_top + rv->body_h) {
		rv->pane = PANE_TREE;
		select_row(v, rv->tree.top + (size_t)(ev.y - rv->body_top));
	} else if (!in_tree && ev.y >= rv->body_top + 2 && ev.y < rv->body_top + rv->body_h) {
		size_t k = rv->rlist.top + (size_t)(ev.y - rv->body_top - 2);

		rv->pane = PANE_RULES;
		if (k < rv->rlist.n)
			rv->rlist.sel = k;
	}
}

static enum redraw rules_key(struct view *v, enum action act, int key)
{
	struct rules_view *rv = &v->rules;

	if (key == KEY_MOUSE) {
		on_mouse(v);
		return REDRAW_ALL;
	}
	if (move_pane(v, act, NULL))
		return REDRAW_ALL;
	switch (act) {
	case ACT_CT_OF_RULE: {
		const struct staged_row *row = view_selected_row(v);

		if (rv->pane != PANE_RULES || !row || !row->text)
			view_status(v, ROLE_DIM, "select a rule first (Tab to the rules)");
		else
			conns_show_rule(v, row->text);
		break;
	}
	case ACT_STALE:
		conns_show_refused(v);
		break;
	case ACT_TRACE: {
		const struct staged_row *row = rv->pane == PANE_RULES ? view_selected_row(v) : NULL;

		if (!view_chain(v))
			view_status(v, ROLE_DIM, "select a chain or a rule first");
		else
			trace_of_rule(v, view_table(v)->family, view_table(v)->name,
				      view_chain(v)->name, row && row->r ? row->text : NULL);
		break;
	}
	case ACT_WHY:
		trace_why(v, NULL);
		break;
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		v->live.dirty = true;
		/* the staged edits now stand on what the reload shows */
		if (v->cs.n && nl_genid(&v->live.nl, &v->cs.genid) == 0)
			view_status(v, ROLE_NORMAL, "reloaded: %zu staged edits kept (v lists them)",
				    v->cs.n);
		break;
	case ACT_PANE:
		rv->pane = rv->pane == PANE_TREE ? PANE_RULES : PANE_TREE;
		if (!rv->tree_shown)
			rv->pane = PANE_RULES;
		break;
	case ACT_ENTER: act_enter(v); break;
	case ACT_OPEN_SET: open_set(v); break;
	case ACT_DETAIL:
		if (view_selected_row(v))
			view_show(v, &detail_screen);
		else
			view_status(v, ROLE_DIM, "select a rule first (Tab to the rules)");
		break;
	case ACT_BACK: act_back(v); break;
	case ACT_SCROLL_RIGHT:
	case ACT_SCROLL_LEFT: {
		int step = (COLS - rv->tree_w) / 3;

		rv->hscroll += act == ACT_SCROLL_RIGHT ? step : -step;
		if (rv->hscroll < 0)
			rv->hscroll = 0;
		break;
	}
	case ACT_IPTABLES:
		rv->xt_view = !rv->xt_view;
		view_fill_xt(v);
		view_status(v, ROLE_NORMAL, rv->xt_view ? "iptables-nft's tables as iptables-save "
			    "prints them (I: as nft does)" : "rules as nft prints them");
		break;
	case ACT_TREE:
		rv->tree_shown = !rv->tree_shown;
		if (!rv->tree_shown)
			rv->pane = PANE_RULES;
		break;
	case ACT_SEARCH:
	case ACT_FILTER:
		view_prompt(v, act, act == ACT_FILTER ? rv->filter : "");
		break;
	case ACT_GOTO_RULE:
		if (!view_chain(v))
			view_status(v, ROLE_DIM, "select a chain first");
		else
			view_prompt(v, act, "");
		break;
	case ACT_SEARCH_NEXT: act_search(v, 1); break;
	case ACT_SEARCH_PREV: act_search(v, -1); break;
	case ACT_SORT:
		rv->sorted = !rv->sorted;
		rebuild_order(v);
		view_status(v, ROLE_NORMAL, rv->sorted ? "sorted by packet rate (# is the real position)"
						 : "real order");
		break;
	case ACT_PAUSE:
		v->paused = !v->paused;
		view_status(v, ROLE_NORMAL, v->paused ? "paused: counters are not refreshed"
						 : "live again");
		break;
	case ACT_FASTER: change_refresh(v, -1); break;
	case ACT_SLOWER: change_refresh(v, 1); break;
	case ACT_ZERO:
	case ACT_ZERO_TABLE: ask_zero(v, act); break;
	case ACT_INSERT: case ACT_ADD_BELOW: case ACT_APPEND: case ACT_EDIT:
	case ACT_DELETE: case ACT_MARK: case ACT_MOVE_UP: case ACT_MOVE_DOWN:
	case ACT_MOVE_TO: case ACT_POLICY: case ACT_CHAIN_ADD: case ACT_CHAIN_DELETE:
	case ACT_CHAIN_FLUSH: case ACT_TABLE_ADD: case ACT_SET_ADD: case ACT_BLOCK:
	case ACT_ALLOW_PORT:
	case ACT_EFFECT_FIX:
	case ACT_COUNTER_DEFAULT: case ACT_UNDO: case ACT_REDO: case ACT_PENDING:
	case ACT_APPLY: case ACT_DISCARD:
		edit_action(v, act);
		break;
	default:
		return REDRAW_NONE;
	}
	return REDRAW_ALL;
}

/* ---- drawing ---- */

static const char *hook_short(uint32_t family, const struct nfp_chain *c)
{
	const char *h = ruleset_hook_name(family, c->hooknum);

	if (!h)
		return "?";
	if (strcmp(h, "prerouting") == 0)
		return "pre";
	if (strcmp(h, "postrouting") == 0)
		return "post";
	if (strcmp(h, "forward") == 0)
		return "fwd";
	if (strcmp(h, "input") == 0)
		return "in";
	if (strcmp(h, "output") == 0)
		return "out";
	return h;
}

static void draw_header(struct view *v)
{
	struct rules_view *rv = &v->rules;
	const struct nfp_ruleset *rs = &v->live.rs;
	size_t nchains = 0, nrules = 0;
	char right[200];

	for (size_t t = 0; t < rs->ntables; t++) {
		nchains += rs->tables[t].nchains;
		for (size_t c = 0; c < rs->tables[t].nchains; c++)
			nrules += rs->tables[t].chains[c].nrules;
	}
	if (draw_banner(v))
		return;
	char staged[32] = "";

	if (v->cs.n)
		snprintf(staged, sizeof(staged), "[%zu staged] ", v->cs.n);
	snprintf(right, sizeof(right), " %s%s%s%s%s%s ",
		 v->other_prob ? "[PROBATION of another session: nfpilot status] " : "",
		 staged, rv->sorted ? "[sorted by rate] " : "",
		 rv->filter[0] ? "[filtered] " : "", v->paused ? "[PAUSED] " : "",
		 safe_saved(v));
	int rw = (int)strlen(right) > 2 && (int)strlen(right) < COLS ? (int)strlen(right) : 0;

	/* far down a long chain each counter read walks the chain: the
	 * kernel's cost, so those are read less often (nft/live.h); the
	 * badges on the right are never overdrawn */
	draw_textf(0, 0, COLS - rw, v->attr[ROLE_HEADER], true,
	     " nfpilot  %s  netns %s  gen %" PRIu32 "  every %.1fs%s  %zu table%s %zu chain%s "
	     "%zu rule%s", v->host, v->netns ? v->netns : "(host)", rs->genid,
	     v->live.counters_every > 0 ? v->live.counters_every : v->cfg.refresh,
	     v->live.counters_every > 0 ? " (far down)" : "", rs->ntables,
	     rs->ntables == 1 ? "" : "s", nchains, nchains == 1 ? "" : "s", nrules,
	     nrules == 1 ? "" : "s");
	if (rw)
		draw_text(0, COLS - rw, rw, right, v->attr[ROLE_HEADER] | A_BOLD, false);
}

/* ---- tree ---- */

/* A tree line's cells: the name (indented for a chain), and a chain's
 * hook, policy and rule count, or a table's owner badge. */
struct tree_cells {
	char name[NAME_MAX_LEN + 8];
	const char *hook;          /* "" for a regular chain */
	char policy[16];           /* "drop*": a staged policy */
	char count[16];            /* or the table's badge */
	enum theme_role role;
};

static void tree_cells(struct view *v, const struct tree_row *row, struct tree_cells *tc)
{
	const struct nfp_table *t = row_table(v, row);
	const struct nfp_chain *c = row_chain(v, row);
	int policy;
	size_t adds = 0;

	const struct nfp_set *s = row_set(v, row);

	memset(tc, 0, sizeof(*tc));
	tc->hook = "";
	if (s) {
		/* a set: its kind where a chain has its hook, its element count */
		snprintf(tc->name, sizeof(tc->name), " @%s", s->name);
		tc->hook = !s->is_map ? (s->flags & NFT_SET_EVAL ? "dyn" : s->flags & NFT_SET_INTERVAL
					 ? "int" : "set") : "map";
		if (s->nelems == NFP_NELEMS_UNKNOWN) /* being counted */
			snprintf(tc->count, sizeof(tc->count), "%s", v->utf8 ? "\u2026" : "..");
		else
			snprintf(tc->count, sizeof(tc->count), "%" PRIu32, s->nelems);
		tc->role = ROLE_DIM;
		return;
	}
	if (!c) {
		snprintf(tc->name, sizeof(tc->name), "%s%s %s", row->staged ? "+" : "",
			 ruleset_family_name(t->family), t->name);
		if (t->mixed)
			snprintf(tc->count, sizeof(tc->count), "[mixed]");
		else if (t->owner_name)
			snprintf(tc->count, sizeof(tc->count), "[%s]",
				 t->owner == NFP_OWNER_IPTABLES ? "ipt" : t->owner_name);
		tc->role = ROLE_TABLE;
		return;
	}
	policy = edit_staged_policy(v, t, c);
	/* + a staged chain, - one staged for deletion, * for a flush */
	snprintf(tc->name, sizeof(tc->name), " %c%s", row->staged ? '+' : edit_chain_mark(v, t, c),
		 c->name);
	for (size_t i = 0; row->staged && i < v->cs.n; i++)
		adds += v->cs.edits[i].kind == EDIT_INSERT && v->cs.edits[i].family == t->family &&
			strcmp(v->cs.edits[i].table, t->name) == 0 &&
			strcmp(v->cs.edits[i].chain, c->name) == 0;
	if (c->rules_loaded)
		snprintf(tc->count, sizeof(tc->count), "%zu", c->nrules + adds);
	else
		snprintf(tc->count, sizeof(tc->count), "%s", v->utf8 ? "\u2026" : "..");
	if (c->base) {
		tc->hook = hook_short(t->family, c);
		if (policy != NFP_POLICY_NONE)
			snprintf(tc->policy, sizeof(tc->policy), "%s%s",
				 ruleset_policy_name(policy) ?: "?", policy != c->policy ? "*" : "");
	}
	tc->role = c->base ? ROLE_BASE_CHAIN : ROLE_CHAIN;
}

/* name cut in its middle to w columns, the marker between its ends: the
 * ends tell DOCKER-ISOLATION-STAGE-1 from -2 */
static void cut_middle(char *out, size_t size, const char *name, int w, bool utf8)
{
	int len = (int)strlen(name);
	int head, tail;

	if (len <= w || w < 3) {
		snprintf(out, size, "%s", name);
		return;
	}
	head = (w - 1) / 2;
	tail = w - 1 - head;
	snprintf(out, size, "%.*s%s%s", head, name, utf8 ? "\u2026" : "~", name + len - tail);
}

/* The tree's columns at this width, each as wide as its widest cell: the
 * name keeps at least 12 columns (or all it needs); the policy goes
 * first, then the hook. */
struct tree_layout {
	int name_w, hook_w, policy_w, count_w;   /* 0: not shown */
};

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

static struct tree_layout tree_layout(struct view *v, int w)
{
	struct rules_view *rv = &v->rules;
	struct tree_layout l = { 0 };
	int need = 0, keep;

	for (size_t r = 0; r < rv->tree.n; r++) {
		struct tree_cells tc;

		tree_cells(v, &rv->rows[r], &tc);
		need = max_int(need, (int)strlen(tc.name));
		l.hook_w = max_int(l.hook_w, tc.hook[0] ? (int)strlen(tc.hook) + 1 : 0);
		l.policy_w = max_int(l.policy_w, tc.policy[0] ? (int)strlen(tc.policy) + 1 : 0);
		if (rv->rows[r].c >= 0 || rv->rows[r].set >= 0)
			l.count_w = max_int(l.count_w, draw_width(tc.count) + 1);
	}
	keep = need < 12 ? need : 12;
	if (keep + l.count_w + l.hook_w + l.policy_w > w)
		l.policy_w = 0;
	if (keep + l.count_w + l.hook_w > w)
		l.hook_w = 0;
	l.name_w = w - l.count_w - l.hook_w - l.policy_w;
	return l;
}

static void draw_tree(struct view *v)
{
	struct rules_view *rv = &v->rules;
	int h = rv->body_h, w = rv->tree_w - 1;
	struct tree_layout l = tree_layout(v, w);

	list_show(&rv->tree, h > 0 ? (size_t)h : 0);
	for (int i = 0; i < h; i++) {
		size_t r = rv->tree.top + i;
		int y = rv->body_top + i, x;
		struct tree_cells tc;
		char name[NAME_MAX_LEN + 8];
		bool sel = r == rv->tree.sel;
		attr_t a, dim;

		if (r >= rv->tree.n) {
			draw_text(y, 0, w, "", v->attr[ROLE_NORMAL], true);
			continue;
		}
		tree_cells(v, &rv->rows[r], &tc);
		a = v->attr[tc.role];
		if (sel)
			a = v->attr[rv->pane == PANE_TREE ? ROLE_SELECTED : ROLE_SELECTED_INACTIVE];
		bool table_row = rv->rows[r].c < 0 && rv->rows[r].set < 0;

		dim = sel ? a : v->attr[table_row ? ROLE_BADGE : ROLE_DIM];
		/* the selected row shows its name whole, over its columns */
		if (sel && (int)strlen(tc.name) > l.name_w) {
			cut_middle(name, sizeof(name), tc.name, w, v->utf8);
			draw_text(y, 0, w, name, a, true);
			continue;
		}
		/* a regular chain's name (a table's) takes the hook and policy
		 * columns (and the count's) too */
		int nw = tc.hook[0] ? l.name_w : !table_row ? w - l.count_w
					       : w - draw_width(tc.count);

		cut_middle(name, sizeof(name), tc.name, nw, v->utf8);
		x = draw_text(y, 0, nw, name, a, true);
		if (tc.hook[0] && l.hook_w)
			x += draw_textf(y, x, l.hook_w, dim, true, " %s", tc.hook);
		if (tc.hook[0] && l.policy_w)
			x += draw_textf(y, x, l.policy_w, dim, true, " %s", tc.policy);
		if (x < w)
			draw_textf(y, x, w - x, dim, true, "%*s", w - x, tc.count);
	}
	attrset(v->attr[ROLE_BORDER]);
	mvvline(rv->body_top, rv->tree_w - 1, ACS_VLINE, h);
}

/* ---- rules ---- */

struct col {
	enum config_column id;
	int w;
	const char *title;
};

/* The widest position and handle of the chain: the # and handle columns
 * grow to hold them whole (a number is never cut). */
struct num_widths {
	int num, handle;
};

static int digits(uint64_t v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

static struct num_widths chain_widths(const struct view *v)
{
	const struct rules_view *rv = &v->rules;
	uint64_t pos = 0, handle = 0;
	struct num_widths w;

	/* every row of the chain, not only those shown: the columns keep
	 * their width while scrolling */
	for (size_t i = 0; i < rv->staged.n; i++) {
		const struct nfp_rule *r = rv->staged.row[i].r;

		if (r && r->position > pos)
			pos = r->position;
		if (r && r->handle > handle)
			handle = r->handle;
	}
	w.num = digits(pos) + 3;       /* mark, staged mark, digits, space */
	w.handle = digits(handle) + 1;
	return w;
}

static int col_width(enum config_column id, const struct num_widths *nw)
{
	switch (id) {
	case COL_NUM: return nw->num > 4 ? nw->num : 4;   /* as wide as the positions */
	case COL_PKTS: case COL_BYTES: return 7;
	case COL_PPS: return 7;
	case COL_BPS: return 7;
	case COL_HISTORY: return 9;
	case COL_HANDLE: return nw->handle > 7 ? nw->handle : 7;
	default: return 0;
	}
}

static const char *col_title(enum config_column id)
{
	switch (id) {
	case COL_NUM: return "#";
	case COL_PKTS: return "pkts";
	case COL_BYTES: return "bytes";
	case COL_PPS: return "pkt/s";
	case COL_BPS: return "B/s";
	case COL_HISTORY: return "history";
	case COL_HANDLE: return "handle";
	default: return "rule";
	}
}

static enum theme_role rule_role(const struct nfp_rule *r)
{
	const char *t = r->text;
	size_t n;

	if (!t)
		return ROLE_DIM;
	if (strstr(t, "jump ") || strstr(t, "goto "))
		return ROLE_RULE_JUMP;
	n = strlen(t);
	/* the verdict ends the rule; a comment may follow it */
	const char *cm = strstr(t, " comment \"");
	if (cm)
		n = (size_t)(cm - t);
	if (n >= 6 && strncmp(t + n - 6, "accept", 6) == 0)
		return ROLE_RULE_ACCEPT;
	if ((n >= 4 && strncmp(t + n - 4, "drop", 4) == 0) || strstr(t, "reject"))
		return ROLE_RULE_DROP;
	return ROLE_RULE;
}

static void fmt_rate(char *buf, size_t size, double v)
{
	if (v > 0 && v < 10)
		snprintf(buf, size, "%.1f", v);
	else
		fmt_human(buf, size, (uint64_t)(v + 0.5));
}

/* text scrolled left by `by` characters (> 0: a marker where it went),
 * into out (which may be text) */
static const char *scrolled(const char *text, int by, bool utf8, char *out, size_t size)
{
	const char *p = text;
	const char *mark = utf8 ? "\u2026" : "<";
	size_t ml = strlen(mark), pl;

	if (by <= 0 || size <= ml + 1)
		return text;
	for (int k = 0; *p && k < by; k++) /* by characters, not bytes */
		for (p++; (*p & 0xc0) == 0x80; p++)
			;
	pl = strlen(p) < size - ml - 1 ? strlen(p) : size - ml - 1;
	memmove(out + ml, p, pl); /* out may be text */
	out[ml + pl] = 0;
	memcpy(out, mark, ml);
	return out;
}

/* Whether the trace screen's entries passed through this rule of the
 * chain shown. */
static bool traced(const struct view *v, uint64_t handle)
{
	const struct nfp_table *t = view_table(v);
	const struct nfp_chain *c = view_chain(v);

	return t && c && trace_passed(v, t->family, t->name, c->name, handle);
}

/* one cell of a rule row; x advances */
static void rule_cell(struct view *v, int y, int *x, int w, const struct col *col,
		      const struct staged_row *row, attr_t base, bool selected)
{
	static const struct nfp_rule none;
	const struct nfp_rule *r = row->r ? row->r : &none;
	char buf[64];
	attr_t num_a = selected ? base : v->attr[ROLE_COUNTER];
	attr_t act_a = selected ? base : v->attr[ROLE_RULE_ACTIVE];
	bool moved = r->rate.moved && !v->paused;

	switch (col->id) {
	case COL_NUM:
		/* the staged mark, then the real position */
		if (row->r)
			draw_textf(y, *x, col->w, row->mark != ' ' && !selected ? v->attr[ROLE_WARNING]
									   : base, true,
			     "%c%c%*" PRIu32 " ", edit_is_marked(v, r->handle) ? '>'
			     : traced(v, r->handle) ? '@' : ' ', row->mark,
			     col->w - 3, r->position);
		else /* "new" where it fits whole (at 80 columns the + says it) */
			draw_textf(y, *x, col->w, selected ? base : v->attr[ROLE_WARNING], true,
			     " %c%*s ", row->mark, col->w - 3, col->w >= 6 ? "new" : "");
		break;
	case COL_PKTS:
	case COL_BYTES:
		if (!row->r) {
			draw_text(y, *x, col->w, "", base, true);
			break;
		}
		if (!r->has_counter) {
			draw_textf(y, *x, col->w, selected ? base : v->attr[ROLE_NO_COUNTER], true,
			     "%*s ", col->w - 1, "-");
			break;
		}
		fmt_human(buf, sizeof(buf), col->id == COL_PKTS ? r->packets : r->bytes);
		draw_textf(y, *x, col->w, moved ? act_a : num_a, true, "%*s ", col->w - 1, buf);
		break;
	case COL_PPS:
	case COL_BPS:
		if (!row->r) {
			draw_text(y, *x, col->w, "", base, true);
			break;
		}
		if (!r->has_counter) {
			draw_textf(y, *x, col->w, selected ? base : v->attr[ROLE_NO_COUNTER], true,
			     "%*s ", col->w - 1, col->id == COL_PPS ? "no" : "ctr");
			break;
		}
		if (r->rate.nhist == 0) {
			draw_textf(y, *x, col->w, base, true, "%*s ", col->w - 1, "");
			break;
		}
		fmt_rate(buf, sizeof(buf), col->id == COL_PPS ? r->rate.pps : r->rate.bps);
		draw_textf(y, *x, col->w, moved ? act_a : (selected ? base : v->attr[ROLE_RATE]), true,
		     "%*s ", col->w - 1, buf);
		break;
	case COL_HISTORY: {
		char spark[3 * RATE_HISTORY + 1];

		/* one scale for the chain: its busiest rule is a full bar */
		rate_spark(&r->rate, (unsigned)(col->w - 1), v->rules.spark_max, v->utf8, spark);
		draw_text(y, *x, col->w, r->has_counter ? spark : "",
		    selected ? base : v->attr[ROLE_SPARK], true);
		break;
	}
	case COL_HANDLE:
		if (row->r)
			draw_textf(y, *x, col->w, selected ? base : v->attr[ROLE_DIM], true,
			     "%*" PRIu64 " ", col->w - 1, r->handle);
		else
			draw_text(y, *x, col->w, "", base, true);
		break;
	case COL_RULE: {
		char text[2048];
		const char *rt = v->rules.xt_view && row->r && row->r->xt_text ? row->r->xt_text
										: row->text;
		struct nfp_rule shown = { .text = (char *)row->text };
		attr_t ta = selected ? base : v->attr[rule_role(&shown)];

		if (row->mark == '-')
			ta = (selected ? base : v->attr[ROLE_DIM]) | A_DIM;
		if (rt)
			snprintf(text, sizeof(text), "%s", rt); /* '-' marks it */
		else
			snprintf(text, sizeof(text), "%s", v->utf8 ? "\u2026" : "...");
		if (r->comment && r->compat && rt == row->text) {
			size_t n = strlen(text);

			snprintf(text + n, sizeof(text) - n, "  /* %s */", r->comment);
		}
		draw_text(y, *x, w, scrolled(text, v->rules.hscroll, v->utf8, text, sizeof(text)),
			  ta, true);
		break;
	}
	case COL_COUNT:
		break;
	}
	*x += col->id == COL_RULE ? w : col->w;
}

static size_t layout_cols(struct view *v, struct col *cols, int width, int *rule_w)
{
	struct num_widths nw = chain_widths(v);
	size_t n = 0;
	int fixed = 0;

	for (size_t i = 0; i < v->cfg.ncolumns; i++) {
		enum config_column id = v->cfg.columns[i];

		cols[n] = (struct col){ id, col_width(id, &nw), col_title(id) };
		fixed += cols[n].w;
		n++;
	}
	/* drop optional columns from the right until the rule text has room
	 * (at 80 columns the counters stay: > and r show the rest) */
	while (width - fixed < 20 && n > 1) {
		size_t drop = n;

		for (size_t i = n; i-- > 0;)
			if (cols[i].id == COL_HISTORY || cols[i].id == COL_BPS ||
			    cols[i].id == COL_HANDLE || cols[i].id == COL_PPS) {
				drop = i;
				break;
			}
		if (drop == n)
			break;
		fixed -= cols[drop].w;
		memmove(&cols[drop], &cols[drop + 1], (n - drop - 1) * sizeof(*cols));
		n--;
	}
	*rule_w = width - fixed;
	if (*rule_w < 1)
		*rule_w = 1;
	return n;
}

static int rules_height(const struct view *v)
{
	return v->rules.body_h - 2; /* title and column titles */
}

static void draw_chain_title(struct view *v, int x, int w, const struct nfp_table *t,
			     const struct nfp_chain *c, size_t n, bool loading)
{
	struct rules_view *rv = &v->rules;
	char hook[160] = "", brief[64] = "", tail[200], title[4][700];
	int policy = edit_staged_policy(v, t, c);
	const char *live = ruleset_policy_name(c->policy) ?: "?";
	const char *pol = ruleset_policy_name(policy) ?: "?";
	bool staged = policy != c->policy;

	if (c->base) {
		print_chain_hook(hook, sizeof(hook), t->family, c);
		snprintf(brief, sizeof(brief), "%s", ruleset_hook_name(t->family, c->hooknum) ?: "?");
		if (c->policy != NFP_POLICY_NONE) {
			size_t l = strlen(hook), b = strlen(brief);

			/* a staged policy next to the live one */
			snprintf(hook + l, sizeof(hook) - l, ", policy %s%s%s", live,
				 staged ? " -> staged " : "", staged ? pol : "");
			snprintf(brief + b, sizeof(brief) - b, ", %s%s%s", live, staged ? " -> " : "",
				 staged ? pol : "");
		}
	}
	snprintf(tail, sizeof(tail), "  %zu rule%s%s%s%s", n, n == 1 ? "" : "s",
		 loading ? "  loading..." : "", rv->filter[0] ? "  filter: " : "", rv->filter);
	/* the longest that fits: the chain's name first, whole */
	snprintf(title[0], sizeof(title[0]), " %s %s > %s%s%s%s%s", ruleset_family_name(t->family),
		 t->name, c->name, hook[0] ? "  (" : "", hook, hook[0] ? ")" : "", tail);
	snprintf(title[1], sizeof(title[1]), " %s %s > %s%s%s%s%s", ruleset_family_name(t->family),
		 t->name, c->name, brief[0] ? "  (" : "", brief, brief[0] ? ")" : "", tail);
	snprintf(title[2], sizeof(title[2]), " %s%s%s%s%s", c->name, brief[0] ? "  (" : "", brief,
		 brief[0] ? ")" : "", tail);
	snprintf(title[3], sizeof(title[3]), " %s%s", c->name, tail);
	for (int k = 0; k < 4; k++)
		if (k == 3 || draw_width(title[k]) <= w) {
			draw_text(rv->body_top, x, w, title[k], v->attr[ROLE_TITLE], true);
			break;
		}
}

static void draw_table_summary(struct view *v, int x, int w, const struct nfp_table *t)
{
	struct rules_view *rv = &v->rules;
	int y = rv->body_top, end = rv->body_top + rv->body_h;
	char buf[512];

	draw_textf(y++, x, w, v->attr[ROLE_TITLE], true, " table %s %s  %zu chain%s  %zu set%s%s",
	     ruleset_family_name(t->family), t->name, t->nchains, t->nchains == 1 ? "" : "s",
	     t->nsets, t->nsets == 1 ? "" : "s",
	     rv->rows[rv->tree.sel].staged && rv->rows[rv->tree.sel].c < 0
		     ? "  (staged: W creates it; c adds a chain)" : "");
	if (t->owner == NFP_OWNER_IPTABLES)
		draw_text(y++, x, w, " managed by iptables-nft: rules in iptables syntax "
			  "(-p tcp --dport 22 -j ACCEPT); I shows them so",
		    v->attr[ROLE_WARNING], true);
	else if (t->owner_name)
		draw_textf(y++, x, w, v->attr[ROLE_WARNING], true, " managed by %s", t->owner_name);
	if (t->mixed) {
		const char *start[8];
		int len[8], n;

		ruleset_mixed_words(t, buf, sizeof(buf));
		n = draw_wrap(buf, w - 1, 8, start, len);
		for (int i = 0; i < n && y < end; i++)
			draw_textf(y++, x, w, v->attr[ROLE_WARNING], true, " %.*s", len[i], start[i]);
	}
	draw_text(y++, x, w, "", v->attr[ROLE_NORMAL], true);
	for (size_t i = 0; i < t->nsets && y < end; i++) {
		const struct nfp_set *s = &t->sets[i];

		char count[64];

		snprintf(buf, sizeof(buf), " %s %s  %s  %s", s->is_map ? "map" : "set", s->name,
			 s->key_type ? s->key_type : "", sets_count_text(s, count, sizeof(count)));
		draw_text(y++, x, w, buf, v->attr[ROLE_NORMAL], true);
	}
	if (y < end)
		draw_text(y++, x, w, " Enter or Down opens its chains.", v->attr[ROLE_DIM], true);
	while (y < end)
		draw_text(y++, x, w, "", v->attr[ROLE_NORMAL], true);
}

static void draw_rules(struct view *v)
{
	struct rules_view *rv = &v->rules;
	int x = rv->tree_w, w = COLS - rv->tree_w;
	int h = rules_height(v);
	const struct nfp_chain *c = view_chain(v);
	struct col cols[COL_COUNT];
	size_t ncols, n;
	int rule_w, cx;
	bool loading;

	if (!c) {
		const struct nfp_set *s = rv->tree.sel < rv->tree.n
					  ? row_set(v, &rv->rows[rv->tree.sel]) : NULL;

		if (s) {
			int y = rv->body_top;

			char count[64];

			draw_textf(y++, x, w, v->attr[ROLE_TITLE], true, " %s %s  %s",
			     s->is_map ? "map" : "set", s->name, sets_count_text(s, count, sizeof(count)));
			draw_textf(y++, x, w, v->attr[ROLE_NORMAL], true, " %s%s%s%s%s",
			     s->key_type ? s->key_type : "", s->flags & NFT_SET_INTERVAL ? "  interval" : "",
			     s->flags & NFT_SET_TIMEOUT ? "  timeout" : "",
			     s->flags & NFT_SET_EVAL ? "  dynamic" : "",
			     s->flags & NFT_SET_CONSTANT ? "  constant" : "");
			draw_text(y++, x, w, " Enter opens its elements (the set screen).",
			    v->attr[ROLE_DIM], true);
			while (y < rv->body_top + rv->body_h)
				draw_text(y++, x, w, "", v->attr[ROLE_NORMAL], true);
		} else if (rv->tree.sel < rv->tree.n)
			draw_table_summary(v, x, w, view_table(v));
		else
			for (int i = 0; i < rv->body_h; i++)
				draw_text(rv->body_top + i, x, w, i == 1 ? " no tables: the ruleset is empty" : "",
				    v->attr[ROLE_DIM], true);
		return;
	}
	view_rules(v, &n, &loading);
	if (rv->rows[rv->tree.sel].staged) /* the rules edits add to a staged chain */
		n = rv->staged.n;
	draw_chain_title(v, x, w, view_table(v), c, n, loading);

	ncols = layout_cols(v, cols, w, &rule_w);
	cx = x;
	for (size_t i = 0; i < ncols; i++) {
		int cw = cols[i].id == COL_RULE ? rule_w : cols[i].w;
		bool right = cols[i].id != COL_RULE && cols[i].id != COL_HISTORY;

		if (right)
			draw_textf(rv->body_top + 1, cx, cw, v->attr[ROLE_HEADER], true, "%*s ", cw - 1,
			     cols[i].title);
		else
			draw_textf(rv->body_top + 1, cx, cw, v->attr[ROLE_HEADER], true, "%s", cols[i].title);
		cx += cw;
	}
	if (cx < COLS)
		draw_text(rv->body_top + 1, cx, COLS - cx, "", v->attr[ROLE_HEADER], true);

	list_show(&rv->rlist, h > 0 ? (size_t)h : 0);
	rv->spark_max = 0;
	for (size_t i = 0; i < rv->staged.n; i++) {
		const struct nfp_rule *sr = rv->staged.row[i].r;
		float m = sr ? rate_hist_max(&sr->rate, (unsigned)col_width(COL_HISTORY, NULL) - 1)
			     : 0;

		if (m > rv->spark_max)
			rv->spark_max = m;
	}
	for (int i = 0; i < h; i++) {
		size_t k = rv->rlist.top + i;
		int y = rv->body_top + 2 + i;

		if (k >= rv->rlist.n) {
			const char *msg = "";

			if (i == 0 && rv->rlist.n == 0)
				msg = loading ? " loading rules..." :
				      rv->filter[0] ? " no rule matches the filter" : " no rules";
			draw_text(y, x, w, msg, v->attr[ROLE_DIM], true);
			continue;
		}
		const struct staged_row *row = &rv->staged.row[rv->order[k]];
		bool sel = k == rv->rlist.sel;
		attr_t base = sel ? v->attr[rv->pane == PANE_RULES ? ROLE_SELECTED
								  : ROLE_SELECTED_INACTIVE]
				  : v->attr[ROLE_NORMAL];

		cx = x;
		for (size_t j = 0; j < ncols; j++)
			rule_cell(v, y, &cx, rule_w, &cols[j], row, base, sel);
	}
}


/* ---- the screen ---- */

/* :N: the rule at position N of the chain (the rows of the kernel's
 * rules; the filter is turned off if it hides it) */
static void goto_rule(struct view *v)
{
	struct rules_view *rv = &v->rules;
	char *end;
	long n = strtol(v->input, &end, 10);

	if (*end || n < 1) {
		snprintf(v->input_err, sizeof(v->input_err), "a rule number is a number from 1");
		return;
	}
	v->mode = MODE_BROWSE;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < rv->rlist.n; k++) {
			const struct nfp_rule *r = rv->staged.row[rv->order[k]].r;

			if (r && r->position == (uint32_t)n) {
				list_select(&rv->rlist, k);
				rv->pane = PANE_RULES;
				return;
			}
		}
		if (!rv->filter[0])
			break;
		rv->filter[0] = 0; /* hidden by the filter: show it */
		rebuild_order(v);
	}
	view_status(v, ROLE_WARNING, "no rule %ld in chain %s (%zu rule%s)", n, view_chain(v)->name,
		    rv->staged.n, rv->staged.n == 1 ? "" : "s");
}

static void rules_prompt_done(struct view *v)
{
	struct rules_view *rv = &v->rules;
	size_t n = strlen(v->input);

	if (v->prompt_for == ACT_GOTO_RULE) {
		goto_rule(v);
		return;
	}
	if (v->prompt_for != ACT_FILTER && v->prompt_for != ACT_SEARCH) {
		edit_prompt_done(v);
		return;
	}
	v->mode = MODE_BROWSE;
	if (v->prompt_for == ACT_FILTER) {
		snprintf(rv->filter, sizeof(rv->filter), "%.*s", (int)sizeof(rv->filter) - 1,
			 v->input);
		rv->rlist.sel = 0;
		rebuild_order(v);
		rv->pane = PANE_RULES;
	} else if (n) {
		snprintf(rv->search, sizeof(rv->search), "%.*s", (int)sizeof(rv->search) - 1,
			 v->input);
		act_search(v, 1);
	}
}

static void rules_confirmed(struct view *v)
{
	if (v->confirm_for == ACT_ZERO || v->confirm_for == ACT_ZERO_TABLE)
		do_zero(v);
	else
		edit_confirmed(v);
}

/* The first time: start on the first base chain, where the traffic is,
 * else on the first chain. */
static void rules_enter(struct view *v)
{
	struct rules_view *rv = &v->rules;
	size_t start;

	if (rv->started)
		return;
	rv->started = true;
	rv->tree_shown = true;
	rv->pane = PANE_TREE;
	rebuild_tree(v);
	start = rv->tree.n;
	for (size_t r = rv->tree.n; r-- > 0;) {
		const struct tree_row *row = &rv->rows[r];

		if (row->c >= 0 && (row_chain(v, row)->base || start == rv->tree.n ||
				    !row_chain(v, &rv->rows[start])->base))
			start = r;
	}
	if (start < rv->tree.n)
		select_row(v, start);
	focus_selected(v);
}

static void rules_draw(struct view *v)
{
	struct rules_view *rv = &v->rules;

	/* a third of a narrow terminal, a quarter of a wide one: 22 to 34 */
	int third = COLS < 100 ? COLS / 3 : COLS / 4;

	rv->tree_w = rv->tree_shown ? (third < 34 ? (third > 22 ? third : 22) : 34) : 0;
	rv->body_top = 1;
	rv->body_h = LINES - 2;
	if (rv->xt_view)
		view_fill_xt(v);
	draw_header(v);
	if (rv->tree_shown)
		draw_tree(v);
	draw_rules(v);
}

static void rules_hints(struct view *v)
{
	static const enum action hints[] = { ACT_HELP, ACT_SEARCH, ACT_FILTER, ACT_SORT,
					     ACT_PAUSE, ACT_ZERO, ACT_TREE, ACT_QUIT };

	draw_key_hints(v, hints, sizeof(hints) / sizeof(hints[0]));
}

/* Where we are, by identity, while every pointer is still good: a counter
 * read or a step may reload rules or the whole structure. */
static void save_here(struct view *v)
{
	struct rules_view *rv = &v->rules;
	struct place *here = &rv->here;

	if (rv->here_saved)
		return;
	view_place(v, here);
	if (v->renames && here->handle) {
		/* a revert gave the rules new handles: follow ours */
		uint64_t h = history_renamed(v->renames, here->family, here->table, here->chain,
					     here->handle);

		here->handle = h ? h : here->handle;
	}
	rv->here_saved = true;
}

static enum redraw rules_tick(struct view *v)
{
	save_here(v);
	v->rules.flags |= tick(v);
	return REDRAW_NONE; /* the step draws what the read changed */
}

static enum redraw rules_step(struct view *v)
{
	struct rules_view *rv = &v->rules;
	enum redraw what = REDRAW_NONE;
	int flags, ret;

	save_here(v);
	flags = rv->flags;
	rv->flags = 0;
	rv->here_saved = false;
	ret = live_step(&v->live);
	if (ret < 0) {
		view_status(v, ROLE_ERROR, "%s", v->live.err);
		what = REDRAW_ALL;
	} else {
		flags |= ret;
	}
	if (flags & LIVE_RELOADED) {
		rebuild_tree(v);
		/* where W was pressed, once the kernel has what it made; else
		 * the place before the reload; that gone (its table deleted):
		 * the rows still point into the ruleset just freed */
		if (!(rv->go_applied && view_goto_place(v, &rv->applied)) &&
		    !view_goto_place(v, &rv->here))
			rebuild_order_keep(v, 0);
		rv->go_applied = false;
		free(v->renames);
		v->renames = NULL;
		return REDRAW_ALL;
	}
	if (flags & LIVE_CHANGED) {
		rebuild_order_keep(v, rv->here.handle);
		return REDRAW_ALL;
	}
	return what;
}

static int rules_pollfds(struct view *v, struct pollfd *pfd)
{
	return live_pollfds(&v->live, pfd);
}

static int rules_timeout_ms(const struct view *v)
{
	return live_busy(&v->live) ? 0 : -1;
}

static bool rules_busy(const struct view *v)
{
	return live_busy(&v->live) || v->live.dump.active || v->live.text_running ||
	       live_counting(&v->live);
}

static void rules_free(struct view *v)
{
	struct rules_view *rv = &v->rules;

	free(rv->rows);
	free(rv->order);
	ruleset_free(&rv->made);
	staged_rows_free(&rv->staged);
}

const struct screen_ops rules_screen = {
	.name = "ruleset",
	.keymap = KM_RULES,
	.enter = rules_enter,
	.key = rules_key,
	.draw = rules_draw,
	.hints = rules_hints,
	.prompt_done = rules_prompt_done,
	.confirmed = rules_confirmed,
	.pollfds = rules_pollfds,
	.step = rules_step,
	.tick = rules_tick,
	.timeout_ms = rules_timeout_ms,
	.busy = rules_busy,
	.free = rules_free,
};
