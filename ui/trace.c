/* trace: the trace screen (key 3) — packets traced live (l: from a rule,
 * a connection or a filter typed; nft/trace.h, its socket in the main
 * loop's poll, read in slices) and answers to why (w: a sandbox,
 * sandbox/sandbox.h, kept for the session), one entry each: its headers in
 * a line, then its path, hook, table, chain, each rule with its handle and
 * text, jumps and returns, NAT, the verdict. Enter on a step shows its rule
 * on the ruleset screen, which marks the rules the entries passed through.
 * A trace is bounded: trace_count packets, trace_seconds, trace_rate a
 * second (the config; as the CLI's defaults). */
#define _GNU_SOURCE
#include "ui/view.h"

#include "check/lockout.h"
#include "conntrack/ct_filter.h"
#include "conntrack/ct_rule.h"
#include "model/fmt.h"
#include "util/grow.h"
#include "util/mono.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRACE_DRAW_EVERY 0.1 /* seconds between redraws of a busy trace */

/* ---- entries and their lines ---- */

static void entry_free(struct trace_entry *e)
{
	trace_packet_free(e->p);
	for (size_t i = 0; i < e->nnotes; i++)
		free(e->notes[i]);
	free(e->notes);
}

static void clear_entries(struct trace_view *tv)
{
	for (size_t i = 0; i < tv->n; i++)
		entry_free(&tv->e[i]);
	tv->n = 0;
	tv->nlines = 0;
	for (size_t i = 0; i < tv->npassed; i++) {
		free(tv->passed[i].table);
		free(tv->passed[i].chain);
	}
	tv->npassed = 0;
	tv->l = (struct list){ 0 };
}

static int add_line(struct trace_view *tv, size_t entry, enum trace_line_kind kind, size_t i)
{
	if (grow(&tv->lines, &tv->lines_cap, tv->nlines + 1, sizeof(*tv->lines), 256))
		return -ENOMEM;
	tv->lines[tv->nlines++] = (struct trace_line){ .entry = entry, .kind = kind, .i = i };
	return 0;
}

static bool passed_in(const struct trace_view *tv, uint32_t family, const char *table,
		     const char *chain, uint64_t handle)
{
	for (size_t i = 0; i < tv->npassed; i++) {
		const struct trace_rule *r = &tv->passed[i];

		if (r->handle == handle && r->family == family && !strcmp(r->table, table) &&
		    !strcmp(r->chain, chain))
			return true;
	}
	return false;
}

static void add_passed(struct trace_view *tv, const struct trace_step *s)
{
	struct trace_rule *r;

	if (s->kind != TRACE_RULE || s->staged >= 0 ||
	    passed_in(tv, s->family, s->table, s->chain, s->handle))
		return;
	if (grow(&tv->passed, &tv->passed_cap, tv->npassed + 1, sizeof(*tv->passed), 16))
		return;
	r = &tv->passed[tv->npassed];
	r->family = s->family;
	r->handle = s->handle;
	r->table = strdup(s->table);
	r->chain = strdup(s->chain);
	if (r->table && r->chain)
		tv->npassed++;
	else
		free(r->table), free(r->chain);
}

/* Select entry k's first line, and show as much of it as fits. */
static void show_entry(struct trace_view *tv, size_t k)
{
	size_t first = tv->nlines, last = 0;

	for (size_t i = 0; i < tv->nlines; i++)
		if (tv->lines[i].entry == k) {
			first = i < first ? i : first;
			last = i;
		}
	if (first == tv->nlines)
		return;
	list_select(&tv->l, first);
	if (tv->l.h && last >= tv->l.top + tv->l.h)
		tv->l.top = last - tv->l.h + 1 > first ? first : last - tv->l.h + 1;
	if (tv->l.top > first)
		tv->l.top = first;
}

/* Entry e is new: its lines and the rules it passed; the selection
 * follows the newest while it is on the last line. */
static int add_entry(struct trace_view *tv, struct trace_entry *e)
{
	bool follow = !tv->l.n || tv->l.sel + 1 >= tv->l.n;
	size_t k = tv->n;
	const struct trace_packet *p = e->p;

	if (grow(&tv->e, &tv->cap, tv->n + 1, sizeof(*tv->e), 64)) {
		entry_free(e);
		return -ENOMEM;
	}
	tv->e[tv->n++] = *e;
	add_line(tv, k, TL_TITLE, 0);
	if (e->how[0])
		add_line(tv, k, TL_HOW, 0);
	for (size_t i = 0; i < p->nsteps; i++) {
		if (p->steps[i].nat)
			add_line(tv, k, TL_NAT, i);
		add_line(tv, k, TL_STEP, i);
		add_passed(tv, &p->steps[i]);
	}
	add_line(tv, k, TL_VERDICT, 0);
	for (size_t i = 0; i < e->nnotes; i++)
		add_line(tv, k, TL_NOTE, i);
	list_count(&tv->l, tv->nlines);
	if (follow)
		show_entry(tv, k);
	return 0;
}

/* Rule text and hooks from the ruleset on screen; tv->missing when a
 * rule's text is not there (yet). */
static void describe(struct trace_view *tv, struct trace_packet *p,
		     const struct nfp_ruleset *rs)
{
	trace_packet_describe(p, rs);
	for (size_t i = 0; i < p->nsteps; i++)
		tv->missing |= p->steps[i].kind == TRACE_RULE && !p->steps[i].text;
}

/* ---- tracing ---- */

/* Our tracing table comes and goes in a transaction of its own: edits
 * staged on the generation before it still stand on what they were
 * staged on, and the sandbox's copy is still the ruleset (the table is
 * never shown nor copied). */
static void own_change(struct view *v, uint32_t before)
{
	uint32_t after;

	if (nl_genid(&v->live.nl, &after) != 0 || after != before + 1)
		return; /* another change came too */
	if (v->cs.n && before == v->cs.genid)
		v->cs.genid = after;
	if (v->trace.sb_open && v->trace.sb_gen == before)
		v->trace.sb_gen = after;
}

static void stop(struct view *v, const char *why)
{
	struct trace_view *tv = &v->trace;
	uint32_t before = 0;

	if (!tv->on)
		return;
	nl_genid(&v->live.nl, &before);
	trace_close(&tv->t);
	own_change(v, before);
	tv->on = false;
	if (why)
		view_status(v, ROLE_NORMAL, "trace ended: %ld packet%s %s", tv->seen,
			    tv->seen == 1 ? "" : "s", why);
}

/* Start tracing what text (the connections filter's words) matches: 0, or
 * -EINVAL with the complaint (and where) in the prompt. */
static int start(struct view *v, const char *text)
{
	struct trace_view *tv = &v->trace;
	struct ct_filter f = { 0 };
	struct ct_filter_pos pos = { 0 };
	char err[1024], **clauses = NULL;
	size_t n = 0;
	bool after_ct = false;
	uint32_t before = 0;
	int ret;

	ret = ct_filter_parse(&f, text, err, sizeof(err), &pos);
	if (!ret) {
		ret = ct_filter_nft(&f, &clauses, &n, &after_ct, err, sizeof(err));
		pos = (struct ct_filter_pos){ 0 };
		ct_filter_free(&f);
	}
	if (ret) {
		view_input_error(v, err, text, pos.off, pos.len);
		return ret;
	}
	stop(v, NULL);
	nl_genid(&v->live.nl, &before);
	ret = trace_open(&tv->t, (const char *const *)clauses, n, after_ct,
			 (unsigned)v->cfg.trace_rate, err, sizeof(err));
	for (size_t i = 0; i < n; i++)
		free(clauses[i]);
	free(clauses);
	if (ret) {
		view_status(v, ROLE_ERROR, "trace: %s", err);
		return 0;
	}
	own_change(v, before);
	clear_entries(tv);
	tv->on = true;
	tv->seen = tv->left_out = 0;
	tv->started = mono_now();
	snprintf(tv->filter, sizeof(tv->filter), "%s", text);
	tv->family = tv->pend_family;
	snprintf(tv->table, sizeof(tv->table), "%s", tv->pend_table);
	snprintf(tv->chain, sizeof(tv->chain), "%s", tv->pend_chain);
	view_status(v, ROLE_NORMAL, "tracing%s (at most %d packets, %d a second, %d s)",
		    after_ct ? " after conntrack" : "", v->cfg.trace_count, v->cfg.trace_rate,
		    v->cfg.trace_seconds);
	return 0;
}

static bool through_chain(const struct trace_view *tv, const struct trace_packet *p)
{
	if (!tv->chain[0])
		return true;
	for (size_t i = 0; i < p->nsteps; i++)
		if (p->steps[i].family == tv->family && !strcmp(p->steps[i].table, tv->table) &&
		    !strcmp(p->steps[i].chain, tv->chain))
			return true;
	return false;
}

/* The prompt for a trace: its filter prefilled; through a chain or not. */
static void ask_trace(struct view *v, const char *filter, uint32_t family, const char *table,
		      const char *chain, const char *note)
{
	struct trace_view *tv = &v->trace;

	tv->pend_family = family;
	snprintf(tv->pend_table, sizeof(tv->pend_table), "%s", table ? table : "");
	snprintf(tv->pend_chain, sizeof(tv->pend_chain), "%s", chain ? chain : "");
	view_show(v, &trace_screen);
	view_prompt(v, ACT_TRACE, filter);
	snprintf(v->input_err, sizeof(v->input_err), "%s", note ? note : "");
}

void trace_of_rule(struct view *v, uint32_t family, const char *table, const char *chain,
		   const char *rule_text)
{
	char filter[256] = "", note[600];
	bool partial = false;
	int n = rule_text ? ct_rule_filter(rule_text, filter, sizeof(filter), &partial) : 0;
	const char *fam = ruleset_family_name(family);

	snprintf(note, sizeof(note), "packets through %s %s %s%s: Enter to trace", fam ? fam : "?",
		 table, chain, !rule_text ? "" : n == 0 ? " (nothing in the rule to pick them by)"
		 : partial ? " matching the rule's addresses, ports, protocol (not the rest)"
		 : " matching the rule");
	ask_trace(v, filter, family, table, chain, note);
}

void trace_of_conn(struct view *v, const struct ct_entry *e)
{
	char filter[512], a[64], b[64], c[64], d[64];
	const char *proto = ct_proto_name(e->proto);
	bool ports = e->proto == IPPROTO_TCP || e->proto == IPPROTO_UDP ||
		     e->proto == IPPROTO_SCTP || e->proto == IPPROTO_UDPLITE;

	ct_addr_format(a, e->family, &e->orig.src);
	ct_addr_format(b, e->family, &e->orig.dst);
	ct_addr_format(c, e->family, &e->reply.src);
	ct_addr_format(d, e->family, &e->reply.dst);
	/* both directions; the reply's addresses are those after NAT */
	if (ports)
		snprintf(filter, sizeof(filter), "proto %s ( src %s sport %u dst %s dport %u or "
			 "src %s sport %u dst %s dport %u )", proto ? proto : "tcp", a,
			 e->orig.sport, b, e->orig.dport, c, e->reply.sport, d, e->reply.dport);
	else if (proto)
		snprintf(filter, sizeof(filter), "proto %s ( src %s dst %s or src %s dst %s )",
			 proto, a, b, c, d);
	else
		snprintf(filter, sizeof(filter), "( src %s dst %s or src %s dst %s )", a, b, c, d);
	ask_trace(v, filter, 0, NULL, NULL, "the connection's packets, both ways: Enter to trace");
}

/* ---- why ---- */

void trace_why(struct view *v, const char *prefill)
{
	view_show(v, &trace_screen);
	view_prompt(v, ACT_WHY, prefill ? prefill : v->trace.question);
	snprintf(v->input_err, sizeof(v->input_err), "%s", packet_grammar);
}

static void close_sandbox(struct trace_view *tv)
{
	if (tv->sb_open)
		sandbox_close(&tv->sb);
	tv->sb_open = false;
}

/* The sandbox as the question needs it: of the ruleset on screen, with
 * the staged edits (staged by differences: check_sandbox). 0 or -errno
 * with err filled. */
static int ready_sandbox(struct view *v, char *err, size_t errlen)
{
	struct trace_view *tv = &v->trace;
	bool was;
	int ret;

	if (tv->sb_open && tv->sb_gen != v->live.rs.genid)
		close_sandbox(tv); /* the ruleset moved on */
	was = tv->sb_open;
	ret = check_sandbox(&tv->sb, &tv->sb_open, &(struct check_change){ .cs = &v->cs }, err,
			    errlen);
	if (tv->sb_open && !was)
		tv->sb_gen = tv->sb.real.genid;
	if (ret && v->cs.n) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "the staged edits, run on the sandbox's copy: %.900s", err);
		snprintf(err, errlen, "%s", msg);
	}
	return ret;
}

struct sandbox *trace_sandbox(struct view *v, char *err, size_t errlen)
{
	return ready_sandbox(v, err, errlen) ? NULL : &v->trace.sb;
}

static char *note_line(const struct sandbox_note *n)
{
	const char *fam = ruleset_family_name(n->family);
	char *s = NULL;
	int r;

	if (!n->table)
		r = asprintf(&s, "  may differ: %s", n->why);
	else if (n->handle)
		r = asprintf(&s, "  may differ: rule %llu of %s %s %s: %s",
			     (unsigned long long)n->handle, fam ? fam : "?", n->table, n->chain, n->why);
	else
		r = asprintf(&s, "  may differ: a new rule of %s %s %s: %s", fam ? fam : "?",
			     n->table, n->chain, n->why);
	return r < 0 ? NULL : s;
}

static void ask_why(struct view *v)
{
	struct trace_view *tv = &v->trace;
	struct trace_entry e = { 0 };
	struct sandbox_answer a;
	struct packet p;
	char err[1024], q[256];
	double t0;
	int ret;

	if ((ret = packet_parse(v->input, &p, err, sizeof(err)))) {
		snprintf(v->input_err, sizeof(v->input_err), "%.1000s", err);
		return; /* the prompt stays open */
	}
	packet_format(&p, q, sizeof(q));
	snprintf(tv->question, sizeof(tv->question), "%s", v->input);
	v->mode = MODE_BROWSE;
	t0 = mono_now();
	ret = ready_sandbox(v, err, sizeof(err));
	if (!ret)
		ret = sandbox_ask(&tv->sb, &p, &a, err, sizeof(err));
	if (!ret && (ret = sandbox_describe(&tv->sb, &a, err, sizeof(err))))
		sandbox_answer_free(&a);
	if (ret) {
		view_status(v, ROLE_ERROR, "why: %s", err);
		return;
	}
	tv->answer_ms = (mono_now() - t0) * 1e3;
	describe(tv, a.packet, &v->live.rs);
	e.p = a.packet;
	a.packet = NULL;
	snprintf(e.title, sizeof(e.title), "why %s", q);
	snprintf(e.how, sizeof(e.how), "  asked in a sandbox: %s%s", a.how,
		 tv->sb.staged ? "; the rules after the staged edits" : "");
	e.notes = calloc(a.nnotes ? a.nnotes : 1, sizeof(*e.notes));
	for (size_t i = 0; e.notes && i < a.nnotes; i++)
		if ((e.notes[e.nnotes] = note_line(&a.notes[i])))
			e.nnotes++;
	sandbox_answer_free(&a);
	if (add_entry(tv, &e) == 0)
		show_entry(tv, tv->n - 1);
	view_status(v, ROLE_NORMAL, "answered in %.1f ms%s", tv->answer_ms,
		    tv->sb.staged ? " (of the ruleset after the staged edits)" : "");
}

/* ---- the screen ---- */

static void trace_prompt_done(struct view *v)
{
	if (v->prompt_for == ACT_WHY) {
		ask_why(v);
		return;
	}
	if (start(v, v->input) == 0) {
		v->mode = MODE_BROWSE;
		v->input_err[0] = 0;
	}
}

/* Enter on a line: the rule of its step (a policy or a return: its
 * chain) on the ruleset screen. */
static void goto_step(struct view *v)
{
	struct trace_view *tv = &v->trace;
	const struct trace_line *ln = tv->l.sel < tv->nlines ? &tv->lines[tv->l.sel] : NULL;
	const struct trace_step *s;
	struct place p = { 0 };

	if (!ln || (ln->kind != TL_STEP && ln->kind != TL_NAT)) {
		view_status(v, ROLE_DIM, "select a step of a path (a rule, a policy) first");
		return;
	}
	s = &tv->e[ln->entry].p->steps[ln->i];
	if (s->kind == TRACE_RULE && s->staged >= 0) {
		view_status(v, ROLE_WARNING, "a rule the staged edits make: it is not in the kernel "
			    "yet (v lists it)");
		return;
	}
	p.family = s->family;
	snprintf(p.table, sizeof(p.table), "%s", s->table);
	snprintf(p.chain, sizeof(p.chain), "%s", s->chain);
	p.handle = s->kind == TRACE_RULE ? s->handle : 0;
	view_show(v, &rules_screen);
	view_go(v, &p);
	if (strcmp(view_chain(v) ? view_chain(v)->name : "", s->chain)) {
		view_status(v, ROLE_WARNING, "%s %s is no longer in the ruleset", s->table, s->chain);
		return;
	}
	v->rules.pane = PANE_RULES;
	if (p.handle && !view_selected_row(v))
		view_status(v, ROLE_WARNING, "rule %llu is no longer in %s %s",
			    (unsigned long long)p.handle, s->table, s->chain);
}

static enum redraw trace_key(struct view *v, enum action act, int key)
{
	struct trace_view *tv = &v->trace;
	MEVENT ev;

	if (key == KEY_MOUSE ? getmouse(&ev) == OK && list_wheel(&tv->l, &ev)
			     : list_action(&tv->l, act))
		return REDRAW_ALL;
	switch (act) {
	case ACT_TRACE:
		ask_trace(v, tv->filter, 0, NULL, NULL, NULL);
		break;
	case ACT_WHY:
		trace_why(v, NULL);
		break;
	case ACT_TRACE_GOTO:
		goto_step(v);
		break;
	case ACT_TRACE_STOP:
		if (tv->on)
			stop(v, "(stopped)");
		else
			view_status(v, ROLE_DIM, "not tracing (l starts a trace)");
		break;
	case ACT_TRACE_CLEAR:
		clear_entries(tv);
		break;
	case ACT_REDRAW:
		clearok(curscr, TRUE);
		break;
	default:
		return REDRAW_NONE;
	}
	return REDRAW_ALL;
}

static int trace_pollfds(struct view *v, struct pollfd *pfd)
{
	if (!v->trace.on)
		return 0;
	pfd[0] = (struct pollfd){ .fd = trace_fd(&v->trace.t), .events = POLLIN };
	return 1;
}

/* What arrived: complete packets become entries (the socket is read a
 * slice at a time: nft/trace.h); the bounds end the trace. */
static enum redraw trace_step_(struct view *v)
{
	struct trace_view *tv = &v->trace;
	struct trace_packet *p;
	enum redraw what = REDRAW_NONE;
	double now = mono_now();
	int ret;

	if (!tv->on)
		return REDRAW_NONE;
	ret = trace_step(&tv->t, now);
	if (ret < 0) {
		view_status(v, ROLE_ERROR, "trace: reading the trace group: %s", strerror(-ret));
		stop(v, NULL);
		return REDRAW_ALL;
	}
	while (tv->seen < v->cfg.trace_count && (p = trace_take(&tv->t))) {
		struct trace_entry e = { .p = p };
		size_t passed = tv->npassed;

		if (!through_chain(tv, p)) {
			tv->left_out++;
			trace_packet_free(p);
			continue;
		}
		describe(tv, p, &v->live.rs);
		snprintf(e.title, sizeof(e.title), "packet %ld", ++tv->seen);
		add_entry(tv, &e);
		/* another screen shows only the marks of the rules passed */
		tv->dirty |= v->scr == &trace_screen || tv->npassed != passed;
	}
	if (tv->seen >= v->cfg.trace_count)
		stop(v, "(its count)");
	else if (now - tv->started >= v->cfg.trace_seconds)
		stop(v, "(its time)");
	if (!tv->on)
		return REDRAW_ALL;
	/* a busy trace is drawn TRACE_DRAW_EVERY apart: the keys come first */
	if (tv->dirty && now - tv->drawn_at >= TRACE_DRAW_EVERY) {
		tv->dirty = false;
		tv->drawn_at = now;
		what = REDRAW_ALL;
	}
	return what;
}

static int trace_timeout_ms(const struct view *v)
{
	const struct trace_view *tv = &v->trace;
	double left = tv->drawn_at + TRACE_DRAW_EVERY - mono_now();

	if (tv->dirty && tv->on)
		return left > 0 ? (int)(left * 1000) + 1 : 0;
	/* packets that go quiet are complete by time; the time limit */
	return tv->on ? 100 : -1;
}

static const char *line_text(const struct view *v, const struct trace_line *ln, char *buf,
			     size_t len)
{
	const struct trace_entry *e = &v->trace.e[ln->entry];
	const struct trace_packet *p = e->p;
	char hdr[512];

	switch (ln->kind) {
	case TL_TITLE:
		/* an answer's headers are its question */
		trace_hdr_format(&p->hdr, hdr, sizeof(hdr));
		snprintf(buf, len, "%s%s%s", e->title, e->how[0] ? "" : "  ", e->how[0] ? "" : hdr);
		break;
	case TL_HOW:
		snprintf(buf, len, "%s", e->how);
		break;
	case TL_NAT:
		snprintf(buf, len, "  nat        %s", p->steps[ln->i].nat);
		break;
	case TL_STEP:
		trace_step_format(&p->steps[ln->i], (long)ln->i == p->decided, buf, len);
		break;
	case TL_VERDICT:
		trace_verdict_format(p, buf, len);
		break;
	case TL_NOTE:
		snprintf(buf, len, "%s", e->notes[ln->i]);
		break;
	}
	return buf;
}

static enum theme_role line_role(const struct view *v, const struct trace_line *ln)
{
	const struct trace_packet *p = v->trace.e[ln->entry].p;

	switch (ln->kind) {
	case TL_TITLE: return ROLE_TITLE;
	case TL_HOW: case TL_NOTE: return ln->kind == TL_NOTE ? ROLE_WARNING : ROLE_DIM;
	case TL_NAT: return ROLE_DIM;
	case TL_STEP:
		if ((long)ln->i != p->decided)
			return ROLE_NORMAL;
		return (p->verdict & NF_VERDICT_MASK) == NF_DROP ? ROLE_RULE_DROP : ROLE_RULE_ACCEPT;
	case TL_VERDICT:
		return (p->verdict & NF_VERDICT_MASK) == NF_DROP ? ROLE_RULE_DROP : ROLE_NORMAL;
	}
	return ROLE_NORMAL;
}

static void trace_draw(struct view *v)
{
	struct trace_view *tv = &v->trace;
	int h = LINES - 3, y = 2;
	char line[16384];

	/* rule text that was not loaded when the packet came: looked for
	 * again after a reload, and at most once a second */
	if ((tv->missing || tv->described_gen != v->live.rs.genid) &&
	    mono_now() - tv->described_at >= 1.0) {
		tv->missing = false;
		for (size_t i = 0; i < tv->n; i++)
			describe(tv, tv->e[i].p, &v->live.rs);
		tv->described_gen = v->live.rs.genid;
		tv->described_at = mono_now();
	}
	if (!draw_banner(v)) {
		char through[600] = "";
		const char *fam = ruleset_family_name(tv->family);

		if (tv->chain[0])
			snprintf(through, sizeof(through), "  through %s %s %s", fam ? fam : "?",
				 tv->table, tv->chain);
		if (tv->on)
			snprintf(line, sizeof(line), " Trace: %s%s  %ld of %d packets, %d a second "
				 "at most, %.0f s left%s", tv->filter[0] ? tv->filter : "every packet",
				 through, tv->seen, v->cfg.trace_count,
				 v->cfg.trace_rate, v->cfg.trace_seconds - (mono_now() - tv->started),
				 tv->t.lost ? "  (trace messages lost)" : "");
		else
			snprintf(line, sizeof(line), " Trace: %zu entr%s%s%s", tv->n,
				 tv->n == 1 ? "y" : "ies", tv->filter[0] ? "; last traced: " : "",
				 tv->filter);
		draw_text(0, 0, COLS, line, v->attr[ROLE_HEADER], true);
	}
	draw_text(1, 0, COLS, tv->chain[0] && tv->left_out
		  ? "  hook       table chain  [handle] rule  -> verdict   (packets not through "
		    "the chain left out)" : "  hook       table chain  [handle] rule  -> verdict",
		  v->attr[ROLE_DIM], true);
	list_show(&tv->l, h > 0 ? (size_t)h : 0);
	for (size_t i = tv->l.top; i < tv->nlines && y < LINES - 1; i++, y++) {
		const struct trace_line *ln = &tv->lines[i];

		draw_text(y, 0, COLS, line_text(v, ln, line, sizeof(line)),
			  v->attr[i == tv->l.sel ? ROLE_SELECTED : line_role(v, ln)], true);
	}
	if (!tv->nlines)
		draw_text(y++, 0, COLS, tv->on ? "  waiting for packets..."
			  : "  nothing traced: l traces packets (from a rule, a connection or a "
			    "filter), w asks why of a packet never sent", v->attr[ROLE_DIM], true);
	for (; y < LINES - 1; y++)
		draw_text(y, 0, COLS, "", v->attr[ROLE_NORMAL], true);
}

static void trace_hints(struct view *v)
{
	static const enum action hints[] = { ACT_TRACE, ACT_WHY, ACT_TRACE_GOTO, ACT_TRACE_STOP,
					     ACT_TRACE_CLEAR, ACT_VIEW_RULES, ACT_HELP };

	draw_key_hints(v, hints, sizeof(hints) / sizeof(hints[0]));
}

static void trace_free(struct view *v)
{
	struct trace_view *tv = &v->trace;

	stop(v, NULL);
	clear_entries(tv);
	free(tv->e);
	free(tv->lines);
	free(tv->passed);
	close_sandbox(tv);
}

bool trace_passed(const struct view *v, uint32_t family, const char *table, const char *chain,
		  uint64_t handle)
{
	return passed_in(&v->trace, family, table, chain, handle);
}

const struct screen_ops trace_screen = {
	.name = "trace",
	.keymap = KM_TRACE,
	.key = trace_key,
	.draw = trace_draw,
	.hints = trace_hints,
	.prompt_done = trace_prompt_done,
	.pollfds = trace_pollfds,
	.step = trace_step_,
	.timeout_ms = trace_timeout_ms,
	.free = trace_free,
};
