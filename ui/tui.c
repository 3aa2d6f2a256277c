#define _GNU_SOURCE
#include "ui/tui.h"

#include "ui/driver.h"
#include "ui/view.h"

#include "probation/history.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t got_quit_signal;

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void view_ask(struct view *v, enum action act, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->confirm_msg, sizeof(v->confirm_msg), fmt, ap);
	va_end(ap);
	v->confirm_for = act;
	v->mode = MODE_CONFIRM;
}

void view_status(struct view *v, enum theme_role role, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->status, sizeof(v->status), fmt, ap);
	va_end(ap);
	v->status_role = role;
}

/* ---- what is selected ---- */

const struct nfp_chain *view_chain(const struct view *v, struct live_ref *ref)
{
	const struct tree_row *row;

	if (v->tree_sel >= v->nrows)
		return NULL;
	row = &v->rows[v->tree_sel];
	if (row->c < 0)
		return NULL;
	*ref = (struct live_ref){ row->t, (size_t)row->c };
	return &v->live.rs.tables[row->t].chains[row->c];
}

const struct nfp_rule *view_rules(const struct view *v, size_t *n, bool *loading)
{
	struct live_ref ref;

	if (!view_chain(v, &ref)) {
		*n = 0;
		*loading = false;
		return NULL;
	}
	return live_rules(&v->live, ref, n, loading);
}

const struct vrow *view_selected_row(const struct view *v)
{
	if (v->rule_sel >= v->norder || v->order[v->rule_sel] >= v->nvrows)
		return NULL;
	return &v->vrows[v->order[v->rule_sel]];
}

/* the selected rule of the kernel (NULL on a row a staged edit adds) */
static const struct nfp_rule *selected_rule(const struct view *v)
{
	const struct vrow *row = view_selected_row(v);

	return row ? row->r : NULL;
}

static void save_place(const struct view *v, struct place *p)
{
	const struct nfp_rule *r = selected_rule(v);

	memset(p, 0, sizeof(*p));
	if (v->tree_sel >= v->nrows)
		return;
	const struct tree_row *row = &v->rows[v->tree_sel];
	const struct nfp_table *t = &v->live.rs.tables[row->t];

	p->family = t->family;
	snprintf(p->table, sizeof(p->table), "%s", t->name);
	if (row->c >= 0)
		snprintf(p->chain, sizeof(p->chain), "%s", t->chains[row->c].name);
	p->handle = r ? r->handle : 0;
}

/* ---- derived lists ---- */

static void rebuild_tree(struct view *v)
{
	const struct nfp_ruleset *rs = &v->live.rs;
	size_t n = 0;

	for (size_t t = 0; t < rs->ntables; t++)
		n += 1 + rs->tables[t].nchains;
	free(v->rows);
	v->rows = calloc(n + 1, sizeof(*v->rows));
	v->nrows = 0;
	if (!v->rows)
		return;
	for (size_t t = 0; t < rs->ntables; t++) {
		v->rows[v->nrows++] = (struct tree_row){ t, -1 };
		for (size_t c = 0; c < rs->tables[t].nchains; c++)
			if (!rs->tables[t].chains[c].binding) /* shown in its rule's text */
				v->rows[v->nrows++] = (struct tree_row){ t, (long)c };
	}
	if (v->tree_sel >= v->nrows)
		v->tree_sel = v->nrows ? v->nrows - 1 : 0;
}

static bool rule_matches(const struct nfp_rule *r, const char *pat)
{
	return (r->text && strcasestr(r->text, pat)) ||
	       (r->comment && strcasestr(r->comment, pat));
}

static bool row_matches(const struct vrow *row, const char *pat)
{
	return (row->text && strcasestr(row->text, pat)) ||
	       (row->r && row->r->comment && strcasestr(row->r->comment, pat));
}

static const struct vrow *sort_rows;

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

void view_rebuild(struct view *v)
{
	rebuild_order(v);
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
	size_t n;
	bool loading;
	const struct nfp_rule *rules = view_rules(v, &n, &loading);

	edit_build_rows(v, rules, n);
	n = v->nvrows;
	if (n > v->order_cap) {
		size_t *o = realloc(v->order, n * sizeof(*o));

		if (!o)
			return;
		v->order = o;
		v->order_cap = n;
	}
	v->norder = 0;
	for (size_t i = 0; i < n; i++)
		if (!v->filter[0] || row_matches(&v->vrows[i], v->filter))
			v->order[v->norder++] = i;
	if (v->sorted && v->norder) {
		sort_rows = v->vrows;
		qsort(v->order, v->norder, sizeof(*v->order), cmp_rate);
	}
	if (handle)
		for (size_t k = 0; k < v->norder; k++)
			if (v->vrows[v->order[k]].r && v->vrows[v->order[k]].r->handle == handle) {
				v->rule_sel = k;
				break;
			}
	if (v->rule_sel >= v->norder)
		v->rule_sel = v->norder ? v->norder - 1 : 0;
}

static void focus_selected(struct view *v)
{
	struct live_ref ref;

	if (view_chain(v, &ref))
		live_focus(&v->live, ref);
}

/* Select the tree row of place p (after a reload, or going back). */
static bool goto_place(struct view *v, const struct place *p)
{
	for (size_t r = 0; r < v->nrows; r++) {
		const struct nfp_table *t = &v->live.rs.tables[v->rows[r].t];
		const char *chain = v->rows[r].c >= 0 ? t->chains[v->rows[r].c].name : "";

		if (t->family == p->family && strcmp(t->name, p->table) == 0 &&
		    strcmp(chain, p->chain) == 0) {
			v->tree_sel = r;
			focus_selected(v);
			v->rule_sel = 0;
			v->norder = 0;
			rebuild_order(v);
			for (size_t k = 0; p->handle && k < v->norder; k++) {
				const struct nfp_rule *pr = v->vrows[v->order[k]].r;

				if (pr && pr->handle == p->handle)
					v->rule_sel = k;
			}
			return true;
		}
	}
	return false;
}

static void select_row(struct view *v, size_t r)
{
	if (r >= v->nrows)
		return;
	if (r != v->tree_sel) {
		v->tree_sel = r;
		v->rule_sel = v->rule_top = 0;
		v->norder = 0;
		focus_selected(v);
	}
	rebuild_order(v);
}

/* ---- the refresh timer ---- */

static void arm_timer(int fd, double secs)
{
	struct itimerspec its;

	its.it_value.tv_sec = (time_t)secs;
	its.it_value.tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9);
	its.it_interval = its.it_value;
	timerfd_settime(fd, 0, &its, NULL);
}

static int tick(struct view *v)
{
	uint64_t handles[512];
	size_t n = 0;
	int h = draw_rules_height(v);
	int ret;

	for (size_t k = v->rule_top; k < v->norder && k < v->rule_top + (size_t)h && n < 512; k++)
		if (v->vrows[v->order[k]].r)
			handles[n++] = v->vrows[v->order[k]].r->handle;
	ret = live_tick(&v->live, handles, n, v->sorted, now_mono());
	if (ret < 0)
		view_status(v, ROLE_ERROR, "%s", v->live.err);
	return ret < 0 ? 0 : ret | LIVE_CHANGED;
}

/* ---- actions ---- */

static void move_sel(struct view *v, long delta)
{
	if (v->pane == PANE_TREE) {
		long r = (long)v->tree_sel + delta;

		if (r < 0)
			r = 0;
		if (v->nrows && r >= (long)v->nrows)
			r = (long)v->nrows - 1;
		select_row(v, (size_t)r);
	} else {
		long k = (long)v->rule_sel + delta;

		if (k < 0)
			k = 0;
		if (v->norder && k >= (long)v->norder)
			k = (long)v->norder - 1;
		v->rule_sel = v->norder ? (size_t)k : 0;
	}
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
	struct live_ref ref;
	const struct nfp_rule *r;
	char target[NAME_MAX_LEN];

	if (v->pane == PANE_TREE) {
		if (v->tree_sel < v->nrows && v->rows[v->tree_sel].c < 0)
			move_sel(v, 1);
		else
			v->pane = PANE_RULES;
		return;
	}
	r = selected_rule(v);
	if (!r || !r->text || !jump_target(r->text, target, sizeof(target)) ||
	    !view_chain(v, &ref)) {
		view_status(v, ROLE_DIM, "not a jump or goto rule");
		return;
	}
	struct place here, there;
	const struct nfp_table *t = &v->live.rs.tables[ref.t];

	save_place(v, &here);
	there = (struct place){ .family = t->family };
	snprintf(there.table, sizeof(there.table), "%s", t->name);
	snprintf(there.chain, sizeof(there.chain), "%s", target);
	v->filter[0] = 0;
	if (!goto_place(v, &there)) {
		view_status(v, ROLE_ERROR, "no chain '%s' in table %s", target, t->name);
		return;
	}
	if (v->nback == sizeof(v->back) / sizeof(v->back[0]))
		memmove(v->back, v->back + 1, sizeof(v->back) - sizeof(v->back[0]));
	else
		v->nback++;
	v->back[v->nback - 1] = here;
}

static void act_back(struct view *v)
{
	if (v->nback == 0) {
		v->pane = PANE_TREE;
		return;
	}
	v->filter[0] = 0;
	goto_place(v, &v->back[--v->nback]);
	v->pane = PANE_RULES;
}

/* The rules of a tree row as search sees them: a loaded chain's, or what
 * has arrived of the one loading. */
static long row_rules(const struct view *v, const struct tree_row *tr,
		      const struct nfp_rule **rules)
{
	size_t n = 0;
	bool loading;

	*rules = NULL;
	if (tr->c >= 0)
		*rules = live_rules(&v->live, (struct live_ref){ tr->t, (size_t)tr->c }, &n,
				    &loading);
	return *rules ? (long)n : 0;
}

/* Search: tree rows (table and chain names) and the rules of loaded chains,
 * in tree order, from the selection on, wrapping around. */
static bool search_step(struct view *v, int dir)
{
	const char *pat = v->search;
	size_t nrows = v->nrows;
	long row = (long)v->tree_sel;
	long rule = v->pane == PANE_RULES && selected_rule(v) ?
			    (long)(selected_rule(v)->position - 1) : -1;

	if (!pat[0] || !nrows)
		return false;
	for (size_t steps = 0; steps < 4 * nrows + 1;) {
		const struct tree_row *tr = &v->rows[row];
		const struct nfp_table *t = &v->live.rs.tables[tr->t];
		const struct nfp_chain *c = tr->c >= 0 ? &t->chains[tr->c] : NULL;
		const struct nfp_rule *rules = NULL;
		long nr = row_rules(v, tr, &rules);

		/* advance one position: the row itself (-1), then its rules */
		rule += dir;
		if (rule >= nr || rule < -1) {
			row = (row + dir + (long)nrows) % (long)nrows;
			steps++;
			tr = &v->rows[row];
			t = &v->live.rs.tables[tr->t];
			c = tr->c >= 0 ? &t->chains[tr->c] : NULL;
			nr = row_rules(v, tr, &rules);
			rule = dir > 0 ? -1 : nr - 1;
		}
		bool hit = rule < 0 ? strcasestr(c ? c->name : t->name, pat) != NULL
				    : rule_matches(&rules[rule], pat);
		if (!hit)
			continue;
		select_row(v, (size_t)row);
		if (rule < 0) {
			v->pane = PANE_TREE;
		} else {
			if (v->filter[0] && !rule_matches(&rules[rule], v->filter))
				v->filter[0] = 0;
			rebuild_order(v);
			for (size_t k = 0; k < v->norder; k++)
				if (v->vrows[v->order[k]].r == &rules[rule])
					v->rule_sel = k;
			v->pane = PANE_RULES;
		}
		return true;
	}
	return false;
}

static void act_search(struct view *v, int dir)
{
	if (!v->search[0]) {
		view_status(v, ROLE_DIM, "no search yet: press / first");
		return;
	}
	if (!search_step(v, dir))
		view_status(v, ROLE_WARNING, "'%s' not found", v->search);
}

static void ask_zero(struct view *v, enum action act)
{
	struct live_ref ref;
	const struct nfp_chain *c = view_chain(v, &ref);
	const struct nfp_rule *r = selected_rule(v);
	const struct nfp_table *t;

	if (v->tree_sel >= v->nrows)
		return;
	t = &v->live.rs.tables[v->rows[v->tree_sel].t];
	v->confirm_for = act;
	if (act == ACT_ZERO_TABLE || !c)
		snprintf(v->confirm_msg, sizeof(v->confirm_msg),
			 "Zero the counters of every rule in table %s %s?",
			 ruleset_family_name(t->family), t->name);
	else if (v->pane == PANE_TREE || !r)
		snprintf(v->confirm_msg, sizeof(v->confirm_msg),
			 "Zero the counters of every rule in chain %s?", c->name);
	else if (!r->has_counter) {
		view_status(v, ROLE_WARNING, "rule %u has no counter", r->position);
		return;
	} else
		snprintf(v->confirm_msg, sizeof(v->confirm_msg),
			 "Zero the counters of rule %u (handle %llu) in chain %s?", r->position,
			 (unsigned long long)r->handle, c->name);
	v->mode = MODE_CONFIRM;
}

static void do_zero(struct view *v)
{
	struct live_ref ref;
	const struct nfp_chain *c = view_chain(v, &ref);
	const struct nfp_rule *r = selected_rule(v);
	size_t t = v->rows[v->tree_sel].t;
	char err[256];
	int ret;

	if (v->confirm_for == ACT_ZERO_TABLE || !c)
		ret = live_zero(&v->live, t, NULL, 0, err, sizeof(err));
	else if (v->pane == PANE_TREE || !r)
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

static void change_refresh(struct view *v, int timerfd, int dir)
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
	v->cfg.refresh = refresh_steps[i];
	arm_timer(timerfd, v->cfg.refresh);
	view_status(v, ROLE_NORMAL, "refresh every %.1f s", v->cfg.refresh);
}

static void on_mouse(struct view *v)
{
	MEVENT ev;
	bool in_tree;

	if (getmouse(&ev) != OK || v->mode != MODE_BROWSE)
		return;
	in_tree = v->tree_shown && ev.x < v->tree_w;
	if (ev.bstate & (BUTTON4_PRESSED | BUTTON5_PRESSED)) {
		v->pane = in_tree ? PANE_TREE : PANE_RULES;
		move_sel(v, ev.bstate & BUTTON4_PRESSED ? -3 : 3);
		return;
	}
	if (!(ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON1_RELEASED)))
		return;
	if (in_tree && ev.y >= v->body_top && ev.y < v->body_top + v->body_h) {
		v->pane = PANE_TREE;
		select_row(v, v->tree_top + (size_t)(ev.y - v->body_top));
	} else if (!in_tree && ev.y >= v->body_top + 2 && ev.y < v->body_top + v->body_h) {
		size_t k = v->rule_top + (size_t)(ev.y - v->body_top - 2);

		v->pane = PANE_RULES;
		if (k < v->norder)
			v->rule_sel = k;
	}
}

/* Keys while typing a search or filter pattern. */
static void prompt_key(struct view *v, int key)
{
	size_t n = strlen(v->input);

	if (key == 27) {
		v->mode = MODE_BROWSE;
		v->input_err[0] = 0;
	} else if (key == KEY_UP || key == KEY_DOWN) {
		/* the rule editor's history */
		int pos = v->hist_pos + (key == KEY_UP ? -1 : 1);

		if (pos >= 0 && pos < (int)v->nhistory) {
			v->hist_pos = pos;
			snprintf(v->input, sizeof(v->input), "%s", v->history[pos]);
		}
	} else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		if (v->screen == SCREEN_CONNS) {
			ctv_prompt_done(v);
			return;
		}
		if (v->prompt_for != ACT_FILTER && v->prompt_for != ACT_SEARCH) {
			edit_prompt_done(v);
			return;
		}
		v->mode = MODE_BROWSE;
		if (v->prompt_for == ACT_FILTER) {
			snprintf(v->filter, sizeof(v->filter), "%.*s", (int)sizeof(v->filter) - 1,
				 v->input);
			v->rule_sel = 0;
			rebuild_order(v);
			v->pane = PANE_RULES;
		} else if (n) {
			snprintf(v->search, sizeof(v->search), "%.*s", (int)sizeof(v->search) - 1,
				 v->input);
			act_search(v, 1);
		}
	} else if (key == KEY_BACKSPACE || key == 127 || key == 8) {
		if (n)
			v->input[n - 1] = 0;
	} else if (key >= 32 && key < 256 && key != 127 && n + 1 < sizeof(v->input)) {
		v->input[n] = (char)key;
		v->input[n + 1] = 0;
	}
}

static void browse_key(struct view *v, int key, int timerfd, bool *quit)
{
	int page = v->pane == PANE_TREE ? v->body_h : draw_rules_height(v);

	if (key == KEY_MOUSE) {
		on_mouse(v);
		return;
	}
	switch (keymap_lookup(key)) {
	case ACT_QUIT: *quit = safe_may_quit(v); break;
	case ACT_HELP: v->mode = MODE_HELP; v->help_top = 0; break;
	case ACT_CONFIRM: case ACT_ROLLBACK: case ACT_EXTEND: case ACT_HISTORY: case ACT_SAVE:
		safe_action(v, keymap_lookup(key));
		break;
	case ACT_VIEW_CONNS: ctv_enter(v); break;
	case ACT_CT_OF_RULE: {
		const struct vrow *row = view_selected_row(v);

		if (v->pane != PANE_RULES || !row || !row->text)
			view_status(v, ROLE_DIM, "select a rule first (Tab to the rules)");
		else
			ctv_show_rule(v, row->text);
		break;
	}
	case ACT_VIEW_RULES: case ACT_SORT_NEXT: case ACT_SORT_PREV: case ACT_SORT_REVERSE:
		break;
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		v->live.dirty = true;
		/* the staged edits now stand on what the reload shows */
		if (v->cs.n && nl_genid(&v->live.nl, &v->cs.genid) == 0)
			view_status(v, ROLE_NORMAL, "reloaded: %zu staged edits kept (v lists them)",
				    v->cs.n);
		break;
	case ACT_UP: move_sel(v, -1); break;
	case ACT_DOWN: move_sel(v, 1); break;
	case ACT_PAGE_UP: move_sel(v, -(page > 1 ? page - 1 : 1)); break;
	case ACT_PAGE_DOWN: move_sel(v, page > 1 ? page - 1 : 1); break;
	case ACT_FIRST: move_sel(v, -(long)(v->nrows + v->norder)); break;
	case ACT_LAST: move_sel(v, (long)(v->nrows + v->norder)); break;
	case ACT_PANE:
		v->pane = v->pane == PANE_TREE ? PANE_RULES : PANE_TREE;
		if (!v->tree_shown)
			v->pane = PANE_RULES;
		break;
	case ACT_ENTER: act_enter(v); break;
	case ACT_BACK: act_back(v); break;
	case ACT_TREE:
		v->tree_shown = !v->tree_shown;
		if (!v->tree_shown)
			v->pane = PANE_RULES;
		break;
	case ACT_SEARCH:
	case ACT_FILTER:
		v->mode = MODE_PROMPT;
		v->prompt_for = keymap_lookup(key);
		snprintf(v->input, sizeof(v->input), "%s",
			 v->prompt_for == ACT_FILTER ? v->filter : "");
		break;
	case ACT_SEARCH_NEXT: act_search(v, 1); break;
	case ACT_SEARCH_PREV: act_search(v, -1); break;
	case ACT_SORT:
		v->sorted = !v->sorted;
		rebuild_order(v);
		view_status(v, ROLE_NORMAL, v->sorted ? "sorted by packet rate (# is the real position)"
						 : "real order");
		break;
	case ACT_PAUSE:
		v->paused = !v->paused;
		view_status(v, ROLE_NORMAL, v->paused ? "paused: counters are not refreshed"
						 : "live again");
		break;
	case ACT_FASTER: change_refresh(v, timerfd, -1); break;
	case ACT_SLOWER: change_refresh(v, timerfd, 1); break;
	case ACT_ZERO:
	case ACT_ZERO_TABLE: ask_zero(v, keymap_lookup(key)); break;
	case ACT_INSERT: case ACT_ADD_BELOW: case ACT_APPEND: case ACT_EDIT:
	case ACT_DELETE: case ACT_MARK: case ACT_MOVE_UP: case ACT_MOVE_DOWN:
	case ACT_MOVE_TO: case ACT_POLICY: case ACT_CHAIN_ADD: case ACT_CHAIN_DELETE:
	case ACT_CHAIN_FLUSH: case ACT_TABLE_ADD: case ACT_BLOCK: case ACT_ALLOW_PORT:
	case ACT_COUNTER_DEFAULT: case ACT_UNDO: case ACT_REDO: case ACT_PENDING:
	case ACT_APPLY: case ACT_DISCARD:
		edit_action(v, keymap_lookup(key));
		break;
	case ACT_NONE:
	case ACT_COUNT:
		break;
	}
}

static void on_key(struct view *v, int key, int timerfd, bool *quit)
{
	if (key == KEY_RESIZE)
		return;
	if (COLS < MIN_COLS || LINES < MIN_LINES) {
		if (keymap_lookup(key) == ACT_QUIT)
			*quit = true;
		return;
	}
	v->status[0] = 0;
	switch (v->mode) {
	case MODE_PROMPT:
		prompt_key(v, key);
		break;
	case MODE_CONFIRM:
		v->mode = MODE_BROWSE;
		if (key != 'y' && key != 'Y') {
			v->apply_force = false;
			view_status(v, ROLE_DIM, "cancelled: nothing staged or changed");
		}
		else if (v->confirm_for == ACT_VIEW_CONNS)
			ctv_confirmed(v);
		else if (v->confirm_for == ACT_ZERO || v->confirm_for == ACT_ZERO_TABLE)
			do_zero(v);
		else if (v->confirm_for == ACT_SAVE)
			safe_save_confirmed(v);
		else
			edit_confirmed(v);
		break;
	case MODE_PENDING:
		if (key == KEY_UP || key == 'k')
			v->help_top -= v->help_top > 0;
		else if (key == KEY_DOWN || key == 'j')
			v->help_top += v->help_top + (LINES - 2) < v->scroll_lines;
		else if (keymap_lookup(key) == ACT_APPLY || keymap_lookup(key) == ACT_UNDO ||
			 keymap_lookup(key) == ACT_REDO || keymap_lookup(key) == ACT_DISCARD)
			edit_action(v, keymap_lookup(key));
		else
			v->mode = MODE_BROWSE;
		break;
	case MODE_HISTORY:
		safe_history_key(v, key);
		break;
	case MODE_HELP:
		if (key == KEY_UP || key == 'k')
			v->help_top -= v->help_top > 0;
		else if (key == KEY_DOWN || key == 'j')
			v->help_top += v->help_top + (LINES - 2) < v->scroll_lines;
		else
			v->mode = MODE_BROWSE;
		break;
	case MODE_BROWSE:
		if (v->screen == SCREEN_CONNS)
			ctv_key(v, key, quit);
		else
			browse_key(v, key, timerfd, quit);
		break;
	}
}

/* ---- terminal set-up and the loop ---- */

static void on_crash(int sig)
{
	endwin(); /* give the admin a usable terminal back */
	signal(sig, SIG_DFL);
	raise(sig);
}

static void on_quit_signal(int sig)
{
	(void)sig;
	got_quit_signal = 1;
}

static void install_signals(void)
{
	static const int crash[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_quit_signal; /* no SA_RESTART: poll() wakes up */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_crash;
	for (size_t i = 0; i < sizeof(crash) / sizeof(crash[0]); i++)
		sigaction(crash[i], &sa, NULL);
}

struct warnings {
	char first[512];
	int count;
};

static void collect_warning(void *ctx, const char *msg)
{
	struct warnings *w = ctx;

	if (!w->count++)
		snprintf(w->first, sizeof(w->first), "%s", msg);
}

static bool terminal_gone(void)
{
	char c;
	int fl = fcntl(STDIN_FILENO, F_GETFL);
	ssize_t n;

	fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK);
	n = read(STDIN_FILENO, &c, 1);
	fcntl(STDIN_FILENO, F_SETFL, fl);
	if (n == 1)
		ungetch((unsigned char)c);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
}

static void loop(struct view *v, int timerfd)
{
	bool quit = false, dirty = true;

	while (!quit && !got_quit_signal) {
		struct pollfd pfd[12];
		int n = 0, ready, nlive, nsafe, key;

		if (dirty)
			draw_screen(v);
		/* a test script's next key, once the view is idle (ui/driver.h) */
		key = driver_turn(v, dirty);
		dirty = key != ERR;
		if (dirty)
			on_key(v, key, timerfd, &quit);
		pfd[n++] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = timerfd, .events = POLLIN };
		nlive = live_pollfds(&v->live, pfd + n);
		n += nlive;
		nsafe = safe_pollfds(v, pfd + n);
		n += nsafe;
		n += ctv_pollfds(v, pfd + n);
		n += driver_pollfds(pfd + n);
		ready = poll(pfd, (nfds_t)n, dirty || live_busy(&v->live) ? 0 : safe_timeout_ms(v));
		if (safe_timeout_ms(v) >= 0)
			dirty = true; /* the probation's countdown */
		if (ready > 0 && safe_events(v, pfd + 2 + nlive, nsafe))
			dirty = true;
		if (ctv_step(v))
			dirty = true;
		if (ready < 0 && errno != EINTR)
			break;
		if (ready > 0 && (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL)))
			break; /* the terminal went away */
		/* also after EINTR: a SIGWINCH becomes KEY_RESIZE here */
		if (ready != 0) {
			int keys = 0;

			while (keys < 256 && !got_quit_signal && (key = getch()) != ERR) {
				on_key(v, key, timerfd, &quit);
				dirty = true;
				keys++;
			}
			/* readable yet no key: a hung-up terminal reads EOF or EIO */
			if (!keys && (pfd[0].revents & POLLIN) && terminal_gone())
				break;
		}
		if (ready > 0 && (pfd[1].revents & POLLIN)) {
			uint64_t expirations;

			if (read(timerfd, &expirations, sizeof(expirations)) > 0 && !v->paused)
				v->tick_now = true;
		}
		/* where we are, by identity, while every pointer is still good:
		 * a tick or a step may reload rules or the whole structure */
		struct place here;
		int flags = 0;

		save_place(v, &here);
		if (v->renames && here.handle) {
			/* a revert gave the rules new handles: follow ours */
			uint64_t h = history_renamed(v->renames, here.family, here.table,
						     here.chain, here.handle);

			here.handle = h ? h : here.handle;
		}
		if (v->tick_now && COLS >= MIN_COLS && LINES >= MIN_LINES) {
			flags = tick(v);
			safe_tick(v);
			ctv_tick(v);
		}
		v->tick_now = false;
		int ret = live_step(&v->live);

		if (ret < 0) {
			view_status(v, ROLE_ERROR, "%s", v->live.err);
			dirty = true;
		} else {
			flags |= ret;
		}
		if (flags & LIVE_RELOADED) {
			rebuild_tree(v);
			goto_place(v, &here);
			free(v->renames);
			v->renames = NULL;
			dirty = true;
		} else if (flags & LIVE_CHANGED) {
			rebuild_order_keep(v, here.handle);
			dirty = true;
		}
	}
}

int tui_run(const struct tui_opts *o, char *err, size_t errlen)
{
	struct view *v = calloc(1, sizeof(*v));
	struct warnings warns = { 0 };
	struct theme_spec spec;
	char werr[512];
	const char *theme;
	SCREEN *scr;
	int timerfd, ret;

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		free(v);
		snprintf(err, errlen, "the live view needs a terminal (for scripts: nfpilot list)");
		return -ENOTTY;
	}
	ret = driver_open(err, errlen);
	if (ret) {
		free(v);
		return ret;
	}
	setlocale(LC_ALL, "");
	v->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	config_load(&v->cfg, collect_warning, &warns);
	if (o->timeout_s)
		v->cfg.timeout = o->timeout_s;
	v->netns = o->netns;
	gethostname(v->host, sizeof(v->host) - 1);
	v->tree_shown = true;
	v->pane = PANE_TREE;

	ret = live_open(&v->live, v->cfg.numeric, err, errlen);
	if (ret) {
		driver_close();
		free(v);
		return ret;
	}
	safe_init(v, o->strict);
	theme = theme_no_color() ? "mono" : o->theme ? o->theme : v->cfg.theme;
	if (theme_load(&spec, theme, werr, sizeof(werr)) < 0)
		collect_warning(&warns, werr);

	scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		driver_close();
		live_close(&v->live);
		free(v);
		snprintf(err, errlen, "cannot use terminal type '%s'",
			 getenv("TERM") ? getenv("TERM") : "(unset)");
		return -EINVAL;
	}
	install_signals();
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
	mouseinterval(0);
	if (has_colors() && !theme_no_color()) {
		start_color();
		use_default_colors();
	}
	theme_apply(&spec, has_colors() && !theme_no_color(), v->attr);
	bkgdset(v->attr[ROLE_NORMAL]);
	if (warns.count)
		view_status(v, ROLE_WARNING, "%s%s", warns.first,
		       warns.count > 1 ? " (and more: check the config)" : "");

	rebuild_tree(v);
	/* start on the first base chain, where the traffic is, else on the
	 * first chain */
	size_t start = v->nrows;
	for (size_t r = v->nrows; r-- > 0;) {
		const struct tree_row *row = &v->rows[r];

		if (row->c >= 0 && (v->live.rs.tables[row->t].chains[row->c].base ||
				    start == v->nrows || !v->live.rs.tables[v->rows[start].t]
								.chains[v->rows[start].c].base))
			start = r;
	}
	if (start < v->nrows)
		select_row(v, start);
	focus_selected(v);
	timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	arm_timer(timerfd, v->cfg.refresh);
	loop(v, timerfd);

	endwin();
	delscreen(scr);
	driver_close();
	close(timerfd);
	safe_free(v); /* a probation of ours not confirmed: reverted now */
	ctv_free(v);
	live_close(&v->live);
	edit_free(v);
	free(v->rows);
	free(v->order);
	free(v->vrows);
	free(v);
	return 0;
}
