/* draw: everything that reaches the terminal. Views supply data; these
 * functions lay it out. Every string from the kernel passes through
 * fmt_sanitize() and is clipped to its cell by display width. */
#define _XOPEN_SOURCE_EXTENDED 1
#include "ui/view.h"

#include "model/fmt.h"
#include "model/print.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

/* Draw s at (y, x) in at most w columns with attribute a, padding with
 * spaces to w when pad. Returns the columns used. */
static int put(int y, int x, int w, const char *s, attr_t a, bool pad)
{
	char safe[4096];
	const char *p = safe;
	mbstate_t st;
	int used = 0;

	if (w <= 0)
		return 0;
	fmt_sanitize(safe, sizeof(safe), s ? s : "");
	memset(&st, 0, sizeof(st));
	attrset(a);
	move(y, x);
	while (*p) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, p, strlen(p), &st);
		int cw;

		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			/* not decodable in this locale: one '?' per byte */
			if (used + 1 > w)
				break;
			addch('?');
			used++;
			p++;
			memset(&st, 0, sizeof(st));
			continue;
		}
		cw = wcwidth(wc);
		if (cw < 0)
			cw = 1;
		if (used + cw > w)
			break;
		addnstr(p, (int)n);
		used += cw;
		p += n;
	}
	if (pad)
		for (; used < w; used++)
			addch(' ');
	return used;
}

int draw_text(int y, int x, int w, const char *s, attr_t a, bool pad)
{
	return put(y, x, w, s, a, pad);
}

static void putf(int y, int x, int w, attr_t a, bool pad, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static void putf(int y, int x, int w, attr_t a, bool pad, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put(y, x, w, buf, a, pad);
}

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

/* ---- header ---- */

/* The probation's countdown over the header line; false when none of
 * ours runs. */
bool draw_banner(struct view *v)
{
	int64_t left;
	char tables[128];

	if (v->prob.fd < 0 || v->prob.outcome != PROB_RUNNING)
		return false;
	/* the one thing that matters while a change is on probation */
	left = (probation_left_ms(&v->prob) + 999) / 1000;
	fmt_sanitize(tables, sizeof(tables), v->prob.tables);
	if (v->prob.strict)
		putf(0, 0, COLS, v->attr[ROLE_WARNING] | A_REVERSE | A_BOLD, true,
		     " PROBATION %lld:%02lld  confirm from a NEW login: nfpilot confirm"
		     "   R revert now  E extend   (%s)", (long long)left / 60,
		     (long long)left % 60, tables);
	else
		putf(0, 0, COLS, v->attr[ROLE_WARNING] | A_REVERSE | A_BOLD, true,
		     " PROBATION %lld:%02lld  Y keep it  R revert now  E extend"
		     "   unconfirmed, %s go%s back", (long long)left / 60,
		     (long long)left % 60, tables, strchr(tables, ',') ? "" : "es");
	return true;
}


static void draw_header(struct view *v)
{
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
	putf(0, 0, COLS, v->attr[ROLE_HEADER], true,
	     " nfpilot  %s  netns %s  gen %" PRIu32 "  every %.1fs  %zu tables %zu chains %zu rules",
	     v->host, v->netns ? v->netns : "(host)", rs->genid, v->cfg.refresh, rs->ntables,
	     nchains, nrules);
	char staged[32] = "";

	if (v->cs.n)
		snprintf(staged, sizeof(staged), "[%zu staged] ", v->cs.n);
	snprintf(right, sizeof(right), "%s%s%s%s%s%s ",
		 v->other_prob ? "[PROBATION of another session: nfpilot status] " : "",
		 staged, v->sorted ? "[sorted by rate] " : "",
		 v->filter[0] ? "[filtered] " : "", v->paused ? "[PAUSED] " : "",
		 v->save_state == SAVE_DIFFERS || v->save_state == SAVE_NOFILE
			 ? "[not saved: lost at reboot]" : "");
	if (strlen(right) > 1 && (int)strlen(right) < COLS)
		put(0, COLS - (int)strlen(right), (int)strlen(right), right,
		    v->attr[ROLE_HEADER] | A_BOLD, false);
}

/* ---- tree ---- */

static void tree_line(struct view *v, const struct tree_row *row, char *buf, size_t size,
		      char *right, size_t rsize, enum theme_role *role)
{
	const struct nfp_table *t = &v->live.rs.tables[row->t];

	if (row->c < 0) {
		snprintf(buf, size, "%s %s", ruleset_family_name(t->family), t->name);
		if (t->owner_name)
			snprintf(right, rsize, "[%s]", t->owner == NFP_OWNER_IPTABLES ? "ipt"
										 : t->owner_name);
		else
			right[0] = 0;
		*role = ROLE_TABLE;
		return;
	}
	const struct nfp_chain *c = &t->chains[row->c];
	char count[16];

	snprintf(buf, size, "  %s", c->name);
	if (c->rules_loaded)
		snprintf(count, sizeof(count), "%zu", c->nrules);
	else
		snprintf(count, sizeof(count), "%s", v->utf8 ? "\u2026" : "..");
	if (c->base)
		snprintf(right, rsize, "%s %s %4s", hook_short(t->family, c),
			 c->policy == NFP_POLICY_NONE ? "" : ruleset_policy_name(c->policy) ?: "?",
			 count);
	else
		snprintf(right, rsize, "%4s", count);
	*role = c->base ? ROLE_BASE_CHAIN : ROLE_CHAIN;
}

static void draw_tree(struct view *v)
{
	int h = v->body_h, w = v->tree_w - 1;

	if (v->tree_sel < v->tree_top)
		v->tree_top = v->tree_sel;
	if (h > 0 && v->tree_sel >= v->tree_top + (size_t)h)
		v->tree_top = v->tree_sel - h + 1;
	for (int i = 0; i < h; i++) {
		size_t r = v->tree_top + i;
		int y = v->body_top + i;

		if (r >= v->nrows) {
			put(y, 0, w, "", v->attr[ROLE_NORMAL], true);
			continue;
		}
		char left[NAME_MAX_LEN + 8], right[64];
		enum theme_role role;
		attr_t a;
		int rw;

		tree_line(v, &v->rows[r], left, sizeof(left), right, sizeof(right), &role);
		a = v->attr[role];
		if (r == v->tree_sel)
			a = v->attr[v->pane == PANE_TREE ? ROLE_SELECTED : ROLE_SELECTED_INACTIVE];
		rw = (int)strlen(right);
		if (rw >= w - 4)
			rw = 0;
		put(y, 0, w - rw, left, a, true);
		if (rw)
			put(y, w - rw, rw, right,
			    r == v->tree_sel ? a : v->attr[v->rows[r].c < 0 ? ROLE_BADGE : ROLE_DIM],
			    true);
	}
	attrset(v->attr[ROLE_BORDER]);
	mvvline(v->body_top, v->tree_w - 1, ACS_VLINE, h);
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
	uint64_t pos = 0, handle = 0;
	struct num_widths w;

	/* every row of the chain, not only those shown: the columns keep
	 * their width while scrolling */
	for (size_t i = 0; i < v->nvrows; i++) {
		const struct nfp_rule *r = v->vrows[i].r;

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
	case COL_NUM: return nw->num > 7 ? nw->num : 7;
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

/* one cell of a rule row; x advances */
static void rule_cell(struct view *v, int y, int *x, int w, const struct col *col,
		      const struct vrow *row, attr_t base, bool selected)
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
			putf(y, *x, col->w, row->mark != ' ' && !selected ? v->attr[ROLE_WARNING]
									   : base, true,
			     "%c%c%*" PRIu32 " ", row->marked ? '>' : ' ', row->mark,
			     col->w - 3, r->position);
		else
			putf(y, *x, col->w, selected ? base : v->attr[ROLE_WARNING], true,
			     " %c%*s ", row->mark, col->w - 3, "new");
		break;
	case COL_PKTS:
	case COL_BYTES:
		if (!row->r) {
			put(y, *x, col->w, "", base, true);
			break;
		}
		if (!r->has_counter) {
			putf(y, *x, col->w, selected ? base : v->attr[ROLE_NO_COUNTER], true,
			     "%*s ", col->w - 1, "-");
			break;
		}
		fmt_human(buf, sizeof(buf), col->id == COL_PKTS ? r->packets : r->bytes);
		putf(y, *x, col->w, moved ? act_a : num_a, true, "%*s ", col->w - 1, buf);
		break;
	case COL_PPS:
	case COL_BPS:
		if (!row->r) {
			put(y, *x, col->w, "", base, true);
			break;
		}
		if (!r->has_counter) {
			putf(y, *x, col->w, selected ? base : v->attr[ROLE_NO_COUNTER], true,
			     "%*s ", col->w - 1, col->id == COL_PPS ? "no" : "ctr");
			break;
		}
		if (r->rate.nhist == 0) {
			putf(y, *x, col->w, base, true, "%*s ", col->w - 1, "");
			break;
		}
		fmt_rate(buf, sizeof(buf), col->id == COL_PPS ? r->rate.pps : r->rate.bps);
		putf(y, *x, col->w, moved ? act_a : (selected ? base : v->attr[ROLE_RATE]), true,
		     "%*s ", col->w - 1, buf);
		break;
	case COL_HISTORY: {
		char spark[3 * RATE_HISTORY + 1];

		rate_spark(&r->rate, (unsigned)(col->w - 1), v->utf8, spark);
		put(y, *x, col->w, r->has_counter ? spark : "",
		    selected ? base : v->attr[ROLE_SPARK], true);
		break;
	}
	case COL_HANDLE:
		if (row->r)
			putf(y, *x, col->w, selected ? base : v->attr[ROLE_DIM], true,
			     "%*" PRIu64 " ", col->w - 1, r->handle);
		else
			put(y, *x, col->w, "", base, true);
		break;
	case COL_RULE: {
		char text[2048];
		struct nfp_rule shown = { .text = (char *)row->text };
		attr_t ta = selected ? base : v->attr[rule_role(&shown)];

		if (row->mark == '-')
			ta = (selected ? base : v->attr[ROLE_DIM]) | A_DIM;
		if (row->text)
			snprintf(text, sizeof(text), "%s", row->text); /* '-' marks it */
		else
			snprintf(text, sizeof(text), "%s", v->utf8 ? "\u2026" : "...");
		if (r->comment && r->compat) {
			size_t n = strlen(text);

			snprintf(text + n, sizeof(text) - n, "  /* %s */", r->comment);
		}
		put(y, *x, w, text, ta, true);
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
	/* drop optional columns from the right until the rule text has room */
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

int draw_rules_height(const struct view *v)
{
	return v->body_h - 2; /* title and column titles */
}

static void draw_chain_title(struct view *v, int x, int w, const struct nfp_table *t,
			     const struct nfp_chain *c, size_t n, bool loading)
{
	char hook[160] = "";

	if (c->base) {
		print_chain_hook(hook, sizeof(hook), t->family, c);
		if (c->policy != NFP_POLICY_NONE) {
			size_t l = strlen(hook);

			snprintf(hook + l, sizeof(hook) - l, ", policy %s",
				 ruleset_policy_name(c->policy) ?: "?");
		}
	}
	putf(v->body_top, x, w, v->attr[ROLE_TITLE], true,
	     " %s %s > %s%s%s%s  %zu rule%s%s%s%s", ruleset_family_name(t->family), t->name,
	     c->name, hook[0] ? "  (" : "", hook, hook[0] ? ")" : "", n, n == 1 ? "" : "s",
	     loading ? "  loading..." : "", v->filter[0] ? "  filter: " : "", v->filter);
}

static void draw_table_summary(struct view *v, int x, int w, const struct nfp_table *t)
{
	int y = v->body_top, end = v->body_top + v->body_h;
	char buf[512];

	putf(y++, x, w, v->attr[ROLE_TITLE], true, " table %s %s  %zu chains  %zu sets",
	     ruleset_family_name(t->family), t->name, t->nchains, t->nsets);
	if (t->owner == NFP_OWNER_IPTABLES)
		put(y++, x, w, " managed by iptables-nft: change its rules with iptables",
		    v->attr[ROLE_WARNING], true);
	else if (t->owner_name)
		putf(y++, x, w, v->attr[ROLE_WARNING], true, " managed by %s", t->owner_name);
	put(y++, x, w, "", v->attr[ROLE_NORMAL], true);
	for (size_t i = 0; i < t->nsets && y < end; i++) {
		const struct nfp_set *s = &t->sets[i];

		snprintf(buf, sizeof(buf), " %s %s  %s  %" PRIu32 " element%s", s->is_map ? "map" : "set",
			 s->name, s->key_type ? s->key_type : "", s->nelems,
			 s->nelems == 1 ? "" : "s");
		put(y++, x, w, buf, v->attr[ROLE_NORMAL], true);
	}
	if (y < end)
		put(y++, x, w, " Enter or Down opens its chains.", v->attr[ROLE_DIM], true);
	while (y < end)
		put(y++, x, w, "", v->attr[ROLE_NORMAL], true);
}

static void draw_rules(struct view *v)
{
	int x = v->tree_w, w = COLS - v->tree_w;
	int h = draw_rules_height(v);
	struct live_ref ref;
	const struct nfp_chain *c = view_chain(v, &ref);
	struct col cols[COL_COUNT];
	size_t ncols, n;
	int rule_w, cx;
	bool loading;

	if (!c) {
		if (v->tree_sel < v->nrows)
			draw_table_summary(v, x, w, &v->live.rs.tables[v->rows[v->tree_sel].t]);
		else
			for (int i = 0; i < v->body_h; i++)
				put(v->body_top + i, x, w, i == 1 ? " no tables: the ruleset is empty" : "",
				    v->attr[ROLE_DIM], true);
		return;
	}
	view_rules(v, &n, &loading);
	draw_chain_title(v, x, w, &v->live.rs.tables[ref.t], c, n, loading);

	ncols = layout_cols(v, cols, w, &rule_w);
	cx = x;
	for (size_t i = 0; i < ncols; i++) {
		int cw = cols[i].id == COL_RULE ? rule_w : cols[i].w;
		bool right = cols[i].id != COL_RULE && cols[i].id != COL_HISTORY;

		if (right)
			putf(v->body_top + 1, cx, cw, v->attr[ROLE_HEADER], true, "%*s ", cw - 1,
			     cols[i].title);
		else
			putf(v->body_top + 1, cx, cw, v->attr[ROLE_HEADER], true, "%s", cols[i].title);
		cx += cw;
	}
	if (cx < COLS)
		put(v->body_top + 1, cx, COLS - cx, "", v->attr[ROLE_HEADER], true);

	if (v->rule_sel < v->rule_top)
		v->rule_top = v->rule_sel;
	if (h > 0 && v->rule_sel >= v->rule_top + (size_t)h)
		v->rule_top = v->rule_sel - h + 1;
	for (int i = 0; i < h; i++) {
		size_t k = v->rule_top + i;
		int y = v->body_top + 2 + i;

		if (k >= v->norder) {
			const char *msg = "";

			if (i == 0 && v->norder == 0)
				msg = loading ? " loading rules..." :
				      v->filter[0] ? " no rule matches the filter" : " no rules";
			put(y, x, w, msg, v->attr[ROLE_DIM], true);
			continue;
		}
		const struct vrow *row = &v->vrows[v->order[k]];
		bool sel = k == v->rule_sel;
		attr_t base = sel ? v->attr[v->pane == PANE_RULES ? ROLE_SELECTED
								  : ROLE_SELECTED_INACTIVE]
				  : v->attr[ROLE_NORMAL];

		cx = x;
		for (size_t j = 0; j < ncols; j++)
			rule_cell(v, y, &cx, rule_w, &cols[j], row, base, sel);
	}
}

/* ---- status line, help, too small ---- */

static const char *prompt_label(enum action a)
{
	switch (a) {
	case ACT_SEARCH: return "Search: ";
	case ACT_FILTER: return "Filter: ";
	case ACT_INSERT: return "Insert rule above: ";
	case ACT_ADD_BELOW: return "Insert rule below: ";
	case ACT_APPEND: return "Append rule: ";
	case ACT_EDIT: return "Edit rule: ";
	case ACT_MOVE_TO: return "Move to position: ";
	case ACT_CHAIN_ADD: return "New chain (NAME [type filter hook input priority 0; policy accept;]): ";
	case ACT_TABLE_ADD: return "New table (FAMILY NAME): ";
	case ACT_BLOCK: return "Block address: ";
	case ACT_ALLOW_PORT: return "Allow port (tcp 8080, udp 53): ";
	default: return "> ";
	}
}

/* The prompt line; when nft refused the input, its message on the line
 * above and the part it points at marked in the input. */
static void draw_prompt(struct view *v, int y)
{
	const char *label = prompt_label(v->prompt_for);
	int x = put(y, 0, COLS, label, v->attr[ROLE_STATUS] | A_BOLD, false);
	size_t from = 0, len = 0;

	if (v->input_err[0]) {
		const char *l2 = strchr(v->input_err, '\n');
		const char *l3 = l2 ? strchr(l2 + 1, '\n') : NULL;

		if (l3) {
			from = strspn(l3 + 1, " ");
			len = strspn(l3 + 1 + from, "^");
		}
		putf(y - 1, 0, COLS, v->attr[ROLE_ERROR], true, "%.*s",
		     (int)strcspn(v->input_err, "\n"), v->input_err);
	}
	if (len && from + len <= strlen(v->input)) {
		char part[1024];

		snprintf(part, sizeof(part), "%.*s", (int)from, v->input);
		x += put(y, x, COLS - x, part, v->attr[ROLE_STATUS], false);
		snprintf(part, sizeof(part), "%.*s", (int)len, v->input + from);
		x += put(y, x, COLS - x, part, v->attr[ROLE_ERROR] | A_UNDERLINE, false);
		put(y, x, COLS - x, v->input + from + len, v->attr[ROLE_STATUS], true);
	} else {
		put(y, x, COLS - x, v->input, v->attr[ROLE_STATUS], true);
	}
}

static void draw_status(struct view *v)
{
	static const enum action hints[] = { ACT_HELP, ACT_SEARCH, ACT_FILTER, ACT_SORT,
					     ACT_PAUSE, ACT_ZERO, ACT_TREE, ACT_QUIT };
	int y = LINES - 1, x = 0;

	if (v->mode == MODE_PROMPT) {
		draw_prompt(v, y);
		return;
	}
	if (v->mode == MODE_CONFIRM) {
		/* a long question is cut, never its [y/N]: 80 columns must show it */
		x = put(y, 0, COLS - 6, v->confirm_msg, v->attr[ROLE_WARNING] | A_BOLD, false);
		put(y, x, COLS - x, " [y/N]", v->attr[ROLE_WARNING] | A_BOLD, true);
		return;
	}
	if (v->status[0]) {
		put(y, 0, COLS, v->status, v->attr[v->status_role], true);
		return;
	}
	if (v->screen == SCREEN_CONNS) {
		put(y, 0, COLS, ctv_hints(v), v->attr[ROLE_STATUS], true);
		return;
	}
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]) && x < COLS - 1; i++) {
		char key[16];
		const struct keybinding *b = &keymap[hints[i]];

		/* prefer the F-key, as htop shows them */
		int k = b->keys[1] >= KEY_F(1) && b->keys[1] <= KEY_F(12) ? b->keys[1] : b->keys[0];

		keymap_key_name(k, key, sizeof(key));
		x += put(y, x, COLS - x, key, v->attr[ROLE_STATUS_KEY], false);
		x += put(y, x, COLS - x, " ", v->attr[ROLE_STATUS], false);
		x += put(y, x, COLS - x, b->name, v->attr[ROLE_STATUS], false);
		x += put(y, x, COLS - x, "  ", v->attr[ROLE_STATUS], false);
	}
	if (x < COLS)
		put(y, x, COLS - x, "", v->attr[ROLE_STATUS], true);
}

static void draw_help(struct view *v)
{
	int h = LINES - 2, y = 1, line = 0;
	const char *group = NULL;

	put(0, 0, COLS, " nfpilot help  (Up/Down scroll, q or Esc closes)", v->attr[ROLE_HEADER],
	    true);
	for (int a = 1; a < ACT_COUNT; a++) {
		char keys[64];

		if (!group || strcmp(group, keymap[a].group) != 0) {
			/* a blank line between groups: a line like any other */
			if (group && line++ >= v->help_top && y <= h)
				put(y++, 0, COLS, "", v->attr[ROLE_NORMAL], true);
			group = keymap[a].group;
			if (line++ >= v->help_top && y <= h)
				put(y++, 0, COLS, group, v->attr[ROLE_TITLE], true);
		}
		if (line++ < v->help_top || y > h)
			continue;
		keymap_keys_text((enum action)a, keys, sizeof(keys));
		put(y, 0, 2, "", v->attr[ROLE_NORMAL], true);
		put(y, 2, 20, keys, v->attr[ROLE_HELP_KEY], true);
		put(y, 22, COLS - 22, keymap[a].help, v->attr[ROLE_NORMAL], true);
		y++;
	}
	const char *notes[] = {
		"",
		"Counters: '-' means the rule has no counter statement; moving counters",
		"are highlighted. Rates are per second over the last refresh.",
		"Mouse: click selects, the wheel scrolls.",
	};
	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++)
		if (line++ >= v->help_top && y <= h)
			put(y++, 0, COLS, notes[i], v->attr[ROLE_DIM], true);
	v->scroll_lines = line;
	while (y <= h)
		put(y++, 0, COLS, "", v->attr[ROLE_NORMAL], true);
	put(LINES - 1, 0, COLS, "", v->attr[ROLE_STATUS], true);
}

void draw_pending(struct view *v)
{
	int y = 1, n = 0;

	putf(0, 0, COLS, v->attr[ROLE_HEADER], true,
	     " Pending changes: %zu edit%s, staged on generation %u   W apply  u undo  U redo  X discard  q close",
	     v->cs.n, v->cs.n == 1 ? "" : "s", v->cs.genid);
	if (!v->cs.n)
		put(y++, 0, COLS, " nothing staged: i, a, A, e, d, K, J, P, c, F... stage edits",
		    v->attr[ROLE_DIM], true);
	for (size_t i = 0; i < v->cs.n; i++) {
		bool stale = edit_is_stale(v, &v->cs.edits[i]);
		char *text = NULL, *line, *save = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&text, &len);

		if (!fp)
			break;
		changeset_print_edit(fp, &v->cs, i);
		fclose(fp);
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (n++ < v->help_top || y >= LINES - 1)
				continue;
			putf(y++, 0, COLS, v->attr[stale ? ROLE_ERROR : ROLE_NORMAL], true,
			     "%3zu %s%s", i + 1, stale ? "! rule gone: " : "", line);
		}
		free(text);
	}
	v->scroll_lines = n + 1;
	while (y < LINES - 1)
		put(y++, 0, COLS, "", v->attr[ROLE_NORMAL], true);
	put(LINES - 1, 0, COLS, v->status[0] ? v->status : "",
	    v->attr[v->status[0] ? v->status_role : ROLE_STATUS], true);
}

void draw_history(struct view *v)
{
	int list_h = (LINES - 2) / 2, y = 1, top;
	char line[600];

	put(0, 0, COLS, " History: changes that ended their probation (newest last)   "
	    "Up/Down select   q close", v->attr[ROLE_HEADER], true);
	if (!v->nhent)
		put(y++, 0, COLS, " nothing recorded yet: changes applied with W appear here once "
		    "confirmed or reverted", v->attr[ROLE_DIM], true);
	top = (int)v->hent_sel - list_h + 1;
	if (top < 0)
		top = 0;
	for (size_t i = (size_t)top; i < v->nhent && y <= list_h; i++) {
		const struct history_entry *e = &v->hent[i];
		char when[32], raw[900];
		struct tm tm;
		time_t t = e->when;

		localtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(raw, sizeof(raw), "%5d  %s  %-13s %-12.12s %-15.15s %.300s", e->n, when,
			 e->outcome, e->user, e->from, e->tables);
		fmt_sanitize(line, sizeof(line), raw);
		put(y++, 0, COLS, line, v->attr[i == v->hent_sel ? ROLE_SELECTED
					: strcmp(e->outcome, "confirmed") ? ROLE_WARNING : ROLE_NORMAL],
		    true);
	}
	while (y <= list_h)
		put(y++, 0, COLS, "", v->attr[ROLE_NORMAL], true);
	if (v->nhent) {
		const struct history_entry *e = &v->hent[v->hent_sel];
		char raw[600];
		const char *p = v->hent_change;

		snprintf(raw, sizeof(raw), " change %d: %s — %s", e->n, e->what, e->reason);
		fmt_sanitize(line, sizeof(line), raw);
		put(y++, 0, COLS, line, v->attr[ROLE_TITLE], true);
		while (p && *p && y < LINES - 1) {
			size_t n = strcspn(p, "\n");

			snprintf(raw, sizeof(raw), "  %.*s", (int)n, p);
			fmt_sanitize(line, sizeof(line), raw);
			put(y++, 0, COLS, line, v->attr[ROLE_NORMAL], true);
			p += n + (p[n] == '\n');
		}
	}
	while (y < LINES - 1)
		put(y++, 0, COLS, "", v->attr[ROLE_NORMAL], true);
	put(LINES - 1, 0, COLS, v->status[0] ? v->status
	    : " nfpilot history show N --before/--after prints the tables; nfpilot restore N puts "
	      "them back", v->attr[v->status[0] ? v->status_role : ROLE_STATUS], true);
}

static void draw_too_small(struct view *v)
{
	erase();
	putf(0, 0, COLS, v->attr[ROLE_WARNING], false, "Terminal too small (%dx%d).", COLS,
	     LINES);
	if (LINES > 1)
		putf(1, 0, COLS, v->attr[ROLE_NORMAL], false, "nfpilot needs %dx%d.", MIN_COLS,
		     MIN_LINES);
	if (LINES > 2)
		put(2, 0, COLS, "Enlarge it, or q to quit.", v->attr[ROLE_NORMAL], false);
}

void draw_screen(struct view *v)
{
	if (COLS < MIN_COLS || LINES < MIN_LINES) {
		draw_too_small(v);
		refresh();
		return;
	}
	if (v->mode == MODE_HELP) {
		draw_help(v);
		refresh();
		return;
	}
	if (v->mode == MODE_HISTORY) {
		draw_history(v);
		refresh();
		return;
	}
	if (v->mode == MODE_PENDING) {
		draw_pending(v);
		refresh();
		return;
	}
	if (v->screen == SCREEN_CONNS) {
		ctv_draw(v);
		draw_status(v);
		refresh();
		return;
	}
	v->tree_w = v->tree_shown ? (COLS / 4 < 34 ? (COLS / 4 > 22 ? COLS / 4 : 22) : 34) : 0;
	v->body_top = 1;
	v->body_h = LINES - 2;
	draw_header(v);
	if (v->tree_shown)
		draw_tree(v);
	draw_rules(v);
	draw_status(v);
	refresh();
}
