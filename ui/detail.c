/* detail: one rule whole (r, or Enter on a rule that jumps nowhere) — its
 * text wrapped to the screen (in an iptables-nft table, its iptables-save
 * line too), where it is, its handle, counters and
 * rates, its comment, the named sets it uses and the rules that jump to
 * its chain — or, over the connections screen (Enter), one connection
 * whole: both directions, NAT, and every column. The rule or connection
 * is the main screen's selection; the moving keys scroll, any other key
 * closes it. */
#include "ui/view.h"

#include "conntrack/ct.h"
#include "model/fmt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DETAIL_LINES 256

struct detail_text {
	char line[DETAIL_LINES][256];
	size_t n;
};

static void add(struct detail_text *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add(struct detail_text *d, const char *fmt, ...)
{
	va_list ap;

	if (d->n == DETAIL_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(d->line[d->n++], sizeof(d->line[0]), fmt, ap);
	va_end(ap);
}

/* s wrapped to w columns, each line after an indent */
static void add_wrapped(struct detail_text *d, const char *indent, const char *s, int w)
{
	const char *start[DETAIL_LINES];
	int len[DETAIL_LINES];
	int n = draw_wrap(s, w - (int)strlen(indent), DETAIL_LINES, start, len);

	for (int i = 0; i < n; i++)
		add(d, "%s%.*s", indent, len[i], start[i]);
}

/* A mixed table (model/ruleset.h): what it is, whose this chain is, and
 * whether iptables can show this rule as it is. */
static void add_mixed(struct detail_text *d, const struct nfp_table *t,
		      const struct nfp_chain *c, const struct nfp_rule *r)
{
	char words[1024];

	ruleset_mixed_words(t, words, sizeof(words));
	add(d, "Mixed table:");
	add_wrapped(d, "  ", words, COLS);
	if (c->iptables && t->owner != NFP_OWNER_IPTABLES)
		snprintf(words, sizeof(words), "Chain %s is iptables-nft's: iptables -t %s -S "
			 "shows it, and iptables-save calls the table's other base chains "
			 "incompatible.", c->name, t->name);
	else if (!c->iptables)
		snprintf(words, sizeof(words), "Chain %s is nft's own: iptables does not show "
			 "it; both kinds of base chain run on their hooks, in priority order.",
			 c->name);
	else
		words[0] = 0;
	if (words[0])
		add_wrapped(d, "  ", words, COLS);
	if (r && r->nft_only && c->iptables)
		add_wrapped(d, "  ", "This rule is nft's own (an expression iptables-nft never "
			    "writes): iptables -S and iptables-save do not show it as it is, so "
			    "restoring such a save changes what it does.", COLS);
}

static void build(struct view *v, struct detail_text *d)
{
	const struct staged_row *row = view_selected_row(v);
	const struct nfp_table *t = view_table(v);
	const struct nfp_chain *c = view_chain(v);
	const struct nfp_rule *r = row ? row->r : NULL;
	char a[32], b[32], count[64];
	size_t from = 0;

	d->n = 0;
	if (!row || !t || !c) {
		add(d, "No rule selected.");
		return;
	}
	if (r)
		add(d, "Rule %" PRIu32 " of chain %s, table %s %s", r->position, c->name,
		    ruleset_family_name(t->family), t->name);
	else
		add(d, "A staged rule of chain %s, table %s %s (not in the kernel yet)", c->name,
		    ruleset_family_name(t->family), t->name);
	add(d, "%s", "");
	add_wrapped(d, "  ", row->text ? row->text : "(its text is still loading)", COLS);
	add(d, "%s", "");
	if (r && t->owner == NFP_OWNER_IPTABLES) {
		view_fill_xt(v);
		add(d, "As iptables-save prints it:");
		add_wrapped(d, "  ", r->xt_text ? r->xt_text : "(iptables-save gives it no line)",
			    COLS);
		add(d, "%s", "");
	}
	if (row->mark != ' ')
		add(d, "Staged: %s", row->mark == '+' ? "added" : row->mark == '-' ? "deleted"
				      : row->mark == '*' ? "changed" : "moved");
	if (r) {
		add(d, "Handle:   %" PRIu64, r->handle);
		if (r->has_counter) {
			add(d, "Counter:  %" PRIu64 " packets, %" PRIu64 " bytes", r->packets,
			    r->bytes);
			fmt_human(a, sizeof(a), (uint64_t)(r->rate.pps + 0.5));
			fmt_human(b, sizeof(b), (uint64_t)(r->rate.bps + 0.5));
			add(d, "Rate:     %s packets/s, %s bytes/s", r->rate.nhist ? a : "-",
			    r->rate.nhist ? b : "-");
		} else {
			add(d, "Counter:  none (the rule has no counter statement)");
		}
		if (r->comment) {
			add(d, "Comment:");
			add_wrapped(d, "  ", r->comment, COLS);
		}
	}
	if (t->mixed)
		add_mixed(d, t, c, r);
	for (size_t i = 0; row->text && i < t->nsets; i++)
		if (sets_rule_uses(row->text, t->sets[i].name))
			add(d, "Uses %s %s%s%s (%s)", t->sets[i].is_map ? "map" : "set",
			    t->sets[i].name, t->sets[i].key_type ? ": " : "", t->sets[i].key_type ?: "",
			    sets_count_text(&t->sets[i], count, sizeof(count)));
	for (size_t k = 0; k < t->nchains; k++) {
		const struct nfp_chain *o = &t->chains[k];

		for (size_t i = 0; i < o->nrules; i++)
			if (o->rules[i].target && strcmp(o->rules[i].target, c->name) == 0) {
				if (!from++)
					add(d, "Jumped to from:");
				add(d, "  chain %s, rule %" PRIu32, o->name, o->rules[i].position);
			}
	}
	if (!from)
		add(d, c->base ? "Its chain is a base chain (hook %s): packets enter it there."
			       : "No loaded rule jumps to its chain.",
		    c->base ? ruleset_hook_name(t->family, c->hooknum) ?: "?" : "");
}

/* the connection selected on the connections screen */
static void build_conn(struct view *v, struct detail_text *d)
{
	const struct ct_entry *e = conns_selected(v);
	struct ct_fmt_opts fo = { .exact = true, .now = (double)time(NULL) };
	char a[128], b[128], cell[256];

	d->n = 0;
	if (!e) {
		add(d, "No connection selected (it is gone).");
		return;
	}
	ct_endpoint_format(a, e->family, e->proto, &e->orig.src, e->orig.sport);
	ct_endpoint_format(b, e->family, e->proto, &e->orig.dst, e->orig.dport);
	add(d, "Connection %s %s -> %s", ct_proto_name(e->proto) ?: "?", a, b);
	add(d, "%s", "");
	ct_endpoint_format(a, e->family, e->proto, &e->reply.src, e->reply.sport);
	ct_endpoint_format(b, e->family, e->proto, &e->reply.dst, e->reply.dport);
	add(d, "Reply:    %s -> %s", a, b);
	for (int c = 0; c < CT_COL_N; c++) {
		ct_col_format(cell, sizeof(cell), e, (enum ct_col)c, &fo);
		add(d, "%-9s %s", ct_col_name((enum ct_col)c), cell);
	}
}

static void detail_enter(struct view *v)
{
	v->detail = (struct list){ .text = true };
}

static enum redraw detail_key(struct view *v, enum action act, int key)
{
	(void)key;
	return view_text_key(v, &v->detail, act);
}

static void detail_draw(struct view *v)
{
	static struct detail_text d;
	int h = LINES - 2, y = 1;

	bool conn = v->main == &conns_screen;

	if (conn)
		build_conn(v, &d);
	else
		build(v, &d);
	draw_text(0, 0, COLS, conn ? " connection  (Up/Down scroll, any other key closes)"
			      : " rule  (Up/Down scroll, any other key closes)",
		  v->attr[ROLE_HEADER], true);
	v->detail.n = d.n;
	list_show(&v->detail, (size_t)h);
	for (size_t i = v->detail.sel; i < d.n && y <= h; i++)
		draw_text(y++, 0, COLS, d.line[i], v->attr[i == 0 ? ROLE_TITLE : ROLE_NORMAL], true);
	while (y <= h)
		draw_text(y++, 0, COLS, "", v->attr[ROLE_NORMAL], true);
}

const struct screen_ops detail_screen = {
	.name = "rule",
	.keymap = KM_GENERIC,
	.over = true,
	.enter = detail_enter,
	.key = detail_key,
	.draw = detail_draw,
};
